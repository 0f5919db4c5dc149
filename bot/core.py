"""The platform-neutral core: one inbound event in, replies out, effects committed exactly once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, func, select

from bot.chat import Inbound, Reply, replies_from_json, replies_to_json
from bot.db import transaction
from bot.messages import SLOW_DOWN
from bot.models import Account, InboxEvent, User
from handlers.context import Context, Deps
from handlers.routes import dispatch

log = logging.getLogger(__name__)
ATTEMPTS = 5


class Core:
    """Handle inbound events: dedupe, resolve the worker, dispatch, store the replies."""

    def __init__(self, engine: Engine, deps: Deps) -> None:
        self.engine = engine
        self.deps = deps

    def handle(self, inbound: Inbound) -> list[Reply]:
        """Process one event; a repeat of the same `dedupe_key` returns the stored replies."""
        for attempt in range(ATTEMPTS):
            try:
                with transaction(self.engine) as session:
                    return self._handle_once(session, inbound)
            except (IntegrityError, OperationalError) as exc:
                # A concurrent delivery of the same event, or a race on a unique row (a new
                # account, a ledger key): everything rolled back, so running again is safe and
                # the second pass sees what the winner committed.
                if attempt == ATTEMPTS - 1 or not _retryable(exc):
                    raise
                log.info("retrying %s after %s", inbound.dedupe_key, type(exc).__name__)
        raise AssertionError("unreachable")

    def _handle_once(self, session: Session, inbound: Inbound) -> list[Reply]:
        stored = session.exec(
            select(InboxEvent).where(InboxEvent.dedupe_key == inbound.dedupe_key)
        ).first()
        if stored is not None:
            log.info("duplicate delivery %s: replaying stored replies", inbound.dedupe_key)
            return replies_from_json(stored.replies)
        now = self.deps.clock.now().astimezone(UTC)
        user = self._user_for(session, inbound, now)
        ctx = Context(session=session, inbound=inbound, user=user, now=now, deps=self.deps)
        replies = [Reply(SLOW_DOWN)] if self._flooding(session, user, now) else dispatch(ctx)
        session.add(InboxEvent(dedupe_key=inbound.dedupe_key, channel=inbound.channel,
                               user_id=user.id, replies=replies_to_json(replies),
                               received_at=now))
        session.flush()
        return replies

    def _flooding(self, session: Session, user: User, now: datetime) -> bool:
        """Tell whether the worker sent more messages in the last minute than the rules allow."""
        limit = self.deps.rules.anticheat.messages_per_minute
        recent = session.exec(select(func.count()).select_from(InboxEvent).where(
            InboxEvent.user_id == user.id,
            col(InboxEvent.received_at) > now - timedelta(minutes=1))).one()
        return int(recent) >= limit

    def _user_for(self, session: Session, inbound: Inbound, now: datetime) -> User:
        """Return the worker behind a chat identity, creating both on first contact."""
        row = session.exec(
            select(User).join(Account, Account.user_id == User.id)  # type: ignore[arg-type]
            .where(Account.channel == inbound.channel,
                   Account.external_id == inbound.external_id)
        ).first()
        if row is not None:
            return row
        user = User(created_at=now)
        session.add(user)
        session.flush()
        session.add(Account(channel=inbound.channel, external_id=inbound.external_id,
                            user_id=user.id, created_at=now))  # type: ignore[arg-type]
        session.flush()
        return user


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    # SQLite "database is locked" and PostgreSQL serialization failures are worth another go.
    text = str(exc).lower()
    return "locked" in text or "serializ" in text or "deadlock" in text
