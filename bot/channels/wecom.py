"""The WeCom (企业微信) self-built app channel: `GET/POST /wecom`, always encrypted.

Same order of checks as `/wechat`; WeCom signs the encrypted payload (`msg_signature`), so the
outer envelope is parsed — DTDs and entities refused — before the signature can be checked,
and nothing inside it is read until the signature holds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse, Response

from bot.app import App
from bot.channels.wechat_callback import CallbackRunner, refuse, success
from bot.channels.wechat_outbound import wecom_sender
from bot.channels.wechat_protocol import (
    Rejected,
    aes_key,
    check_signature,
    check_timestamp,
    decrypt,
    encrypt_reply,
    open_envelope,
    text_reply_xml,
    to_inbound,
)

log = logging.getLogger(__name__)

ReadBody = Callable[[Request], Awaitable[bytes]]


class WeComCallback:
    """The WeCom app's 接收消息 URL: verification (GET, encrypted echostr) and messages (POST)."""

    channel = "wecom"

    def __init__(self, app: App, read_body: ReadBody) -> None:
        settings = app.settings
        if not (settings.wecom_token and settings.wecom_encoding_aes_key and settings.wecom_corp_id):
            raise ValueError("WECOM_TOKEN, WECOM_ENCODING_AES_KEY and WECOM_CORP_ID are needed")
        self.token = settings.wecom_token.get_secret_value()
        self.key = aes_key(settings.wecom_encoding_aes_key.get_secret_value())
        self.corp_id = settings.wecom_corp_id
        self.clock = app.deps.clock
        self.read_body = read_body
        self.runner = CallbackRunner(app, wecom_sender(settings, app.engine, self.clock),
                                     settings.wechat_reply_deadline)

    async def verify(self, request: Request) -> Response:
        """Answer WeCom's URL check: decrypt `echostr` and echo the plain text."""
        query = request.query_params
        timestamp, nonce, echostr = (query.get("timestamp", ""), query.get("nonce", ""),
                                     query.get("echostr", ""))
        try:
            check_timestamp(timestamp, self.clock.now())
            check_signature(query.get("msg_signature"), self.token, timestamp, nonce, echostr)
            plain = decrypt(self.key, echostr, self.corp_id, corp=True)
        except Rejected as exc:
            return refuse(request, exc)
        return PlainTextResponse(plain)

    async def receive(self, request: Request) -> Response:
        """Take one message or event and answer with the encrypted passive reply (or `success`)."""
        body = await self.read_body(request)
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        try:
            check_timestamp(timestamp, self.clock.now())
            msg = open_envelope(body, self.token, self.key, self.corp_id,
                                query.get("msg_signature"), timestamp, nonce, corp=True)
            now = self.clock.now()
            inbound = to_inbound(self.channel, msg, now)
        except Rejected as exc:
            return refuse(request, exc)
        if inbound is None:
            return success()
        parts = await self.runner.answer(inbound)
        if not parts:
            return success()
        xml = text_reply_xml(inbound.external_id, self.corp_id, parts[0], int(now.timestamp()))
        reply = encrypt_reply(self.key, self.token, self.corp_id, xml, nonce, timestamp, corp=True)
        rest = BackgroundTask(self.runner.push_rest, inbound, parts[1:]) if len(parts) > 1 else None
        return Response(reply, media_type="application/xml", background=rest)


def mount(web: FastAPI, app: App, read_body: ReadBody) -> None:
    """Add `/wecom` when WECOM_TOKEN, WECOM_ENCODING_AES_KEY and WECOM_CORP_ID are set."""
    s = app.settings
    if not (s.wecom_token and s.wecom_token.get_secret_value() and s.wecom_encoding_aes_key
            and s.wecom_encoding_aes_key.get_secret_value() and s.wecom_corp_id):
        return
    callback = WeComCallback(app, read_body)
    web.add_api_route("/wecom", callback.verify, methods=["GET"], include_in_schema=False)
    web.add_api_route("/wecom", callback.receive, methods=["POST"], include_in_schema=False)
    web.state.wecom = callback
    log.info("WeCom app callback at /wecom")
