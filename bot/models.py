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

    # Participation per enterprise (registered, trained) from the index alone, without the
    # table rows: 1.8 s → 0.16 s over a million workers (docs/benchmarks.md).
    __table_args__ = (Index("ix_user_participation", "enterprise_id", "state", "trained_at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = None
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id")
    group: int | None = None  # 1 新到珠产业工人 2 产业工人 3 骨干专业技术人才 4 经营管理人员
    state: str = "await_invite"  # await_invite → await_name → await_group → ready
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    points: int = 0  # spendable balance: the sum of the points ledger
    points_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]
    credits: float = 0.0
    streak_days: int = 0
    last_study_day: date | None = None
    freeze_week: str | None = None  # ISO week whose streak freeze was spent
    reachable: bool = True
    public_board: bool = True  # False: left out of every published board (opt-out)
    flagged: bool = False  # under a cheat review: no draws until an operator clears it
    # When the second required credit was earned: "trained" for the campaign's figures.
    trained_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]


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
    too_fast: bool = False  # quicker than anyone can read the question: no points


class LessonPass(SQLModel, table=True):
    """A lesson passed at the pass mark; the first pass counts."""

    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_lesson_pass"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    course_id: str = Field(index=True)
    lesson_id: str
    score: float
    passed_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    clean: bool = True  # no answer of the passing attempt was faster than reading time


class PointsEntry(SQLModel, table=True):
    """One grant or debit of points; `idem_key` makes each grant happen once."""

    __table_args__ = (
        Index("ix_points_user_day", "user_id", "day", "rule"),
        Index("ix_points_day", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    delta: int
    rule: str  # machine name of the rule, e.g. "first_correct"
    reason: str  # what the worker reads, e.g. "首次答对：zhuhai-01-q1"
    idem_key: str = Field(unique=True)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    day: date  # the calendar day in TIMEZONE, for daily caps and monthly draws


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

    __table_args__ = (Index("ix_inbox_user_time", "user_id", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    channel: str
    user_id: int | None = Field(default=None, foreign_key="user.id")
    replies: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    received_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class PeriodScore(SQLModel, table=True):
    """Points per worker per period (``2026-W42``, ``2026-10``, ``2026``), kept with the ledger.

    Weekly, monthly and yearly boards then read an index instead of summing a million ledgers.
    """

    __table_args__ = (
        Index("ix_period_board", "period", "public", "points", "points_at", "user_id"),
        Index("ix_period_enterprise_board", "period", "enterprise_id", "public", "points",
              "points_at", "user_id"),
    )

    period: str = Field(primary_key=True)
    user_id: int = Field(primary_key=True, foreign_key="user.id")
    enterprise_id: int | None = None
    points: int = 0  # earned in the period (spending in the mall does not lower a rank)
    # When the score last grew: among equal scores the earlier one ranks first.
    points_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    public: bool = True  # mirrors User.public_board so a board never needs a join


class ReviewItem(SQLModel, table=True):
    """A question in a worker's spaced review: its Leitner box and the day it is due."""

    __table_args__ = (
        UniqueConstraint("user_id", "question_id", name="uq_review_item"),
        Index("ix_review_due", "user_id", "due_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    question_id: str
    box: int = 0  # 0: got it wrong last time
    due_day: date


class DataPackCounter(SQLModel, table=True):
    """The single row that hands out data-pack slot numbers, one transaction at a time."""

    id: int = Field(default=1, primary_key=True)
    given: int = 0


class DataPack(SQLModel, table=True):
    """A numbered 10 GB data pack: slot N went to the N-th worker to finish both required courses."""

    slot: int = Field(primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    claimed_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    phone_encrypted: str | None = None  # Fernet token; collected only after the award
    phone_masked: str | None = None
    phone_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]


class MallItem(SQLModel, table=True):
    """Something in the points mall (积分商城), with stock and a per-person limit."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    cost: int
    stock: int
    per_person: int = 1
    active: bool = True
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class Redemption(SQLModel, table=True):
    """One redemption: points debited, stock reserved, and the code the worker shows."""

    __table_args__ = (Index("ix_redemption_user_item", "user_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    item_id: int = Field(foreign_key="mallitem.id")
    cost: int
    code: str = Field(unique=True)
    idem_key: str = Field(unique=True)
    status: str = "issued"  # issued → delivered
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class Flag(SQLModel, table=True):
    """A reason to review an account (e.g. answers faster than anyone can read)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    reason: str
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    cleared_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]
    cleared_by: str | None = None


# --- WeChat --- (state of the WeChat / WeCom channels: bot/channels/wechat*.py, wecom.py)


class WeChatToken(SQLModel, table=True):
    """An API access token shared by every process, so one process's refresh never strands another."""

    key: str = Field(primary_key=True)  # "<app id>_access_token"; WeCom adds a hash of the secret
    value: str | None = None
    expires_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]
    # Set while one process fetches a new token; the others wait for it instead of fetching.
    refreshing_until: datetime | None = _ts(nullable=True)  # type: ignore[assignment]


class WeChatSend(SQLModel, table=True):
    """One message pushed through the API: counts for the 48 h quota and WeCom's rate limits.

    The 48 h window itself starts at the worker's last `InboxEvent` on the channel.
    """

    __table_args__ = (Index("ix_wechat_send_recipient", "channel", "external_id", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    external_id: str
    kind: str  # "custom" (客服消息) | "template" (模板消息) | "app" (WeCom message/send)
    idem_key: str | None = Field(default=None, unique=True)  # set when a retry must not send twice
    sent_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
