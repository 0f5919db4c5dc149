"""Operator commands for WeChat and WeCom: `jixing wechat menu`, `jixing wechat qrcode`."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from bot.clock import SystemClock
from bot.config import Settings
from bot.db import make_engine

wechat_app = typer.Typer(help="WeChat Official Account (公众号) and WeCom (企业微信) app.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `wechat` commands to the main CLI."""
    app.add_typer(wechat_app, name="wechat")


@wechat_app.command("menu")
def menu(
    wecom: Annotated[bool, typer.Option("--wecom", help="push to the WeCom app instead")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the menu JSON only")] = False,
) -> None:
    """Push the menu (学习 / 排行 / 我的: 我的记录, 积分商城, 使用帮助) to the Official Account."""
    from wechatpy.exceptions import WeChatClientException

    from bot.channels.wechat_menu import menu_json
    from bot.channels.wechat_outbound import TokenUnavailable, wechat_client, wecom_client

    data = menu_json()
    if dry_run:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    logging.basicConfig(level=logging.WARNING)
    s = Settings()
    engine = make_engine(s.database_url)
    try:
        if wecom:
            client = wecom_client(s, engine, SystemClock())
            if client is None or not s.wecom_agent_id:
                typer.echo("WECOM_CORP_ID, WECOM_SECRET and WECOM_AGENT_ID must be set")
                raise typer.Exit(2)
            client.menu.create(s.wecom_agent_id, data)
        else:
            wx = wechat_client(s, engine, SystemClock())
            if wx is None:
                typer.echo("WECHAT_APP_ID and WECHAT_APP_SECRET must be set")
                raise typer.Exit(2)
            wx.menu.create(data)
    except (WeChatClientException, TokenUnavailable) as exc:
        typer.echo(f"menu not pushed: {exc}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo("menu pushed: " + " / ".join(b["name"] for b in data["button"]))


@wechat_app.command("qrcode")
def qrcode(invite: Annotated[str, typer.Argument(help="the enterprise's invite code")]) -> None:
    """Create the enterprise's permanent follow QR code (scene `INVITE`) and print its image URL."""
    from wechatpy.client.api import WeChatQRCode
    from wechatpy.exceptions import WeChatClientException

    from bot.channels.wechat_outbound import TokenUnavailable, wechat_client

    s = Settings()
    engine = make_engine(s.database_url)
    try:
        client = wechat_client(s, engine, SystemClock())
        if client is None:
            typer.echo("WECHAT_APP_ID and WECHAT_APP_SECRET must be set")
            raise typer.Exit(2)
        # Following through it sends `subscribe` with EventKey qrscene_INVITE (SCAN: INVITE).
        result = client.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {
            "scene": {"scene_str": invite.strip().upper()}}})
    except (WeChatClientException, TokenUnavailable) as exc:
        typer.echo(f"QR code not created: {exc}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(WeChatQRCode.get_url(result["ticket"]))
