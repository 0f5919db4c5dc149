"""Stand-ins for WeChat's side: its API on 127.0.0.1 and its servers signing callbacks.

`FakeWeChatApi` answers the few API calls the bot makes (token, customer-service, template,
menu, qrcode; WeCom gettoken and message/send) the way the real API does, including 40001
for a revoked token. `WeChatPeer` / `WeComPeer` build and sign callback XML — plain or
AES-encrypted with wechatpy's own `WeChatCrypto` — and POST it to the app.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from base64 import b64decode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import PrpCrypto as CorpPrpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as CorpCrypto

from bot.channels.wechat_protocol import parse_xml, signature
from bot.clock import Clock

TOKEN = "jixing-test-token"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "app-secret-for-tests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ACCOUNT = "gh_0123456789ab"  # the Official Account's own id (ToUserName)
CORP_ID = "ww1234567890abcdef"
CORP_SECRET = "corp-secret-for-tests"
AGENT_ID = "1000002"
WECOM_TOKEN = "jixing-wecom-token"
WECOM_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


# --- the API -------------------------------------------------------------------------------------


@dataclass
class FakeWeChatApi:
    """In-memory state of the fake API; the HTTP server thread reads and writes it under a lock."""

    base_url: str = ""
    token_fetches: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)  # every message accepted
    calls: list[str] = field(default_factory=list)  # every path called
    fail_next: list[int] = field(default_factory=list)  # errcodes to answer the next sends with
    token_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_tokens(self) -> None:
        """Make every issued token invalid (as another app fetching a new one would)."""
        with self.lock:
            self.valid_tokens.clear()

    def texts(self, kind: str | None = None) -> list[str]:
        """Return the text of every accepted message, optionally of one kind."""
        return [s["text"] for s in self.sent if kind is None or s["kind"] == kind]

    # Each handler returns the JSON answer for one call.
    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
               ) -> dict[str, Any]:
        """Answer one API call."""
        with self.lock:
            self.calls.append(path)
        if path in ("/cgi-bin/token", "/cgi-bin/gettoken"):
            ok = (query.get("appid") == APP_ID and query.get("secret") == APP_SECRET) or (
                query.get("corpid") == CORP_ID and query.get("corpsecret") == CORP_SECRET)
            if not ok:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            if self.token_delay:
                time.sleep(self.token_delay)
            with self.lock:
                self.token_fetches += 1
                token = f"TOKEN-{self.token_fetches}"
                self.valid_tokens.add(token)
            return {"access_token": token, "expires_in": 7200}
        with self.lock:
            if query.get("access_token") not in self.valid_tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            if self.fail_next:
                code = self.fail_next.pop(0)
                return {"errcode": code, "errmsg": f"injected {code}"}
            if path == "/cgi-bin/message/custom/send":
                self.sent.append({"kind": "custom", "to": body["touser"],
                                  "text": body["text"]["content"]})
            elif path == "/cgi-bin/message/template/send":
                self.sent.append({"kind": "template", "to": body["touser"],
                                  "text": body["data"]["content"]["value"],
                                  "template_id": body["template_id"]})
            elif path == "/cgi-bin/message/send":
                self.sent.append({"kind": "app", "to": body["touser"],
                                  "text": body["text"]["content"], "agentid": body["agentid"]})
            elif path == "/cgi-bin/menu/create":
                self.sent.append({"kind": "menu", "to": query.get("agentid", ""), "text": "",
                                  "menu": body})
            elif path == "/cgi-bin/qrcode/create":
                return {"ticket": "TICKET-" + body["action_info"]["scene"]["scene_str"],
                        "expire_seconds": 0}
            else:
                return {"errcode": 404, "errmsg": f"no such fake endpoint {method} {path}"}
        return {"errcode": 0, "errmsg": "ok"}


@contextmanager
def running_fake_api() -> Iterator[FakeWeChatApi]:
    """Serve a `FakeWeChatApi` on 127.0.0.1 for the duration of the block."""
    api = FakeWeChatApi()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw.decode("utf-8")) if raw else {}
            payload = json.dumps(api.handle(self.command, parts.path, query, body),
                                 ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the callbacks ---------------------------------------------------------------------------------


def nonce() -> str:
    """Return a random nonce like WeChat's."""
    return "".join(random.choices(string.digits, k=10))


def message_xml(sender: str, msg_type: str, create_time: int, to: str = ACCOUNT,
                **fields: str) -> str:
    """Build a callback message the way WeChat's servers write it."""
    def cdata(v: str) -> str:  # as WeChat does: a "]]>" in user text splits the section
        return "<![CDATA[" + v.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    items = "".join(f"<{k}>{cdata(v)}</{k}>" if not v.isdigit() else f"<{k}>{v}</{k}>"
                    for k, v in fields.items())
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
            f"<FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{items}</xml>")


