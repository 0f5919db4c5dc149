"""Hypothesis stateful test of the ledger, through the real core: for any sequence of answers,
re-deliveries, lessons, days passing and redemptions, the balance equals the sum of the
entries, never goes negative, and no idempotency key is applied twice."""

from __future__ import annotations

import itertools
import random
from datetime import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import build_app
from bot.chat import Inbound
from bot.clock import FixedClock
from bot.db import transaction
from bot.enterprises import ensure_enterprise
from bot.ledger import ALL_TIME
from bot.mall import add_item
from bot.models import Answer, InboxEvent, PeriodScore, PointsEntry, User
from tests.conftest import SHANGHAI, make_settings

_ids = itertools.count()


def test_ledger_invariants_hold_for_any_sequence(engine, db_url: str) -> None:
    clock = FixedClock(datetime(2026, 10, 12, 9, tzinfo=SHANGHAI))
    app = build_app(make_settings(db_url), clock=clock, rng=random.Random(5), engine=engine,
                    shuffle=True)
    with transaction(engine) as s:
        ensure_enterprise(s, "测试机械厂", "ACME", clock.now())
        item_ids = [add_item(s, "小奖品", cost=c, stock=st_, per_person=2, now=clock.now()).id
                    for c, st_ in ((1, 3), (3, 50))]

    class Ledger(RuleBasedStateMachine):
        """One worker per run, doing anything in any order."""

        @initialize()
        def join(self) -> None:
            self.worker = f"h{next(_ids)}"
            self.sent: list[Inbound] = []
            for text in ("/start ACME", "张三明", "2"):
                self.send(text)

        def send(self, text: str) -> None:
            inbound = Inbound("console", self.worker, f"{self.worker}:{len(self.sent)}",
                              clock.now(), text=text)
            self.sent.append(inbound)
            app.core.handle(inbound)

        @rule(letters=st.sampled_from(["A", "B", "C", "AC", "对", "错"]),
              seconds=st.sampled_from([0.5, 30]))
        def answer(self, letters: str, seconds: float) -> None:
            clock.advance(seconds=seconds)
            self.send(letters)

        @rule()
        def learn(self) -> None:
            clock.advance(seconds=10)
            self.send("学习")

        @rule()
        def review(self) -> None:
            self.send("复习")

        @rule(data=st.data())
        def redeliver(self, data: st.DataObject) -> None:
            """A platform retry: the same event again, replies must match the first time."""
            if not self.sent:
                return
            inbound = data.draw(st.sampled_from(self.sent))
            first = app.core.handle(inbound)
            assert app.core.handle(inbound) == first

        @rule(index=st.sampled_from([0, 1]))
        def redeem(self, index: int) -> None:
            self.send(f"兑换 {item_ids[index]}")

        @rule(hours=st.sampled_from([5, 20, 30]))
        def time_passes(self, hours: int) -> None:
            clock.advance(hours=hours)

        @invariant()
        def balance_is_the_sum_of_entries(self) -> None:
            with Session(engine) as s:
                user = s.exec(select(User).order_by(col(User.id).desc())).first()
                if user is None:
                    return
                total = s.exec(select(func.coalesce(func.sum(PointsEntry.delta), 0))
                               .where(PointsEntry.user_id == user.id)).one()
                assert user.points == total
                assert user.points >= 0
                earned = s.exec(select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                    PointsEntry.user_id == user.id, col(PointsEntry.delta) > 0)).one()
                all_time = s.get(PeriodScore, (ALL_TIME, user.id))
                assert (all_time.points if all_time else 0) == earned

        @invariant()
        def every_event_and_key_counts_once(self) -> None:
            with Session(engine) as s:
                keys = s.exec(select(func.count(), func.count(func.distinct(PointsEntry.idem_key)))
                              .select_from(PointsEntry)).one()
                assert keys[0] == keys[1]
                events = s.exec(select(func.count()).select_from(InboxEvent)).one()
                distinct = s.exec(select(func.count(func.distinct(InboxEvent.dedupe_key)))).one()
                assert events == distinct
                # one first-correct grant per (worker, question), however often answered
                dup = s.exec(select(PointsEntry.user_id, PointsEntry.reason, func.count())
                             .where(PointsEntry.rule == "first_correct")
                             .group_by(col(PointsEntry.user_id), col(PointsEntry.reason))
                             .having(func.count() > 1)).all()
                assert dup == []
                twice = s.exec(select(Answer.attempt_id, Answer.question_id, func.count())
                               .group_by(col(Answer.attempt_id), col(Answer.question_id))
                               .having(func.count() > 1)).all()
                assert twice == []

    Ledger.TestCase.settings = settings(
        max_examples=25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    Ledger.TestCase().runTest()
