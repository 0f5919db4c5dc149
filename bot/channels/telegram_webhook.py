"""`POST /telegram` inside our web app: PTB's custom-webhook pattern with `updater(None)`.

The secret header is checked before the body is read; the update is processed inline, so the
200 goes out only after the core committed and the replies were sent. A crash before that makes
Telegram deliver the update again, and the inbox turns the repeat into a replay.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from telegram import Update

from bot.app import App
from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def mount(web: FastAPI, app: App) -> None:
    """Add `POST /telegram` and the bot's start/stop to `web`, when a bot token is set."""
    if app.settings.telegram_bot_token is None:
        return
    # Imported here, not at the top: bot.web imports this module to register `mount`.
    from bot.web import read_capped

    channel = TelegramChannel(app, webhook=True)
    web.state.telegram = channel
    secret = app.settings.telegram_webhook_secret
    # An empty secret would let a request without the header through: treat it as unset.
    expected = secret.get_secret_value().encode() if secret else None
    if not expected:
        log.warning("TELEGRAM_WEBHOOK_SECRET is not set: POST /telegram refuses every update")

    @asynccontextmanager
    async def lifespan(_web: FastAPI) -> AsyncIterator[None]:
        try:
            await channel.ensure_started()
        except Exception:
            # Keep the other channels serving; the first webhook call tries again.
            log.exception("Telegram did not start; retrying on the next update")
        try:
            yield
        finally:
            await channel.stop()

    router = APIRouter(lifespan=lifespan)

    @router.post("/telegram")
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: wrong or missing secret token from %s",
                        request.client.host if request.client else "?")
            return Response("forbidden", status_code=403)
        body = await read_capped(request)  # BodyTooLarge → 413 (bot.web)
        try:
            data = json.loads(body)
            update = Update.de_json(data, channel.application.bot) if isinstance(data, dict) else None
        except Exception as exc:  # any shape PTB cannot read is the sender's mistake: 400
            log.warning("telegram webhook: unreadable update (%s: %s)", type(exc).__name__, exc)
            update = None
        if update is None:
            return Response("bad update", status_code=400)
        try:
            await channel.ensure_started()
        except Exception:
            log.exception("telegram webhook: the bot cannot start; Telegram will retry")
            return Response("unavailable", status_code=503)
        await channel.process(update)
        return Response(status_code=200)

    web.include_router(router)
