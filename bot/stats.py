"""Citywide figures for operators (`jixing stats`): progress against the 1,000,000 goal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.datapacks import given_count
from bot.models import CreditEntry, Enterprise, Flag, LessonPass, PointsEntry, Redemption, User
from quiz_bank.schema import QuizBank

GOAL = 1_000_000


def citywide(session: Session, bank: QuizBank, data_pack_limit: int) -> dict[str, Any]:
    """Return the figures `jixing stats --json` prints."""
    def scalar(stmt: Any) -> Any:
        return session.exec(stmt).one()

    registered = scalar(select(func.count()).select_from(User).where(User.state == "ready"))
    trained = scalar(select(func.count()).select_from(User)
                     .where(col(User.trained_at).is_not(None)))
    given = given_count(session)
    credits_by_course = dict(session.exec(
        select(CreditEntry.course_id, func.count()).group_by(col(CreditEntry.course_id))).all())
    started_by_course = dict(session.exec(
        select(LessonPass.course_id, func.count(func.distinct(LessonPass.user_id)))
        .group_by(col(LessonPass.course_id))).all())
    return {
        "goal": GOAL,
        "workers_registered": registered,
        "workers_joining": scalar(select(func.count()).select_from(User)
                                  .where(User.state != "ready")),
        "workers_trained": trained,
        "trained_share_of_goal": round(trained / GOAL, 6),
        "enterprises": scalar(select(func.count()).select_from(Enterprise)),
        "credits_issued": float(scalar(select(func.coalesce(func.sum(CreditEntry.credits), 0)))),
        "points_issued": int(scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0))
                                    .where(col(PointsEntry.delta) > 0))),
        "points_spent": -int(scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0))
                                    .where(col(PointsEntry.delta) < 0))),
        "data_packs_given": given,
        "data_packs_left": max(data_pack_limit - given, 0),
        "mall_redemptions": scalar(select(func.count()).select_from(Redemption)),
        "accounts_flagged": scalar(select(func.count(func.distinct(Flag.user_id)))
                                   .where(col(Flag.cleared_at).is_(None))),
        "courses": {
            c.id: {"title": c.title, "required": c.required,
                   "workers_started": int(started_by_course.get(c.id, 0)),
                   "workers_completed": int(credits_by_course.get(c.id, 0))}
            for c in bank.courses
        },
    }