@dataclass
class WeChatPeer:
    """WeChat's servers as the app sees them: signed (and in safe mode encrypted) callbacks."""

    client: httpx.AsyncClient
    clock: Clock
    aes: bool = False
    path: str = "/wechat"
    msg_ids: int = 10_000

    def now(self) -> int:
        """Return the callback timestamp WeChat would send."""
        return int(self.clock.now().timestamp())

    def signed_query(self, timestamp: int | None = None, **extra: str) -> dict[str, str]:
        """Return the query string of a signed callback."""
        ts, n = str(self.now() if timestamp is None else timestamp), nonce()
        return {"signature": signature(TOKEN, ts, n), "timestamp": ts, "nonce": n, **extra}

    def text(self, sender: str, content: str, msg_id: int | None = None) -> tuple[str, int]:
        """Return a text message's XML and its MsgId (a new one unless given)."""
        if msg_id is None:
            self.msg_ids += 1
            msg_id = self.msg_ids
        return message_xml(sender, "text", self.now(), Content=content, MsgId=str(msg_id)), msg_id

    def event(self, sender: str, event: str, key: str | None = None) -> str:
        """Return an event's XML."""
        extra = {"EventKey": key} if key is not None else {}
        return message_xml(sender, "event", self.now(), Event=event, **extra)

    def other(self, sender: str, msg_type: str) -> str:
        """Return a non-text message (image, voice, location …)."""
        self.msg_ids += 1
        return message_xml(sender, msg_type, self.now(), MediaId="media-1",
                           MsgId=str(self.msg_ids))

    async def post(self, xml: str | bytes, *, query: dict[str, str] | None = None,
                   sender: str = "") -> httpx.Response:
        """POST a callback, signed (and encrypted when `aes`) unless `query` is given."""
        if query is not None:
            return await self.client.post(self.path, params=query, content=xml)
        if not self.aes:
            return await self.client.post(self.path, content=xml,
                                          params=self.signed_query(openid=sender))
        q = self.signed_query(openid=sender, encrypt_type="aes")
        body = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(
            xml, q["nonce"], q["timestamp"])
        q["msg_signature"] = parse_xml(body)["MsgSignature"]
        return await self.client.post(self.path, params=q, content=body)

    def reply(self, response: httpx.Response) -> dict[str, str]:
        """Decode a passive reply ({} for `success`), checking its signature in safe mode."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return {}
        if not self.aes:
            return parse_xml(response.content)
        outer = parse_xml(response.content)
        inner = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(
            response.text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return parse_xml(inner.encode())

    async def say(self, sender: str, content: str, msg_id: int | None = None) -> str:
        """Send a text and return the passive reply's content."""
        xml, _ = self.text(sender, content, msg_id)
        return self.reply(await self.post(xml, sender=sender)).get("Content", "")


@dataclass
class WeComPeer:
    """WeCom's servers: callbacks always encrypted with the corp's key."""

    client: httpx.AsyncClient
    clock: Clock
    path: str = "/wecom"
    msg_ids: int = 50_000

    def now(self) -> int:
        """Return the callback timestamp."""
        return int(self.clock.now().timestamp())

    def crypto(self) -> CorpCrypto:
        """Return wechatpy's WeCom crypto for the test corp."""
        return CorpCrypto(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID)

    def echostr_query(self, plain: str, timestamp: int | None = None) -> dict[str, str]:
        """Return the query of WeCom's URL verification, echostr encrypted."""
        echostr = CorpPrpCrypto(b64decode(WECOM_AES_KEY + "=")).encrypt(plain, CORP_ID).decode()
        ts, n = str(self.now() if timestamp is None else timestamp), nonce()
        return {"msg_signature": signature(WECOM_TOKEN, ts, n, echostr), "timestamp": ts,
                "nonce": n, "echostr": echostr}

    def text(self, sender: str, content: str, msg_id: int | None = None) -> str:
        """Return a WeCom text message's XML."""
        if msg_id is None:
            self.msg_ids += 1
            msg_id = self.msg_ids
        return message_xml(sender, "text", self.now(), to=CORP_ID, Content=content,
                           MsgId=str(msg_id), AgentID=AGENT_ID)

    def event(self, sender: str, event: str, key: str | None = None) -> str:
        """Return a WeCom event's XML."""
        extra = {"EventKey": key} if key is not None else {}
        return message_xml(sender, "event", self.now(), to=CORP_ID, Event=event,
                           AgentID=AGENT_ID, **extra)

    async def post(self, xml: str, *, timestamp: int | None = None) -> httpx.Response:
        """POST an encrypted, signed callback."""
        ts, n = str(self.now() if timestamp is None else timestamp), nonce()
        body = self.crypto().encrypt_message(xml, n, ts)
        q = {"msg_signature": parse_xml(body)["MsgSignature"], "timestamp": ts, "nonce": n}
        return await self.client.post(self.path, params=q, content=body)

    def reply(self, response: httpx.Response) -> dict[str, str]:
        """Decrypt a passive reply ({} for `success`)."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return {}
        outer = parse_xml(response.content)
        inner = self.crypto().decrypt_message(response.text, outer["MsgSignature"],
                                              outer["TimeStamp"], outer["Nonce"])
        return parse_xml(inner.encode())

    async def say(self, sender: str, content: str, msg_id: int | None = None) -> str:
        """Send a text and return the passive reply's content."""
        return self.reply(await self.post(self.text(sender, content, msg_id))).get("Content", "")


# --- helpers ---------------------------------------------------------------------------------------


def wechat_settings(api_base: str = "http://127.0.0.1:9/cgi-bin/", **overrides: object
                    ) -> dict[str, object]:
    """Return the settings of a fully configured Official Account and WeCom app."""
    values: dict[str, object] = {
        "wechat_token": TOKEN, "wechat_app_id": APP_ID, "wechat_app_secret": APP_SECRET,
        "wechat_encoding_aes_key": AES_KEY, "wechat_api_base_url": api_base,
        "wechat_template_id": "TEMPLATE-1",
        "wecom_corp_id": CORP_ID, "wecom_agent_id": AGENT_ID, "wecom_secret": CORP_SECRET,
        "wecom_token": WECOM_TOKEN, "wecom_encoding_aes_key": WECOM_AES_KEY,
        "wecom_api_base_url": api_base,
    }
    values.update(overrides)
    return values


def table_counts(engine: Engine) -> dict[str, int]:
    """Count the rows of every table, to show a refused request wrote nothing."""
    with engine.connect() as conn:
        return {t.name: int(conn.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar_one())
                for t in SQLModel.metadata.sorted_tables}
