"""What every handler gets: the open transaction, the worker, the message and the services."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.chat import Inbound
from bot.clock import Clock, local_day
from bot.config import Settings
from bot.domain.points import PointsRules
from bot.ledger import Grant, grant
from bot.models import Enterprise, User
from quiz_bank.schema import QuizBank


@dataclass(frozen=True)
class Deps:
    """Services built once by the composition root and shared by every request."""

    bank: QuizBank
    clock: Clock
    rng: random.Random
    settings: Settings
    rules: PointsRules
    shuffle: bool = True  # shuffle answer options per attempt (the demo turns it off)


@dataclass
class Context:
    """One inbound event being handled inside one database transaction."""

    session: Session
    inbound: Inbound
    user: User
    now: datetime  # UTC
    deps: Deps

    @property
    def uid(self) -> int:
        """Return the worker's id (always set: the core flushes a new worker before handlers run)."""
        assert self.user.id is not None
        return self.user.id

    @property
    def today(self) -> date:
        """Return today's date in the campaign's timezone."""
        return local_day(self.now, self.deps.settings.timezone)

    def day_start(self) -> datetime:
        """Return the start of today in the campaign's timezone."""
        return datetime.combine(self.today, datetime.min.time(),
                                 ZoneInfo(self.deps.settings.timezone))

    def enterprise(self) -> Enterprise | None:
        """Return the worker's enterprise, if bound."""
        if self.user.enterprise_id is None:
            return None
        return self.session.get(Enterprise, self.user.enterprise_id)

    def grant(self, rule: str, key: str, detail: str = "") -> Grant | None:
        """Grant a points rule once per key (see `bot.ledger.grant`)."""
        return grant(self.session, self.user, rule, key, detail, self.now, self.today,
                     self.deps.rules)
