"""Telegram commands: `jixing telegram` (long polling) and `jixing telegram webhook set|delete`."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from bot.config import Settings

telegram_app = typer.Typer(
    help="Telegram long polling (no subcommand), or the webhook set-up for `jixing serve`.",
    invoke_without_command=True)
webhook_app = typer.Typer(help="Point Telegram at our webhook, or remove it.", no_args_is_help=True)
telegram_app.add_typer(webhook_app, name="webhook")


def register(app: typer.Typer) -> None:
    """Add the `telegram` commands to the main CLI."""
    app.add_typer(telegram_app, name="telegram")


@telegram_app.callback()
def telegram(ctx: typer.Context) -> None:
    """Run Telegram long polling (development and small deployments)."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.app import build_app
    from bot.channels.telegram import TelegramChannel

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    if settings.telegram_bot_token is None:
        typer.echo("TELEGRAM_BOT_TOKEN is not set (create a bot with @BotFather, see README)")
        raise typer.Exit(2)
    TelegramChannel(build_app(settings)).run_polling()


@webhook_app.command("set")
def webhook_set(
    url: Annotated[str, typer.Argument(help="public HTTPS URL of POST /telegram")],
    drop_pending: Annotated[bool, typer.Option(help="discard updates waiting at Telegram")] = False,
) -> None:
    """Register URL as the webhook, with TELEGRAM_WEBHOOK_SECRET as its secret token."""
    from bot.channels.telegram import set_webhook

    try:
        asyncio.run(set_webhook(Settings(), url, drop_pending=drop_pending))
    except ValueError as exc:
        typer.echo(str(exc))
        raise typer.Exit(2) from None
    typer.echo(f"webhook set: {url}")


@webhook_app.command("delete")
def webhook_delete() -> None:
    """Remove the webhook (needed before `jixing telegram` can poll again)."""
    from bot.channels.telegram import delete_webhook

    try:
        asyncio.run(delete_webhook(Settings()))
    except ValueError as exc:
        typer.echo(str(exc))
        raise typer.Exit(2) from None
    typer.echo("webhook deleted")
