"""The points mall (积分商城): redemptions that debit points and reserve stock in one step."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.enterprises import INVITE_ALPHABET
from bot.ledger import debit
from bot.models import MallItem, Redemption


@dataclass(frozen=True)
class Outcome:
    """How a redemption went: `ok`, or the reason it did not."""

    status: str  # ok | no_item | no_stock | limit | poor
    item: MallItem | None = None
    code: str | None = None


class _Undo(Exception):
    """Roll back the savepoint: one check failed after the debit."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def redeem(session: Session, user_id: int, item_id: int, idem_key: str, now: datetime,
           day: date) -> Outcome:
    """Redeem one item: balance never below zero, stock never below zero, per-person limit kept."""
    item = session.get(MallItem, item_id)
    if item is None or not item.active:
        return Outcome("no_item")
    if item.stock <= 0:
        return Outcome("no_stock", item)
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))
    try:
        with session.begin_nested():
            # The debit locks the worker's row first, so their own concurrent redemptions queue
            # here and the per-person count below is exact.
            if not debit(session, user_id, item.cost, "mall", f"兑换：{item.name}",
                         f"redeem:{idem_key}", now, day):
                raise _Undo("poor")
            taken = session.exec(select(func.count()).select_from(Redemption).where(
                Redemption.user_id == user_id, Redemption.item_id == item_id)).one()
            if taken >= item.per_person:
                raise _Undo("limit")
            reserved = session.execute(
                update(MallItem).where(col(MallItem.id) == item_id, col(MallItem.stock) > 0)
                .values(stock=MallItem.stock - 1))
            if reserved.rowcount != 1:  # type: ignore[attr-defined]
                raise _Undo("no_stock")
            session.add(Redemption(user_id=user_id, item_id=item_id, cost=item.cost, code=code,
                                   idem_key=f"redeem:{idem_key}", created_at=now))
            session.flush()
    except _Undo as undo:
        return Outcome(undo.status, item)
    session.refresh(item)
    return Outcome("ok", item, code)


def active_items(session: Session) -> list[MallItem]:
    """Return the items on sale, cheapest first."""
    return list(session.exec(select(MallItem).where(col(MallItem.active).is_(True))
                             .order_by(col(MallItem.cost), col(MallItem.id))).all())


def add_item(session: Session, name: str, cost: int, stock: int, per_person: int,
             now: datetime) -> MallItem:
    """Put an item on sale."""
    if cost <= 0 or stock < 0 or per_person <= 0:
        raise ValueError("cost and per-person limit must be positive, stock not negative")
    item = MallItem(name=name, cost=cost, stock=stock, per_person=per_person, created_at=now)
    session.add(item)
    session.flush()
    return item
