"""Inline keyboards for Telegram: signed callback data and stateless multi-choice toggles.

Callback data comes back from the client, so anyone can forge it; each button carries a short
HMAC tag bound to the chat, and only verified data reaches the core. A multi-choice question
keeps the letters picked so far in the buttons themselves (no server state): every toggle
button carries the selection that tapping it would produce, and the keyboard is redrawn.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages as m
from bot.chat import Option, Reply

MAX_CALLBACK_BYTES = 64  # Bot API limit for callback_data
TAG_CHARS = 12  # 72 bits of HMAC-SHA256, base64url: unguessable, and leaves room for the body
SEP = "|"

# Body kinds (first character): P = a core payload, T = a toggle, E = "submit" with nothing picked.
PAYLOAD, TOGGLE, EMPTY = "P", "T", "E"

LETTERS_PER_ROW = 5
SHORT_LABEL = 6  # labels this short sit two to a row


@dataclass(frozen=True)
class Tap:
    """A verified button tap: a payload for the core, a toggle to redraw, or an empty submit."""

    kind: str
    payload: str = ""  # PAYLOAD: what the core receives
    letters: str = ""  # TOGGLE: every option letter of the question, in order
    selected: str = ""  # TOGGLE: the letters picked after this tap
    prefix: str = ""  # TOGGLE: the core's answer payload without the letters (q:ATT:POS)


class ButtonSigner:
    """Sign callback data for one chat and verify it when the button comes back."""

    def __init__(self, secret: bytes) -> None:
        # A key of its own, so the settings secret is never used twice for different purposes.
        self._key = hmac.new(secret, b"jixing/telegram/buttons", hashlib.sha256).digest()

    def _tag(self, chat: str, body: str) -> str:
        digest = hmac.new(self._key, f"{chat}\x00{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:9]).decode()

    def sign(self, chat: str, body: str) -> str:
        """Return callback data for `body`, refusing anything over Telegram's 64 bytes."""
        data = f"{body}{SEP}{self._tag(chat, body)}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data too long ({len(data.encode())} bytes): {body!r}")
        return data

    def verify(self, chat: str, data: str | None) -> Tap | None:
        """Return the tap behind `data`, or None when it is forged, foreign or malformed."""
        if not data or SEP not in data:
            return None
        body, _, tag = data.rpartition(SEP)
        if not hmac.compare_digest(tag.encode(), self._tag(chat, body).encode()):
            return None
        return parse_body(body)


def parse_body(body: str) -> Tap | None:
    """Decode a verified body; None when it has an unknown shape."""
    kind, rest = body[:1], body[1:]
    if kind == PAYLOAD and rest:
        return Tap(PAYLOAD, payload=rest)
    if kind == EMPTY:
        return Tap(EMPTY)
    if kind == TOGGLE:
        letters, _, tail = rest.partition(":")
        selected, _, prefix = tail.partition(":")
        if letters.isalpha() and set(selected) <= set(letters) and prefix:
            return Tap(TOGGLE, letters=letters, selected=selected, prefix=prefix)
    return None


def keyboard(signer: ButtonSigner, chat: str, reply: Reply) -> InlineKeyboardMarkup | None:
    """Return the inline keyboard for a reply's options, or None when it offers none."""
    if not reply.options:
        return None
    if reply.kind == "question" and reply.multi:
        letters = "".join(_letter(o) for o in reply.options)
        return toggle_keyboard(signer, chat, letters, "", _prefix(reply.options[0]))
    if reply.kind == "question":
        buttons = [_button(signer, chat, o.label, PAYLOAD + o.payload) for o in reply.options]
        return InlineKeyboardMarkup(_rows(buttons, LETTERS_PER_ROW))
    per_row = 2 if all(len(o.label) <= SHORT_LABEL for o in reply.options) else 1
    buttons = [_button(signer, chat, o.label, PAYLOAD + o.payload) for o in reply.options]
    return InlineKeyboardMarkup(_rows(buttons, per_row))


def toggle_keyboard(signer: ButtonSigner, chat: str, letters: str, selected: str,
                    prefix: str) -> InlineKeyboardMarkup:
    """Return a multi-choice keyboard showing `selected`, each letter toggling, and 提交."""
    buttons = []
    for letter in letters:
        after = "".join(x for x in letters if (x in selected) != (x == letter))
        label = m.TELEGRAM_SELECTED.format(letter=letter) if letter in selected else letter
        buttons.append(_button(signer, chat, label, f"{TOGGLE}{letters}:{after}:{prefix}"))
    if selected:
        submit = _button(signer, chat, m.TELEGRAM_SUBMIT_SELECTED.format(letters=selected),
                         f"{PAYLOAD}{prefix}:{selected}")
    else:
        submit = _button(signer, chat, m.TELEGRAM_SUBMIT, EMPTY)
    return InlineKeyboardMarkup([*_rows(buttons, LETTERS_PER_ROW), [submit]])


def _button(signer: ButtonSigner, chat: str, label: str, body: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=signer.sign(chat, body))


def _rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row)]


def _letter(option: Option) -> str:
    # Answer payloads end with the option's letter (q:ATTEMPT:POS:LETTER).
    return option.payload.rsplit(":", 1)[1]


def _prefix(option: Option) -> str:
    return option.payload.rsplit(":", 1)[0]
