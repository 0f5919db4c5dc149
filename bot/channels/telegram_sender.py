"""Sending to Telegram within its flood limits: replies become messages, photos and edits.

Telegram allows about 30 messages a second overall and about one a second in a private chat;
past that it answers 429 with `retry_after`. `FloodLimiter` keeps under both and, when told to
wait anyway, waits and sends again, never dropping a message. `TelegramSender` turns replies
into Bot API calls and marks a worker who blocked the bot unreachable instead of retrying.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import BaseRateLimiter

from bot import messages as m
from bot.channels.telegram_buttons import ButtonSigner, keyboard
from bot.chat import Reply
from bot.reach import set_reachable

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # Bot API limit for a message, in UTF-16 code units
MAX_CAPTION = 1024
RETRY_MARGIN = 0.1  # seconds added to retry_after: Telegram's clock and ours are not one clock
CHAT_SLOTS_KEPT = 4096  # prune the per-chat schedule past this many chats


class FloodLimiter(BaseRateLimiter[int]):
    """Pace requests: ~30/s overall, one message per interval per chat; retry after a 429."""

    def __init__(self, overall_per_second: float = 30, private_interval: float = 1.0,
                 group_interval: float = 3.0) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second else None
        self.private_interval = private_interval
        self.group_interval = group_interval  # groups: 20 messages a minute
        self._next_slot: dict[int | str, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Run one Bot API call when its chat's turn comes; on 429 wait as told and run it again."""
        chat = _chat_key(data.get("chat_id"))
        # Only new messages count towards a chat's pace: edits and toggles should feel instant.
        paced = chat if endpoint.startswith(("send", "copy", "forward")) else None
        while True:
            if paced is not None:
                await self._wait_turn(paced)
            try:
                if chat is not None and self._overall is not None:
                    async with self._overall:
                        return await callback(*args, **kwargs)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                delay = _seconds(exc) + RETRY_MARGIN
                log.warning("Telegram flood control on %s for chat %s: resending in %.1f s",
                            endpoint, chat, delay)
                if paced is not None:
                    # The chat's next turn moves back; `_wait_turn` does the waiting.
                    resume = asyncio.get_running_loop().time() + delay
                    self._next_slot[paced] = max(self._next_slot.get(paced, 0.0), resume)
                else:
                    await asyncio.sleep(delay)

    async def _wait_turn(self, chat: int | str) -> None:
        """Reserve the chat's next slot and sleep until it (no lock: no await in between)."""
        now = asyncio.get_running_loop().time()
        if len(self._next_slot) > CHAT_SLOTS_KEPT:
            self._next_slot = {k: t for k, t in self._next_slot.items() if t > now}
        interval = self.private_interval if isinstance(chat, int) and chat > 0 \
            else self.group_interval
        slot = max(now, self._next_slot.get(chat, 0.0))
        self._next_slot[chat] = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)


def _chat_key(chat_id: object) -> int | str | None:
    if chat_id is None:
        return None
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)  # @channelusername


def _seconds(exc: RetryAfter) -> float:
    value: object = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


def utf16_len(text: str) -> int:
    """Return the length Telegram counts: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split text into chunks Telegram accepts, at line breaks when possible."""
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if utf16_len(current + line) <= limit:
            current += line
            continue
        if current:
            chunks.append(current)
            current = ""
        while utf16_len(line) > limit:  # one line longer than a message: cut it
            cut = _prefix_within(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks if c.strip()]


def _prefix_within(text: str, limit: int) -> int:
    """Return how many characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


@dataclass(frozen=True)
class Tapped:
    """The message whose button was tapped: it is edited to show the outcome."""

    message_id: int
    text: str  # what it says now (the question)
    chosen: str | None = None  # the letters the worker picked, if the button was an answer


class TelegramSender:
    """Render replies as Bot API calls to one worker; usable for any later notice too."""

    def __init__(self, bot: Bot, engine: Engine, signer: ButtonSigner) -> None:
        self.bot = bot
        self.engine = engine
        self.signer = signer

    async def send(self, external_id: str, replies: Sequence[Reply],
                   tapped: Tapped | None = None) -> bool:
        """Deliver replies in order; False when the worker blocked the bot (now unreachable)."""
        chat_id = int(external_id)
        try:
            for reply in replies:
                if tapped is not None and reply.answers_choice:
                    edited = await self._show_outcome(chat_id, tapped, reply)
                    tapped = None  # only the first outcome replaces the tapped message
                    if edited:
                        continue
                await self._send_reply(chat_id, reply)
        except Forbidden as exc:
            log.info("telegram user %s blocked the bot (%s): marked unreachable", external_id, exc)
            await asyncio.to_thread(set_reachable, self.engine, "telegram", external_id, False)
            return False
        return True

    async def _send_reply(self, chat_id: int, reply: Reply) -> None:
        markup = keyboard(self.signer, str(chat_id), reply)
        text = reply.text
        if reply.image:
            text = await self._send_media(chat_id, "photo", reply.image, text, markup)
        elif reply.document:
            text = await self._send_media(chat_id, "document", reply.document, text, markup)
        if not text:
            return
        chunks = split_text(text)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            await self.bot.send_message(chat_id, chunk, reply_markup=markup if last else None)

    async def _send_media(self, chat_id: int, kind: str, url: str, text: str,
                          markup: InlineKeyboardMarkup | None) -> str:
        """Send a photo or document by URL; return the text still to send as messages."""
        fits = utf16_len(text) <= MAX_CAPTION
        caption = text if fits else None
        try:
            if kind == "photo":
                await self.bot.send_photo(chat_id, url, caption=caption,
                                          reply_markup=markup if fits else None)
            else:
                await self.bot.send_document(chat_id, url, caption=caption,
                                             reply_markup=markup if fits else None)
        except BadRequest as exc:
            # Telegram could not fetch the file: the words matter more, send them with a link.
            log.warning("telegram could not send %s %s: %s", kind, url, exc)
            return f"{text}\n{m.IMAGE_LINK.format(url=url)}" if kind == "photo" else f"{text}\n{url}"
        return "" if fits else text

    async def _show_outcome(self, chat_id: int, tapped: Tapped, reply: Reply) -> bool:
        """Edit the tapped message into question + outcome; False when it cannot be edited."""
        lines = [tapped.text, ""]
        if tapped.chosen:
            lines.append(m.TELEGRAM_CHOSEN.format(letters=tapped.chosen))
        lines.append(reply.text)
        text = "\n".join(lines)
        if utf16_len(text) > MAX_TEXT:
            return False
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=tapped.message_id,
                reply_markup=keyboard(self.signer, str(chat_id), reply))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True  # a re-delivered tap: the message already shows the outcome
            log.info("telegram could not edit message %s in %s: %s", tapped.message_id, chat_id, exc)
            return False
        return True
