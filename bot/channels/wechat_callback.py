"""What `/wechat` and `/wecom` share: run the core within WeChat's 5 s, reply, push the rest.

WeChat shows one passive reply per message and gives up on the HTTP call after 5 s (then
retries, three times in all). So the core runs in a thread with a deadline; in time, the
replies become one text (the first 2048 bytes passively, the rest pushed as messages); late,
the endpoint answers `success` and the whole reply is pushed when the core finishes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot import messages as m
from bot.app import App
from bot.channels.wechat_outbound import SendResult
from bot.channels.wechat_protocol import SUCCESS, Rejected, pack_texts
from bot.chat import Inbound, Reply
from bot.render import as_text

log = logging.getLogger(__name__)


class Pusher(Protocol):
    """Anything that can push one text to a user outside the HTTP reply (a sender)."""

    def send_text(self, external_id: str, text: str, idem_key: str | None = None) -> SendResult:
        """Send one text; blocking."""
        ...


def success() -> Response:
    """Return WeChat's "received, nothing to say" answer."""
    return PlainTextResponse(SUCCESS)


def refuse(request: Request, exc: Rejected) -> Response:
    """Answer a refused callback with its status; the reason goes to the log, not the caller."""
    client = request.client.host if request.client else "?"
    log.warning("%s %s from %s refused (%s): %s", request.method, request.url.path, client,
                exc.status, exc.reason)
    return PlainTextResponse("forbidden" if exc.status == 403 else "bad request",
                             status_code=exc.status)


class CallbackRunner:
    """Run the core for one callback and turn its replies into a passive text and pushes."""

    def __init__(self, app: App, pusher: Pusher | None, deadline: float) -> None:
        self.app = app
        self.pusher = pusher
        self.deadline = deadline
        self._background: set[asyncio.Task[None]] = set()

    async def answer(self, inbound: Inbound) -> list[str] | None:
        """Return the reply as texts of at most 2048 bytes, or None when the core ran late."""
        work = asyncio.ensure_future(asyncio.to_thread(self._handle, inbound))
        try:
            # shield: on timeout the thread keeps going and `work` still yields its replies.
            replies = await asyncio.wait_for(asyncio.shield(work), self.deadline)
        except TimeoutError:
            log.warning("reply to %s not ready after %.1fs: answering success, pushing it later",
                        inbound.dedupe_key, self.deadline)
            self._spawn(self._deliver_late(work, inbound))
            return None
        return pack_texts([as_text(r) for r in replies])

    def _handle(self, inbound: Inbound) -> list[Reply]:
        try:
            return self.app.core.handle(inbound)
        except Exception:
            # Never an error trace in the chat; nothing was committed, so a retry starts clean.
            log.exception("handling %s failed", inbound.dedupe_key)
            return [Reply(m.SORRY)]

    async def push(self, external_id: str, texts: list[str], idem_prefix: str,
                   start: int = 0) -> None:
        """Push texts in order, each once per `idem_prefix` however often this runs."""
        if not texts:
            return
        if self.pusher is None:
            log.warning("%d part(s) of reply %s dropped: API credentials are not set",
                        len(texts), idem_prefix)
            return
        for n, text in enumerate(texts, start=start):
            result = await asyncio.to_thread(self.pusher.send_text, external_id, text,
                                             f"{idem_prefix}:{n}")
            if not result.delivered:
                log.warning("part %d of reply %s not delivered: %s %s", n, idem_prefix,
                            result.status, result.detail)

    async def push_rest(self, inbound: Inbound, texts: list[str]) -> None:
        """Push the parts after the passive reply (which was part 0)."""
        await self.push(inbound.external_id, texts, f"{inbound.dedupe_key}:part", start=1)

    async def _deliver_late(self, work: asyncio.Future[list[Reply]], inbound: Inbound) -> None:
        replies = await work
        await self.push(inbound.external_id, pack_texts([as_text(r) for r in replies]),
                        f"{inbound.dedupe_key}:late")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)  # keep a reference, or the task may be collected mid-way
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait until every late reply has been pushed (tests, orderly shutdown)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
