"""The WeChat Official Account (公众号) channel: `GET/POST /wechat`, plain and safe (AES) mode.

Order of checks on every POST, none of which writes anything: body ≤ 64 KiB (413), timestamp
within ±5 min and signature (403), XML without DTD or entities (400), then, in safe mode, the
`msg_signature` over the encrypted payload (403) and its decryption (400). Only then does the
message reach the core, translated to an `Inbound` whose dedupe key is the same on every retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse, Response

from bot.app import App
from bot.channels import wecom
from bot.channels.wechat_callback import CallbackRunner, refuse, success
from bot.channels.wechat_outbound import wechat_sender
from bot.channels.wechat_protocol import (
    Rejected,
    aes_key,
    check_signature,
    check_timestamp,
    encrypt_reply,
    open_envelope,
    parse_xml,
    text_reply_xml,
    to_inbound,
)

log = logging.getLogger(__name__)

ReadBody = Callable[[Request], Awaitable[bytes]]


class WeChatCallback:
    """The Official Account's server URL: verification (GET) and messages (POST)."""

    channel = "wechat"

    def __init__(self, app: App, read_body: ReadBody) -> None:
        settings = app.settings
        if settings.wechat_token is None:
            raise ValueError("WECHAT_TOKEN is needed")
        self.token = settings.wechat_token.get_secret_value()
        self.app_id = settings.wechat_app_id or ""
        encoding_key = settings.wechat_encoding_aes_key
        self.key = aes_key(encoding_key.get_secret_value()) if encoding_key and \
            encoding_key.get_secret_value() else None
        self.clock = app.deps.clock
        self.read_body = read_body
        self.runner = CallbackRunner(app, wechat_sender(settings, app.engine, self.clock),
                                     settings.wechat_reply_deadline)

    def _check(self, request: Request) -> tuple[str, str]:
        """Check timestamp and signature (403); return the timestamp and nonce."""
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        check_timestamp(timestamp, self.clock.now())
        check_signature(query.get("signature"), self.token, timestamp, nonce)
        return timestamp, nonce

    async def verify(self, request: Request) -> Response:
        """Answer WeChat's URL check: echo `echostr` when the signature is right."""
        try:
            self._check(request)
        except Rejected as exc:
            return refuse(request, exc)
        return PlainTextResponse(request.query_params.get("echostr", ""))

    async def receive(self, request: Request) -> Response:
        """Take one message or event and answer with the passive reply (or `success`)."""
        body = await self.read_body(request)  # BodyTooLarge → 413 before anything else
        try:
            timestamp, nonce = self._check(request)
            safe_mode = request.query_params.get("encrypt_type", "").lower() == "aes"
            if safe_mode:
                if self.key is None or not self.app_id:
                    raise Rejected(400, "AES message but WECHAT_ENCODING_AES_KEY/APP_ID unset")
                msg = open_envelope(body, self.token, self.key, self.app_id,
                                    request.query_params.get("msg_signature"), timestamp, nonce)
            else:
                msg = parse_xml(body)
            now = self.clock.now()
            inbound = to_inbound(self.channel, msg, now)
        except Rejected as exc:
            return refuse(request, exc)
        if inbound is None:
            return success()
        parts = await self.runner.answer(inbound)
        if not parts:
            return success()
        xml = text_reply_xml(inbound.external_id, msg.get("ToUserName", ""), parts[0],
                             int(now.timestamp()))
        if safe_mode:
            assert self.key is not None
            xml = encrypt_reply(self.key, self.token, self.app_id, xml, nonce, timestamp)
        # What does not fit in 2048 bytes follows as customer-service messages, sent after
        # the response so the worker sees the parts in order.
        rest = BackgroundTask(self.runner.push_rest, inbound, parts[1:]) if len(parts) > 1 else None
        return Response(xml, media_type="application/xml", background=rest)


def mount(web: FastAPI, app: App) -> None:
    """Add `/wechat` (with WECHAT_TOKEN) and `/wecom` (with the WeCom settings) to the web app."""
    from bot.web import read_capped  # here, not at import: bot.web imports this module

    if app.settings.wechat_token and app.settings.wechat_token.get_secret_value():
        callback = WeChatCallback(app, read_capped)
        web.add_api_route("/wechat", callback.verify, methods=["GET"], include_in_schema=False)
        web.add_api_route("/wechat", callback.receive, methods=["POST"], include_in_schema=False)
        web.state.wechat = callback
        log.info("WeChat Official Account callback at /wechat (%s mode)",
                 "safe" if callback.key else "plain")
    wecom.mount(web, app, read_capped)
