"""The Telegram channel: python-telegram-bot used as a library, translating and nothing else.

An `Update` becomes an `Inbound` (dedupe key from `update_id`), the sync core runs in a worker
thread, and each `Reply` becomes Bot API calls through `TelegramSender`. Two ways to run:
long polling (`jixing telegram`) and the webhook inside our web app (`telegram_webhook.py`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from typing import Any

from telegram import BotCommand, CallbackQuery, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import messages as m
from bot.app import App
from bot.channels.telegram_buttons import EMPTY, TOGGLE, ButtonSigner, toggle_keyboard
from bot.channels.telegram_sender import FloodLimiter, Tapped, TelegramSender
from bot.chat import Inbound, Reply
from bot.config import Settings
from handlers.routes import ROUTES

# Opt in to PTB's coming `timedelta` durations: without it, merely building a RetryAfter emits
# a deprecation warning (PTB 22.x), and our tests turn warnings into errors.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger(__name__)

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
CONCURRENT_UPDATES = 64  # one worker's pacing must not hold up everyone else's updates
ERRORS_KEPT = 100

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class TelegramChannel:
    """Translate Telegram updates into core calls and the core's replies into Bot API calls."""

    def __init__(self, app: App, *, webhook: bool = False,
                 limiter: BaseRateLimiter[Any] | None = None) -> None:
        token = app.settings.telegram_bot_token
        if token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        # httpx logs every request URL at INFO, and a Bot API URL contains the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        base_url = app.settings.telegram_api_base_url
        self.limiter = limiter or FloodLimiter()
        builder = (
            Application.builder()
            .token(token.get_secret_value())
            .base_url(base_url)
            .base_file_url(file_base_url(base_url))
            .rate_limiter(self.limiter)
            .concurrent_updates(CONCURRENT_UPDATES)
            .post_init(self._post_init)
        )
        if webhook:
            builder = builder.updater(None)  # our web app receives the updates
        self.application: AnyApplication = builder.build()
        self.core = app.core
        self.signer = ButtonSigner(app.settings.secret_key.get_secret_value().encode())
        self.sender = TelegramSender(self.application.bot, app.engine, self.signer)
        # The last errors the error handler saw: tests assert it stays empty, operators can look.
        self.errors: deque[BaseException] = deque(maxlen=ERRORS_KEPT)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock: asyncio.Lock | None = None
        self.application.add_handler(MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, self.on_message))
        self.application.add_handler(CallbackQueryHandler(self.on_callback))
        self.application.add_error_handler(self.on_error)

    # --- running ---------------------------------------------------------------------------

    def run_polling(self, **kwargs: Any) -> None:
        """Long-poll getUpdates until stopped (Ctrl-C, SIGTERM or `request_stop`)."""
        self.application.run_polling(allowed_updates=ALLOWED_UPDATES, **kwargs)

    def request_stop(self) -> None:
        """Stop `run_polling` from another thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.application.stop_running)

    async def _post_init(self, _application: AnyApplication) -> None:
        self._loop = asyncio.get_running_loop()
        await self.set_commands()

    async def ensure_started(self) -> None:
        """Initialise and start the application for webhook mode, once."""
        if self.application.running:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self.application.running:
                await self.application.initialize()
                await self.set_commands()
                await self.application.start()

    async def stop(self) -> None:
        """Stop and shut down the application (webhook mode)."""
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def process(self, update: Update) -> None:
        """Handle one update to the end: core committed, replies sent (webhook mode)."""
        await self.application.process_update(update)

    async def set_commands(self) -> None:
        """Publish the command menu with its Chinese descriptions (setMyCommands)."""
        missing = [r.command for r in ROUTES if r.name not in m.COMMAND_DESCRIPTIONS]
        if missing:
            log.info("commands without a description stay out of the menu: %s", missing)
        commands = [BotCommand(r.command, m.COMMAND_DESCRIPTIONS[r.name])
                    for r in ROUTES if r.name in m.COMMAND_DESCRIPTIONS]
        await self.application.bot.set_my_commands(commands)

    # --- updates ---------------------------------------------------------------------------

    def _inbound(self, update: Update, user_id: int, **fields: Any) -> Inbound:
        user = update.effective_user
        return Inbound(channel=CHANNEL, external_id=str(user_id),
                       dedupe_key=f"{CHANNEL}:{update.update_id}",
                       received_at=self.core.deps.clock.now(),
                       display_name=user.full_name if user else None, **fields)

    async def on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a private message to the core: text as typed, anything else as unsupported."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if message.text is not None:
            inbound = self._inbound(update, user.id, text=message.text)
        else:
            inbound = self._inbound(update, user.id, event="unsupported")
        replies = await asyncio.to_thread(self.core.handle, inbound)
        await self.sender.send(inbound.external_id, replies)

    async def on_callback(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle a button: verify its tag, redraw a toggle, or pass the payload to the core."""
        query = update.callback_query
        if query is None:
            return
        external_id = str(query.from_user.id)
        message = query.message  # an InaccessibleMessage when older than 48 hours
        if message is None or message.chat.type != "private":
            await _answer(query)  # inline-mode or group buttons are not ours to handle
            return
        tap = self.signer.verify(external_id, query.data)
        if tap is None:
            log.warning("telegram user %s sent a button with a bad tag: %r", external_id,
                        (query.data or "")[:64])
            await _answer(query)
            await self.sender.send(external_id, [Reply(m.TELEGRAM_BUTTON_INVALID)])
            return
        if tap.kind == EMPTY:
            await _answer(query, m.TELEGRAM_PICK_FIRST)
            return
        await _answer(query)
        if tap.kind == TOGGLE:
            markup = toggle_keyboard(self.signer, external_id, tap.letters, tap.selected, tap.prefix)
            try:
                await self.application.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
            return
        # Shown above the outcome; answer payloads end with the letters (q:ATTEMPT:POS:LETTERS).
        chosen = tap.payload.rsplit(":", 1)[1] if tap.payload.startswith("q:") else None
        text = message.text if isinstance(message, Message) else None
        tapped = Tapped(message.message_id, text, chosen) if text else None
        inbound = self._inbound(update, query.from_user.id, choice=tap.payload)
        replies = await asyncio.to_thread(self.core.handle, inbound)
        await self.sender.send(external_id, replies, tapped)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failure once with its update, and apologise to the worker (never a trace)."""
        error = context.error
        if error is not None:
            self.errors.append(error)
        if not isinstance(update, Update):
            # Polling hiccups (network, Telegram restarting): PTB retries by itself.
            log.warning("telegram: %s: %s", type(error).__name__, error)
            return
        user, chat = update.effective_user, update.effective_chat
        log.error("telegram update %s from user %s failed", update.update_id,
                  user.id if user else None, exc_info=error)
        if user is None or chat is None or chat.type != "private":
            return
        try:
            await self.application.bot.send_message(chat.id, m.SORRY)
        except TelegramError as exc:
            log.warning("could not apologise to telegram user %s: %s", user.id, exc)


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a callback query (stops the client's spinner); a stale query is no reason to stop."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        # A re-delivered update's query is too old to answer; the tap is still processed.
        log.info("could not answer callback query %s: %s", query.id, exc)


def file_base_url(base_url: str) -> str:
    """Return the file download URL matching an API base URL (…/bot → …/file/bot)."""
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url


async def set_webhook(app_settings: Settings, url: str, *, drop_pending: bool = False) -> None:
    """Point Telegram at `url` with our secret token, for `jixing serve` behind HTTPS."""
    from telegram import Bot

    secret = app_settings.telegram_webhook_secret
    if app_settings.telegram_bot_token is None or not secret or not secret.get_secret_value():
        raise ValueError("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET must both be set")
    bot = Bot(app_settings.telegram_bot_token.get_secret_value(),
              base_url=app_settings.telegram_api_base_url)
    async with bot:
        await bot.set_webhook(url, secret_token=secret.get_secret_value(),
                              allowed_updates=ALLOWED_UPDATES,
                              drop_pending_updates=drop_pending)


async def delete_webhook(app_settings: Settings) -> None:
    """Remove the webhook, e.g. before going back to long polling."""
    from telegram import Bot

    if app_settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    bot = Bot(app_settings.telegram_bot_token.get_secret_value(),
              base_url=app_settings.telegram_api_base_url)
    async with bot:
        await bot.delete_webhook()
