"""Rendering replies for text-only channels (WeChat, WeCom, the terminal): buttons become hints."""

from __future__ import annotations

from bot import messages as m
from bot.chat import Option, Reply
from handlers.routes import BY_NAME


def typed_equivalent(option: Option) -> str | None:
    """Return what a worker types on a text channel to choose `option`, if anything."""
    if option.payload.startswith("cmd:"):
        route = BY_NAME.get(option.payload[4:])
        return route.keywords[0] if route else None
    if option.payload.startswith("g:"):
        return option.payload[2:]
    if option.payload.startswith("q:"):
        return option.payload.rsplit(":", 1)[1]
    return None


def as_text(reply: Reply) -> str:
    """Return the reply as one plain text message, with how to answer or go on."""
    parts = [reply.text]
    if reply.kind == "question":
        parts.append(m.ANSWER_HINT[reply.multi])
    else:
        hints = [f"「{typed}」" + ("" if o.label == typed else o.label) for o in reply.options
                 if (typed := typed_equivalent(o)) and not o.payload.startswith("g:")]
        if hints:
            parts.append(m.TEXT_OPTIONS.format(hints="　".join(hints)))
    if reply.image:
        parts.append(m.IMAGE_LINK.format(url=reply.image))
    return "\n".join(parts)
