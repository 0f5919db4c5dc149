"""Scarce goods under real concurrency (threads; SQLite and PostgreSQL): more finishers than
data packs, more buyers than stock."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.app import App, build_app
from bot.chat import Inbound
from bot.db import transaction
from bot.enterprises import ensure_enterprise
from bot.ledger import points_balance
from bot.mall import add_item
from bot.models import DataPack, MallItem, Redemption, User
from tests.conftest import Chat, make_settings

FINISHERS = 12
PACKS = 5


class TickingClock:
    """A thread-safe clock that moves 10 ms on every reading, so order is visible."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self._now += timedelta(milliseconds=10)
            return self._now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


def make_app(engine, db_url: str, clock: TickingClock, **settings: object) -> App:
    application = build_app(make_settings(db_url, **settings), clock=clock,  # type: ignore[arg-type]
                            rng=random.Random(1), engine=engine, shuffle=False)
    with transaction(engine) as s:
        ensure_enterprise(s, "测试机械厂", "ACME", clock.now())
    return application


def run_together(calls: list) -> list:
    """Start every call at the same moment on its own thread."""
    barrier = threading.Barrier(len(calls))

    def go(call):  # type: ignore[no-untyped-def]
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def test_exactly_the_limit_of_data_packs_in_completion_order(engine, db_url: str) -> None:
    clock = TickingClock(datetime(2026, 10, 12, 1, tzinfo=UTC))
    app = make_app(engine, db_url, clock, data_pack_limit=PACKS)
    chats = [Chat(app, f"w{i}", pace=0) for i in range(FINISHERS)]
    for c in chats:  # everyone up to the last question of the last required lesson
        c.join(name="张三明")
        for lesson in (["B", "A"], ["AC", "B"]):
            c.send("学习")
            for letters in lesson:
                clock.advance(seconds=30)
                c.send(letters)
        c.send("学习")  # mini-b-01's only question is now open
    clock.advance(seconds=30)

    def finish(i: int):  # type: ignore[no-untyped-def]
        inbound = Inbound("console", f"w{i}", f"final-{i}", clock.now(), text="C")
        return app.core.handle(inbound)

    results = run_together([lambda i=i: finish(i) for i in range(FINISHERS)])
    winners = ["10GB 手机流量包" in "".join(r.text for r in res) for res in results]
    assert sum(winners) == PACKS
    with Session(engine) as s:
        packs = s.exec(select(DataPack).order_by(col(DataPack.slot))).all()
        assert [p.slot for p in packs] == list(range(1, PACKS + 1))
        assert len({p.user_id for p in packs}) == PACKS
        claimed = [p.claimed_at for p in packs]
        assert claimed == sorted(claimed)  # slot order is the order they were claimed in
        trained = s.exec(select(User).where(col(User.trained_at).is_not(None))).all()
        assert len(trained) == FINISHERS  # everyone finished; only the first PACKS got packs


def test_the_last_item_in_stock_goes_to_exactly_one_buyer(engine, db_url: str) -> None:
    clock = TickingClock(datetime(2026, 10, 12, 1, tzinfo=UTC))
    app = make_app(engine, db_url, clock)
    buyers = 10
    with transaction(engine) as s:
        item_id = add_item(s, "保温杯", cost=2, stock=3, per_person=1, now=clock.now()).id
    chats = [Chat(app, f"b{i}", pace=30) for i in range(buyers)]
    for c in chats:
        c.join(name="李四")
        c.send("学习")
        c.send("B")  # sign-in + first correct: 2 points
    results = run_together([
        (lambda c=c: c.app.core.handle(Inbound("console", c.external_id, f"buy-{c.external_id}",
                                               clock.now(), text=f"兑换 {item_id}")))
        for c in chats])
    ok = [any("兑换成功" in r.text for r in res) for res in results]
    assert sum(ok) == 3
    with Session(engine) as s:
        assert s.get(MallItem, item_id).stock == 0  # type: ignore[union-attr]
        assert len(s.exec(select(Redemption)).all()) == 3
        for user in s.exec(select(User)).all():
            assert user.points >= 0
            assert points_balance(s, user.id) == user.points  # type: ignore[arg-type]


def test_one_worker_double_tapping_redeem_gets_one_item(engine, db_url: str) -> None:
    clock = TickingClock(datetime(2026, 10, 12, 1, tzinfo=UTC))
    app = make_app(engine, db_url, clock)
    with transaction(engine) as s:
        item_id = add_item(s, "雨伞", cost=1, stock=10, per_person=1, now=clock.now()).id
    chat = Chat(app, "x", pace=30)
    chat.join()
    chat.send("学习")
    chat.send("B")
    run_together([
        (lambda k=k: app.core.handle(Inbound("console", "x", f"tap-{k}", clock.now(),
                                             text=f"兑换 {item_id}")))
        for k in range(6)])
    with Session(engine) as s:
        assert len(s.exec(select(Redemption)).all()) == 1
        user = s.exec(select(User)).one()
        assert user.points == 1 and points_balance(s, user.id) == 1  # type: ignore[arg-type]
