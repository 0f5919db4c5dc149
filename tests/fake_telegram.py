"""A stand-in Telegram Bot API on 127.0.0.1 that the real PTB talks to over real HTTP.

It records every call, keeps the messages it "sent" (with their keyboards) so a test can tap a
button, serves queued updates to getUpdates, and fails on demand: 429 with retry_after, or 403
for a worker who blocked the bot.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "技行", "username": "jixing_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout"}


@dataclass
class Call:
    """One Bot API request as the fake saw it."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival
    status: int = 200


@dataclass
class Fault:
    """A canned failure for the next call(s) of a method."""

    status: int
    description: str
    retry_after: int | None = None
    times: int = 1


@dataclass
class Sent:
    """A message the bot has in a chat, as it stands after edits."""

    chat_id: int
    message_id: int
    text: str
    keyboard: list[list[dict[str, Any]]] = field(default_factory=list)


class ThreadedServer:
    """Run an ASGI app under uvicorn on a free 127.0.0.1 port in a background thread."""

    def __init__(self, app: Any, lifespan: str = "on") -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws="none",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.port = 0
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start serving; return once connections are accepted (and the lifespan ran)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving (runs the lifespan's shutdown) and wait for the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


class FakeTelegram:
    """The fake Bot API server; start() it, point PTB's base_url at `base_url`."""

    def __init__(self) -> None:
        self._server: ThreadedServer | None = None
        self.port = 0
        self.reset()

    def reset(self) -> None:
        """Forget every call, message, fault and queued update (one server serves many tests)."""
        self.calls: list[Call] = []
        self.faults: dict[str, list[Fault]] = {}
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], Sent] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The value for TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> None:
        """Serve on a free port in a background thread; return once it accepts connections."""
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        self._server = ThreadedServer(app, lifespan="off")
        self._server.start()
        self.port = self._server.port

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.stop()

    # --- test controls ---------------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, *, retry_after: int | None = 1,
                  times: int = 1) -> None:
        """Make the next `times` calls of `method` fail (429 carries retry_after)."""
        description = (f"Too Many Requests: retry after {retry_after}" if status == 429
                       else "Bad Request: something went wrong")
        self.faults.setdefault(method, []).append(Fault(status, description, retry_after, times))

    def block(self, chat_id: int) -> None:
        """Act as if the worker blocked the bot: sends to them get 403."""
        self.blocked.add(chat_id)

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; return its update_id."""
        with self._lock:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
        return int(update["update_id"])

    def new_update_id(self) -> int:
        """Return a fresh update id (for webhook posts)."""
        return next(self._update_ids)

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        """Return the calls of one method, successful ones unless told otherwise."""
        return [c for c in list(self.calls)
                if c.method == method and (c.status == 200 or not ok_only)]

    def texts_to(self, chat_id: int) -> list[str]:
        """Return every text sent to a chat (messages and captions), in order."""
        out = []
        for c in self.calls_to("sendMessage") + self.calls_to("sendPhoto"):
            if c.params.get("chat_id") == chat_id:
                out.append((c.at, c.params.get("text") or c.params.get("caption") or ""))
        return [text for _, text in sorted(out)]

    def last_with_keyboard(self, chat_id: int) -> Sent:
        """Return the newest message in a chat that still has buttons."""
        found = [s for s in self.messages.values() if s.chat_id == chat_id and s.keyboard]
        if not found:
            raise AssertionError(f"no message with buttons in chat {chat_id}")
        return max(found, key=lambda s: s.message_id)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds (the bot works in another thread or loop)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting; calls: "
                                     + ", ".join(c.method for c in self.calls))
            time.sleep(0.01)

    # --- the API ---------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.path_params["token"] != TOKEN:
            return _error(401, "Unauthorized")
        params = _params(await request.body(), request.headers.get("content-type", ""))
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        fault = self._take_fault(method)
        if fault is None and method.startswith("send") and params.get("chat_id") in self.blocked:
            fault = Fault(403, "Forbidden: bot was blocked by the user")
        if fault is not None:
            call.status = fault.status
            extra = {"retry_after": fault.retry_after} if fault.status == 429 else None
            return _error(fault.status, fault.description, extra)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        return _ok(handler(params))

    def _take_fault(self, method: str) -> Fault | None:
        queue = self.faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 0.5)
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                # Telegram forgets updates below the offset: they were confirmed.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids)
        markup = params.get("reply_markup") or {}
        self.messages[(chat_id, message_id)] = Sent(
            chat_id, message_id, content.get("text") or content.get("caption") or "",
            markup.get("inline_keyboard", []))
        return {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private", "first_name": "工人"},
                **({"reply_markup": markup} if markup else {}), **content}

    def _api_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params["text"])

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "photo-1", "file_unique_id": "u1", "width": 10, "height": 10}]
        return self._message(params, photo=photo,
                             **({"caption": params["caption"]} if params.get("caption") else {}))

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": "doc-1", "file_unique_id": "d1"}
        return self._message(params, document=document,
                             **({"caption": params["caption"]} if params.get("caption") else {}))

    def _edit(self, params: dict[str, Any], text: str | None) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        sent = self.messages[key]
        if text is not None:
            sent.text = text
        markup = params.get("reply_markup") or {}
        sent.keyboard = markup.get("inline_keyboard", [])
        return {"message_id": sent.message_id, "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": sent.chat_id, "type": "private", "first_name": "工人"},
                "text": sent.text, **({"reply_markup": markup} if markup else {})}

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, params["text"])

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, None)

    def _api_answerCallbackQuery(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_setMyCommands(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_setWebhook(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        return True


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode PTB's form body: strings as sent, everything else JSON-encoded."""
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if key in INT_FIELDS:
            out[key] = int(value)
        elif value[:1] in "[{" and value:
            out[key] = json.loads(value)
        else:
            out[key] = value
    return out


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


# --- updates as Telegram sends them ---------------------------------------------------------

def user_json(user_id: int, name: str = "王小明") -> dict[str, Any]:
    """A Telegram user object."""
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "zh-hans"}


def message_update(update_id: int, user_id: int, text: str | None = None,
                   **content: Any) -> dict[str, Any]:
    """An update carrying a private message."""
    message: dict[str, Any] = {
        "message_id": update_id, "date": int(time.time()), "from": user_json(user_id),
        "chat": {"id": user_id, "type": "private", "first_name": "王小明"}, **content}
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, user_id: int, data: str, sent: Sent) -> dict[str, Any]:
    """An update for a tap on a button of a message the bot sent."""
    return {"update_id": update_id, "callback_query": {
        "id": f"cq{update_id}", "from": user_json(user_id), "chat_instance": "ci1", "data": data,
        "message": {"message_id": sent.message_id, "date": int(time.time()), "from": BOT_USER,
                    "chat": {"id": sent.chat_id, "type": "private", "first_name": "王小明"},
                    "text": sent.text,
                    "reply_markup": {"inline_keyboard": sent.keyboard}}}}


def button(sent: Sent, label: str) -> str:
    """Return the callback data of the button whose label is `label`."""
    for row in sent.keyboard:
        for b in row:
            if b["text"] == label:
                return str(b["callback_data"])
    labels = [b["text"] for row in sent.keyboard for b in row]
    raise AssertionError(f"no button {label!r} among {labels}")
