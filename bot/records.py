"""One worker's full record, for operators settling a dispute (`jixing user show`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.datapacks import pack_of
from bot.learning import answer_counts, course_progress
from bot.models import Account, Enterprise, User
from quiz_bank.schema import QuizBank


def find_user(session: Session, channel: str, external_id: str) -> User | None:
    """Return the worker behind a chat identity, or None."""
    return session.exec(
        select(User).join(Account, Account.user_id == User.id)  # type: ignore[arg-type]
        .where(Account.channel == channel, Account.external_id == external_id)
    ).first()


def user_record(session: Session, bank: QuizBank, user: User, channel: str,
                external_id: str) -> dict[str, Any]:
    """Return the record as the documented JSON object (INTERFACES.md, `jixing user show`)."""
    ent = session.get(Enterprise, user.enterprise_id) if user.enterprise_id else None
    answers, correct = answer_counts(session, user.id)  # type: ignore[arg-type]
    pack = pack_of(session, user.id)  # type: ignore[arg-type]
    return {
        "channel": channel,
        "external_id": external_id,
        "user_id": user.id,
        "name": user.name,
        "enterprise": ent.name if ent else None,
        "group": user.group,
        "state": user.state,
        "points": user.points,
        "credits": user.credits,
        "answers": answers,
        "correct": correct,
        "streak_days": user.streak_days,
        "courses": {
            p.course.id: {"lessons_done": p.passed, "lessons_total": p.total,
                          "credit_earned": p.credit_earned}
            for p in course_progress(session, bank, user.id)  # type: ignore[arg-type]
        },
        "data_pack": pack.slot if pack else None,
        "data_pack_phone": pack.phone_masked if pack else None,
        "flagged": user.flagged,
    }
