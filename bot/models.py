"""Database tables: workers and their accounts, learning progress, ledgers and the inbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _ts(**kw: object) -> object:
    """A timezone-aware timestamp column (SQLite stores it as text, PostgreSQL as timestamptz)."""
    return Field(sa_column=Column(DateTime(timezone=True), **kw))  # type: ignore[arg-type]


class Enterprise(SQLModel, table=True):
    """A company whose workers join with its invite code."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    invite_code: str = Field(unique=True, index=True)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class User(SQLModel, table=True):
    """A worker, whatever chat app they use; balances here are caches of the ledgers."""

    __table_args__ = (
        # The citywide board and one's own rank: ORDER BY points DESC, points_at, id LIMIT n.
        Index("ix_user_board", "points", "points_at", "id"),
        Index("ix_user_enterprise_board", "enterprise_id", "points", "points_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = None
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id")
    group: int | None = None  # 1 新到珠产业工人 2 产业工人 3 骨干专业技术人才 4 经营管理人员
    state: str = "await_invite"  # await_invite → await_name → await_group → ready
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    points: int = 0
    # When `points` last changed: earlier reaches rank first among equal scores.
    points_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]
    credits: float = 0.0
    streak_days: int = 0
    last_study_day: date | None = None
    reachable: bool = True


class Account(SQLModel, table=True):
    """One chat identity (Telegram user id, WeChat openid …) bound to a worker."""

    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_account_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    external_id: str
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class LessonAttempt(SQLModel, table=True):
    """One sitting of a lesson: question order, option order, where the worker is."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    course_id: str
    lesson_id: str
    # JSON list of {"q": question id, "perm": [original option index per shown letter]}.
    layout: str = Field(sa_column=Column(Text, nullable=False))
    position: int = 0
    correct: int = 0
    started_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    question_sent_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]
    finished_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]
    passed: bool | None = None


class Answer(SQLModel, table=True):
    """A worker's answer to one question of one attempt; at most one per question per attempt."""

    __table_args__ = (UniqueConstraint("attempt_id", "question_id", name="uq_answer_once"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    attempt_id: int = Field(foreign_key="lessonattempt.id")
    question_id: str = Field(index=True)
    chosen: str  # the original option letters, after undoing the shuffle
    correct: bool
    answered_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    latency_ms: int | None = None


class LessonPass(SQLModel, table=True):
    """A lesson passed at the pass mark; the first pass counts."""

    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_lesson_pass"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    course_id: str = Field(index=True)
    lesson_id: str
    score: float
    passed_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class PointsEntry(SQLModel, table=True):
    """One grant or debit of points; `idem_key` makes each grant happen once."""

    __table_args__ = (Index("ix_points_user_time", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    delta: int
    rule: str  # machine name of the rule, e.g. "first_correct"
    reason: str  # what the worker reads, e.g. "首次答对：zhuhai-01-q1"
    idem_key: str = Field(unique=True)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class CreditEntry(SQLModel, table=True):
    """Credits (学分) for one finished course; earned once per worker and course."""

    __table_args__ = (UniqueConstraint("user_id", "course_id", name="uq_credit_once"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    course_id: str
    credits: float
    required: bool
    idem_key: str = Field(unique=True)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class InboxEvent(SQLModel, table=True):
    """An inbound event already processed, with the replies it produced (for platform retries)."""

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    channel: str
    user_id: int | None = Field(default=None, foreign_key="user.id")
    replies: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    received_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
