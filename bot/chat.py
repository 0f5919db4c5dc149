"""Platform-neutral messages: what channels hand the core and what the core hands back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

CHANNELS = ("telegram", "wechat", "wecom", "console")


@dataclass(frozen=True)
class Inbound:
    """One thing a worker did: typed text, tapped a button, or a platform event."""

    channel: str
    external_id: str
    dedupe_key: str  # unique per delivery source: Telegram update_id, WeChat MsgId …
    received_at: datetime
    text: str | None = None
    choice: str | None = None  # a button's payload (see `Option.payload`)
    event: str | None = None  # "subscribe" | "unsubscribe" | "menu" | "unsupported"
    event_key: str | None = None  # menu key (LEARN) or the invite code of a QR follow
    display_name: str | None = None


@dataclass(frozen=True)
class Option:
    """A choice offered with a reply; a channel shows it as a button or as a text line."""

    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to the worker; channels render it, they never change what it says."""

    text: str
    options: tuple[Option, ...] = ()
    image: str | None = None
    document: str | None = None
    # "question" replies offer answer options; `multi` asks for several letters.
    kind: str = "text"
    multi: bool = False
    # True when the reply is the outcome of a tapped choice: a channel may edit that message.
    answers_choice: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def replies_to_json(replies: list[Reply]) -> str:
    """Serialise replies for the inbox, so a re-delivered event gets the same answer."""
    return json.dumps([asdict(r) for r in replies], ensure_ascii=False)


def replies_from_json(data: str) -> list[Reply]:
    """Rebuild replies stored by `replies_to_json`."""
    out = []
    for raw in json.loads(data):
        raw["options"] = tuple(Option(**o) for o in raw.get("options", ()))
        out.append(Reply(**raw))
    return out
