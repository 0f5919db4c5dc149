"""Cheat flags: accounts under review are kept out of draws until an operator clears them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.models import Answer, Flag, User


def fast_answers_on(session: Session, user_id: int, day_start: datetime) -> int:
    """Return how many too-fast answers the worker gave since `day_start`."""
    return int(session.exec(select(func.count()).select_from(Answer).where(
        Answer.user_id == user_id, col(Answer.too_fast).is_(True),
        col(Answer.answered_at) >= day_start,
        col(Answer.answered_at) < day_start + timedelta(days=1))).one())


def raise_flag(session: Session, user: User, reason: str, now: datetime) -> bool:
    """Flag the account unless an open flag exists; return True when a new flag was raised."""
    open_flag = session.exec(select(Flag.id).where(Flag.user_id == user.id,
                                                   col(Flag.cleared_at).is_(None))).first()
    user.flagged = True
    if open_flag is not None:
        return False
    session.add(Flag(user_id=user.id, reason=reason, created_at=now))  # type: ignore[arg-type]
    return True


def open_flags(session: Session) -> list[tuple[Flag, User]]:
    """Return open flags with their workers, oldest first."""
    rows = session.exec(select(Flag, User).join(User, col(User.id) == Flag.user_id)
                        .where(col(Flag.cleared_at).is_(None)).order_by(col(Flag.id))).all()
    return [(f, u) for f, u in rows]


def clear(session: Session, user_id: int, by: str, now: datetime) -> int:
    """Clear a worker's open flags; return how many were cleared."""
    flags = session.exec(select(Flag).where(Flag.user_id == user_id,
                                            col(Flag.cleared_at).is_(None))).all()
    for flag in flags:
        flag.cleared_at = now
        flag.cleared_by = by
    user = session.get(User, user_id)
    if user is not None:
        user.flagged = False
    return len(flags)


