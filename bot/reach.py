"""Whether a worker can still be messaged on a channel (blocked the bot, unfollowed)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.db import transaction
from bot.models import Account, User


def set_reachable(engine: Engine, channel: str, external_id: str, reachable: bool) -> None:
    """Mark the worker behind a chat identity as (un)reachable, so senders stop retrying."""
    with transaction(engine) as session:
        user_id = session.exec(select(Account.user_id).where(
            Account.channel == channel, Account.external_id == external_id)).first()
        if user_id is not None:
            session.execute(update(User).where(User.id == user_id)  # type: ignore[arg-type]
                            .values(reachable=reachable))
