"""Points and credits ledgers: every grant once, balances kept in step in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.models import CreditEntry, PointsEntry, User


def grant_points(
    session: Session, user_id: int, delta: int, rule: str, reason: str, idem_key: str,
    now: datetime,
) -> bool:
    """Add a ledger entry unless `idem_key` was used before; return True when it was added."""
    if delta == 0:
        return False
    if session.exec(select(PointsEntry.id).where(PointsEntry.idem_key == idem_key)).first():
        return False
    try:
        # A savepoint, so a concurrent duplicate on PostgreSQL fails this insert, not the
        # whole transaction.
        with session.begin_nested():
            session.add(PointsEntry(user_id=user_id, delta=delta, rule=rule, reason=reason,
                                    idem_key=idem_key, created_at=now))
    except IntegrityError:
        return False
    # An SQL increment, not read-modify-write: two transactions for one worker cannot lose one.
    session.execute(
        update(User).where(User.id == user_id)  # type: ignore[arg-type]
        .values(points=User.points + delta, points_at=now)
    )
    return True


def grant_credit(
    session: Session, user_id: int, course_id: str, credits: float, required: bool,
    now: datetime,
) -> bool:
    """Record a course's credits once per worker; return True when they were granted now."""
    key = f"credit:{user_id}:{course_id}"
    if session.exec(select(CreditEntry.id).where(CreditEntry.idem_key == key)).first():
        return False
    try:
        with session.begin_nested():
            session.add(CreditEntry(user_id=user_id, course_id=course_id, credits=credits,
                                    required=required, idem_key=key, created_at=now))
    except IntegrityError:
        return False
    session.execute(
        update(User).where(User.id == user_id)  # type: ignore[arg-type]
        .values(credits=User.credits + credits)
    )
    return True


def points_balance(session: Session, user_id: int) -> int:
    """Return the sum of a worker's ledger (the truth the cached `User.points` must equal)."""
    total = session.exec(
        select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.user_id == user_id)
    ).one()
    return int(total)
