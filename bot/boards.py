"""Leaderboard queries over `PeriodScore`: top-N by index, one's own rank by COUNT.

Order (stated to workers in `bot.domain.ranking.TIE_BREAK_RULE`): more points first; among
equal scores, who reached it first; then who registered first (lower id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from bot.models import Enterprise, PeriodScore, User


@dataclass(frozen=True)
class BoardRow:
    """One line of a board."""

    rank: int
    user_id: int
    name: str | None
    points: int


def _scope(period: str, enterprise_id: int | None, at_least: int = 1) -> list[Any]:
    # One lower bound on `points`, as tight as the caller knows: SQLite uses a single
    # inequality per column for the index range, so `points > 0 AND points > p` would scan
    # from 1 up (the whole board) instead of from p (bench/boards.py measured 20× at the top).
    cond: list[Any] = [PeriodScore.period == period, col(PeriodScore.public).is_(True),
                       col(PeriodScore.points) >= max(at_least, 1)]
    if enterprise_id is not None:
        cond.append(PeriodScore.enterprise_id == enterprise_id)
    return cond


def _ordered() -> tuple[Any, ...]:
    return (col(PeriodScore.points).desc(), col(PeriodScore.points_at).asc(),
            col(PeriodScore.user_id).asc())


def _named(session: Session, rows: list[tuple[int, int]], first_rank: int) -> list[BoardRow]:
    names = dict(session.exec(select(User.id, User.name)
                              .where(col(User.id).in_([u for u, _ in rows]))).all()) if rows else {}
    return [BoardRow(first_rank + i, uid, names.get(uid), pts) for i, (uid, pts) in enumerate(rows)]


def top(session: Session, period: str, limit: int, enterprise_id: int | None = None
        ) -> list[BoardRow]:
    """Return the first `limit` public workers of a period's board."""
    # Names by JOIN: for a whole-enterprise board an IN list of thousands of ids costs twice.
    rows = session.exec(select(PeriodScore.user_id, User.name, PeriodScore.points)
                        .join(User, col(User.id) == PeriodScore.user_id)
                        .where(*_scope(period, enterprise_id)).order_by(*_ordered())
                        .limit(limit)).all()
    return [BoardRow(i + 1, uid, name, pts) for i, (uid, name, pts) in enumerate(rows)]


def _score(session: Session, period: str, user_id: int) -> PeriodScore | None:
    return session.get(PeriodScore, (period, user_id))


def _ahead(me: PeriodScore) -> Any:
    return or_(
        col(PeriodScore.points) > me.points,
        and_(col(PeriodScore.points) == me.points, col(PeriodScore.points_at) < me.points_at),
        and_(col(PeriodScore.points) == me.points, col(PeriodScore.points_at) == me.points_at,
             col(PeriodScore.user_id) < me.user_id),
    )


def rank_of(session: Session, period: str, user_id: int, enterprise_id: int | None = None
            ) -> int | None:
    """Return the worker's 1-based rank, or None when they are not on that board."""
    me = _score(session, period, user_id)
    if me is None or me.points <= 0 or not me.public:
        return None
    count = session.exec(select(func.count()).select_from(PeriodScore)
                         .where(*_scope(period, enterprise_id, me.points), _ahead(me))).one()
    return int(count) + 1


def around(session: Session, period: str, user_id: int, n: int = 5,
           enterprise_id: int | None = None) -> list[BoardRow]:
    """Return the worker's row with up to `n` rows above and `n` below."""
    rank = rank_of(session, period, user_id, enterprise_id)
    me = _score(session, period, user_id)
    if rank is None or me is None:
        return []
    above = session.exec(select(PeriodScore.user_id, PeriodScore.points)
                         .where(*_scope(period, enterprise_id, me.points), _ahead(me))
                         .order_by(col(PeriodScore.points).asc(), col(PeriodScore.points_at).desc(),
                                   col(PeriodScore.user_id).desc())
                         .limit(n)).all()
    below = session.exec(select(PeriodScore.user_id, PeriodScore.points)
                         .where(*_scope(period, enterprise_id), col(PeriodScore.points) <= me.points,
                                PeriodScore.user_id != user_id, ~_ahead(me))
                         .order_by(*_ordered()).limit(n)).all()
    rows = [*reversed(above), (user_id, me.points), *below]
    return _named(session, rows, rank - len(above))


@dataclass(frozen=True)
class EnterpriseRow:
    """An enterprise's participation: registered workers, those trained, and the rate."""

    rank: int
    enterprise_id: int
    name: str
    registered: int
    trained: int

    @property
    def rate(self) -> float:
        """Return trained / registered."""
        return self.trained / self.registered if self.registered else 0.0


def participation(session: Session) -> list[EnterpriseRow]:
    """Rank enterprises by trained workers, then rate, then id (the published tie-break)."""
    counts = session.exec(
        select(User.enterprise_id, func.count(), func.count(col(User.trained_at)))
        .where(col(User.enterprise_id).is_not(None), User.state == "ready")
        .group_by(col(User.enterprise_id))
    ).all()
    names = dict(session.exec(select(Enterprise.id, Enterprise.name)).all())
    stats = sorted(((int(e), int(r), int(t)) for e, r, t in counts if e is not None),
                   key=lambda x: (-x[2], -(x[2] / x[1] if x[1] else 0), x[0]))
    return [EnterpriseRow(i + 1, e, names.get(e, "?"), r, t) for i, (e, r, t) in enumerate(stats)]


def set_public(session: Session, user: User, public: bool) -> None:
    """Opt a worker in or out of public boards (their scores keep counting)."""
    user.public_board = public
    for score in session.exec(select(PeriodScore).where(PeriodScore.user_id == user.id)).all():
        score.public = public
