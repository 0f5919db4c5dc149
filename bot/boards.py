"""Leaderboard queries: top-N by index and one's own rank by COUNT, fast at a million workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from bot.models import User


@dataclass(frozen=True)
class BoardRow:
    """One line of a board."""

    rank: int
    user_id: int
    name: str | None
    points: int
    enterprise_id: int | None


def _scope(enterprise_id: int | None) -> list[object]:
    cond: list[object] = [User.points > 0]
    if enterprise_id is not None:
        cond.append(User.enterprise_id == enterprise_id)
    return cond


def top(session: Session, limit: int, enterprise_id: int | None = None) -> list[BoardRow]:
    """Return the first `limit` workers in board order (see `bot.domain.ranking`)."""
    rows = session.exec(
        select(User.id, User.name, User.points, User.enterprise_id)
        .where(*_scope(enterprise_id))  # type: ignore[arg-type]
        .order_by(col(User.points).desc(), col(User.points_at).asc(), col(User.id).asc())
        .limit(limit)
    ).all()
    return [BoardRow(i + 1, uid or 0, name, pts, ent) for i, (uid, name, pts, ent) in enumerate(rows)]


def rank_of(session: Session, user: User, enterprise_id: int | None = None) -> int | None:
    """Return the worker's 1-based rank on the board, or None when they have no points yet."""
    if user.points <= 0:
        return None
    at: datetime | None = user.points_at
    ahead = or_(
        col(User.points) > user.points,
        and_(col(User.points) == user.points, col(User.points_at) < at),
        and_(col(User.points) == user.points, col(User.points_at) == at, col(User.id) < user.id),
    )
    count = session.exec(
        select(func.count()).select_from(User).where(*_scope(enterprise_id), ahead)  # type: ignore[arg-type]
    ).one()
    return int(count) + 1
