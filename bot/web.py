"""The ASGI app behind `jixing serve`: each channel mounts its webhook routes here."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from bot.app import App
from bot.db import ping

log = logging.getLogger(__name__)

# The largest body any webhook accepts; WeChat's own messages are a few KiB.
MAX_BODY = 64 * 1024


class BodyTooLarge(Exception):
    """The request body passed `MAX_BODY`."""


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """Read the body, stopping as soon as it passes `limit` (never buffer a 10 MB upload)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_web_app(app: App) -> FastAPI:
    """Build the web app for `app`; channels whose settings are present mount their routes."""
    web = FastAPI(title="技行 Jixing", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.jixing = app

    @web.exception_handler(BodyTooLarge)
    async def _too_large(_request: Request, _exc: BodyTooLarge) -> PlainTextResponse:
        return PlainTextResponse("request body too large", status_code=413)

    @web.get("/healthz")
    async def healthz() -> JSONResponse:
        ok = await run_in_threadpool(ping, app.engine)
        return JSONResponse({"ok": ok}, status_code=200 if ok else 503)

    for mount in CHANNEL_MOUNTS:
        mount(web, app)
    return web


# Each channel module contributes `mount(web, app)`; they register themselves in this list.
CHANNEL_MOUNTS: list = []

# Registered at the bottom: the channel modules import `read_capped` from here, lazily.
from bot.channels.telegram_webhook import mount as mount_telegram  # noqa: E402
from bot.channels.wechat import mount as mount_wechat  # noqa: E402  (/wechat and /wecom)

CHANNEL_MOUNTS.append(mount_telegram)
CHANNEL_MOUNTS.append(mount_wechat)
