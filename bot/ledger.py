"""Points and credits ledgers: each grant once, within the daily caps, balances kept in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.points import PointsRules, allowed_points
from bot.domain.streaks import week_of
from bot.models import CreditEntry, PeriodScore, PointsEntry, User

ALL_TIME = "all"


def periods_of(day: date) -> tuple[str, ...]:
    """Return the board periods a day counts towards: all-time, year, month, ISO week."""
    return (ALL_TIME, f"{day:%Y}", f"{day:%Y-%m}", week_of(day))


@dataclass(frozen=True)
class Grant:
    """What a grant gave: the points (0 when a cap stopped it) and whether a cap applied."""

    points: int
    capped: bool


def _earned_today(session: Session, user_id: int, day: date, rules: PointsRules,
                  rule_name: str) -> tuple[int, int]:
    rows = session.exec(
        select(PointsEntry.rule, func.coalesce(func.sum(PointsEntry.delta), 0))
        .where(PointsEntry.user_id == user_id, PointsEntry.day == day,
               col(PointsEntry.delta) > 0)
        .group_by(col(PointsEntry.rule))
    ).all()
    by_rule = {rule: int(total) for rule, total in rows}
    capped_total = sum(v for r, v in by_rule.items() if rules.rule(r).capped)
    return by_rule.get(rule_name, 0), capped_total


def _insert_entry(session: Session, entry: PointsEntry) -> bool:
    try:
        # A savepoint, so a concurrent duplicate on PostgreSQL fails this insert only.
        with session.begin_nested():
            session.add(entry)
        return True
    except IntegrityError:
        return False


def grant(
    session: Session, user: User, rule_name: str, idem_key: str, detail: str, now: datetime,
    day: date, rules: PointsRules,
) -> Grant | None:
    """Grant a rule's points once per `idem_key`, within caps; None when already granted.

    A capped grant is still recorded (with 0 points), so the key is spent and the worker can
    read why nothing was added.
    """
    assert user.id is not None
    if session.exec(select(PointsEntry.id).where(PointsEntry.idem_key == idem_key)).first():
        return None
    rule = rules.rule(rule_name)
    by_rule, capped_total = _earned_today(session, user.id, day, rules, rule_name)
    points = allowed_points(rule, by_rule, capped_total, rules.daily_total_cap)
    reason = f"{rule.label}：{detail}" if detail else rule.label
    if points < rule.points:
        reason += "（今日已达上限）"
    entry = PointsEntry(user_id=user.id, delta=points, rule=rule_name, reason=reason,
                        idem_key=idem_key, created_at=now, day=day)
    if not _insert_entry(session, entry):
        return None
    if points:
        _add_to_balance(session, user.id, points, now)
        _bump_periods(session, user, points, day, now)
    return Grant(points, points < rule.points)


def debit(session: Session, user_id: int, cost: int, rule: str, reason: str, idem_key: str,
          now: datetime, day: date) -> bool:
    """Take `cost` points if the balance covers it; False (and nothing written) otherwise."""
    # Conditional decrement: the balance can never go below zero, even under concurrency.
    result = session.execute(
        update(User).where(col(User.id) == user_id, col(User.points) >= cost)
        .values(points=User.points - cost)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(PointsEntry(user_id=user_id, delta=-cost, rule=rule, reason=reason,
                            idem_key=idem_key, created_at=now, day=day))
    session.flush()
    return True


def _add_to_balance(session: Session, user_id: int, delta: int, now: datetime) -> None:
    # An SQL increment, not read-modify-write: two transactions for one worker cannot lose one.
    session.execute(update(User).where(col(User.id) == user_id)
                    .values(points=User.points + delta, points_at=now))


def _bump_periods(session: Session, user: User, delta: int, day: date, now: datetime) -> None:
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    for period in periods_of(day):
        stmt = insert(PeriodScore).values(
            period=period, user_id=user.id, enterprise_id=user.enterprise_id, points=delta,
            points_at=now, public=user.public_board)
        stmt = stmt.on_conflict_do_update(
            index_elements=["period", "user_id"],
            set_={"points": PeriodScore.points + delta, "points_at": now,
                  "enterprise_id": user.enterprise_id},
        )
        session.execute(stmt)


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
    session.execute(update(User).where(col(User.id) == user_id)
                    .values(credits=User.credits + credits))
    return True


def points_balance(session: Session, user_id: int) -> int:
    """Return the sum of a worker's ledger (the truth the cached `User.points` must equal)."""
    total = session.exec(
        select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.user_id == user_id)
    ).one()
    return int(total)
