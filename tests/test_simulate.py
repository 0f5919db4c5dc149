"""`jixing simulate`: the invariants real traffic keeps hold for simulated traffic too.

Checked against the database, on SQLite and PostgreSQL (`db_url`): balances equal ledger sums,
boards equal sums of grants, keys unique and in the handlers' formats, caps kept, data-pack
slots in completion order — and a simulated worker's messages, replayed through the real core,
write exactly what the simulator wrote.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, func, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from bot.app import App, build_app
from bot.clock import FixedClock, as_aware
from bot.ledger import periods_of
from bot.migrate import upgrade
from bot.models import (
    Account,
    Answer,
    CreditEntry,
    DataPack,
    DataPackCounter,
    Enterprise,
    LessonAttempt,
    LessonPass,
    PeriodScore,
    PointsEntry,
    ReviewItem,
    User,
)
from bot.records import user_record
from bot.simulate.people import company_name, external_id, person_name
from bot.simulate.simulation import Options, SeedUsed, simulate
from bot.simulate.writer import Storage
from tests.conftest import ON_POSTGRES, SHANGHAI, Chat, make_settings

ROOT = Path(__file__).resolve().parent.parent

NOW = datetime(2026, 10, 12, 21, 30, tzinfo=SHANGHAI)
PACKS = 5
# Tight caps, so a few hundred workers run into every one of them.
TIGHT_RULES = """
daily_total_cap = 12
[rules.first_correct]
daily_cap = 6
[rules.lesson_pass]
daily_cap = 4
"""


def sim_app(db_url: str, tmp_path: Path, **overrides: Any) -> App:
    """The app on the bundled bank, with tight caps and a small data-pack limit."""
    upgrade(db_url)
    rules = tmp_path / "rules.toml"
    rules.write_text(TIGHT_RULES, encoding="utf-8")
    values: dict[str, Any] = {"quiz_bank_path": None, "points_rules_path": rules,
                              "data_pack_limit": PACKS, **overrides}
    return build_app(make_settings(db_url, **values), clock=FixedClock(NOW),
                     rng=random.Random(7), shuffle=False)


def run(app: App, users: int = 300, seed: int = 3, **kw: Any) -> Any:
    opts = Options(users=users, enterprises=kw.pop("enterprises", 6), days=kw.pop("days", 30),
                   seed=seed, batch=kw.pop("batch", 1000), parallel=kw.pop("parallel", False))
    return simulate(app.engine, app.deps, opts, NOW.astimezone(UTC))


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[App]:
    application = sim_app(db_url, tmp_path)
    yield application
    application.engine.dispose()


@pytest.fixture
def roomy(db_url: str, tmp_path: Path) -> Iterator[App]:
    """The same app with more data packs than finishers, so replayed twins win one too."""
    application = sim_app(db_url, tmp_path, data_pack_limit=10_000)
    yield application
    application.engine.dispose()


@pytest.fixture
def simulated(app: App) -> App:
    summary = run(app)
    assert summary.workers == 300
    assert summary.trained > PACKS  # more finishers than packs: the limit is exercised
    return app


def aware(moment: datetime | None) -> datetime | None:
    return as_aware(moment) if moment is not None else None


# --- invariants -------------------------------------------------------------------------------


def test_every_balance_equals_the_sum_of_its_ledger(simulated: App) -> None:
    with Session(simulated.engine) as s:
        sums = dict(s.exec(select(PointsEntry.user_id, func.sum(PointsEntry.delta))
                           .group_by(col(PointsEntry.user_id))).all())
        users = s.exec(select(User.id, User.points)).all()
        assert len(users) == 300
        assert all(points == sums.get(uid, 0) for uid, points in users)
        assert sum(sums.values()) > 0
        credits = dict(s.exec(select(CreditEntry.user_id, func.sum(CreditEntry.credits))
                              .group_by(col(CreditEntry.user_id))).all())
        assert all(u.credits == credits.get(u.id, 0.0) for u in s.exec(select(User)).all())


def test_period_scores_are_the_sums_of_positive_grants(simulated: App) -> None:
    with Session(simulated.engine) as s:
        expected: dict[tuple[str, int], list[Any]] = {}
        for e in s.exec(select(PointsEntry).order_by(col(PointsEntry.id))).all():
            if e.delta <= 0:
                continue
            for period in periods_of(e.day):
                score = expected.setdefault((period, e.user_id), [0, None])
                score[0] += e.delta
                score[1] = max(filter(None, [score[1], aware(e.created_at)]))
        users = {u.id: u for u in s.exec(select(User)).all()}
        scores = s.exec(select(PeriodScore)).all()
        assert {(p.period, p.user_id) for p in scores} == set(expected)
        for p in scores:
            points, at = expected[(p.period, p.user_id)]
            assert (p.points, aware(p.points_at)) == (points, at)
            assert p.enterprise_id == users[p.user_id].enterprise_id
            assert p.public == users[p.user_id].public_board
            if p.period == "all":
                assert aware(users[p.user_id].points_at) == at
        assert any(not p.public for p in scores)  # the opt-outs are there, and hidden


KEY_FORMATS = {
    "first_correct": r"first_correct:(\d+):([\w-]+)",
    "daily_signin": r"signin:(\d+):(\d{4}-\d\d-\d\d)",
    "streak_7": r"streak_7:(\d+):(\d{4}-\d\d-\d\d)",
    "streak_30": r"streak_30:(\d+):(\d{4}-\d\d-\d\d)",
    "lesson_pass": r"lesson_pass:(\d+):([\w-]+)",
    "course_complete": r"course_complete:(\d+):([\w-]+)",
}


def test_idempotency_keys_are_unique_and_in_the_handlers_formats(simulated: App) -> None:
    bank = simulated.deps.bank
    with Session(simulated.engine) as s:
        entries = s.exec(select(PointsEntry)).all()
        assert len({e.idem_key for e in entries}) == len(entries)
        seen_rules = set()
        for e in entries:
            found = re.fullmatch(KEY_FORMATS[e.rule], e.idem_key)
            assert found, e.idem_key
            assert int(found[1]) == e.user_id
            seen_rules.add(e.rule)
            if e.rule == "first_correct":
                assert bank.question(found[2]) is not None
            elif e.rule == "lesson_pass":
                assert bank.lesson(found[2]) is not None
            elif e.rule == "course_complete":
                assert bank.course(found[2]) is not None
            else:
                assert found[2] == e.day.isoformat()
            label = simulated.deps.rules.rule(e.rule).label
            assert e.reason.startswith(label)
        assert seen_rules >= {"first_correct", "daily_signin", "lesson_pass", "course_complete",
                              "streak_7"}
        credits = s.exec(select(CreditEntry)).all()
        assert all(c.idem_key == f"credit:{c.user_id}:{c.course_id}" for c in credits)


def test_daily_caps_are_kept_and_capped_grants_say_so(simulated: App) -> None:
    rules = simulated.deps.rules
    with Session(simulated.engine) as s:
        entries = s.exec(select(PointsEntry)).all()
    per_rule: dict[tuple[int, date, str], int] = defaultdict(int)
    capped_total: dict[tuple[int, date], int] = defaultdict(int)
    for e in entries:
        rule = rules.rule(e.rule)
        per_rule[(e.user_id, e.day, e.rule)] += e.delta
        if rule.capped:
            capped_total[(e.user_id, e.day)] += e.delta
        assert 0 <= e.delta <= rule.points
        assert ("（今日已达上限）" in e.reason) == (e.delta < rule.points)
    assert rules.daily_total_cap is not None
    assert max(capped_total.values()) == rules.daily_total_cap  # reached, never passed
    for (_, _, name), total in per_rule.items():
        cap = rules.rule(name).daily_cap
        assert cap is None or total <= cap
    assert any(e.delta == 0 for e in entries)


def test_data_packs_go_to_the_first_finishers_in_completion_order(simulated: App) -> None:
    with Session(simulated.engine) as s:
        packs = s.exec(select(DataPack).order_by(col(DataPack.slot))).all()
        trained = s.exec(select(User).where(col(User.trained_at).is_not(None))
                         .order_by(col(User.trained_at), col(User.id))).all()
        counter = s.get(DataPackCounter, 1)
        assert counter is not None
        assert counter.given == PACKS
        assert [p.slot for p in packs] == list(range(1, PACKS + 1))
        assert [p.user_id for p in packs] == [u.id for u in trained[:PACKS]]
        assert [aware(p.claimed_at) for p in packs] == [aware(u.trained_at) for u in trained[:PACKS]]
        required = {c.id for c in simulated.deps.bank.required}
        for u in trained:
            earned = set(s.exec(select(CreditEntry.course_id)
                                .where(CreditEntry.user_id == u.id)).all())
            assert required <= earned


def test_attempts_answers_and_passes_agree(simulated: App) -> None:
    bank = simulated.deps.bank
    with Session(simulated.engine) as s:
        attempts = {a.id: a for a in s.exec(select(LessonAttempt)).all()}
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for a in s.exec(select(Answer)).all():
            counts[a.attempt_id][0] += 1
            counts[a.attempt_id][1] += a.correct
            assert not a.too_fast
            assert a.user_id == attempts[a.attempt_id].user_id
        for a in attempts.values():
            assert counts[a.id] == [a.position, a.correct]
            found = bank.lesson(a.lesson_id)
            assert found is not None
            if a.finished_at is None:
                assert a.passed is None
            else:
                assert a.position == len(found[1].questions)
        passes = s.exec(select(LessonPass)).all()
        passed_attempts = {(a.user_id, a.lesson_id) for a in attempts.values() if a.passed}
        assert {(p.user_id, p.lesson_id) for p in passes} == passed_attempts
        assert any(a.finished_at is None for a in attempts.values())  # some left half done
        reviews = s.exec(select(func.count()).select_from(ReviewItem)).one()
        pairs = select(Answer.user_id, Answer.question_id).distinct().subquery()
        answered = s.exec(select(func.count()).select_from(pairs)).one()
        assert reviews == answered


def test_workers_look_like_people_in_companies_of_zhuhai(simulated: App) -> None:
    with Session(simulated.engine) as s:
        users = s.exec(select(User)).all()
        enterprises = s.exec(select(Enterprise)).all()
        accounts = s.exec(select(Account)).all()
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", u.name or "") for u in users)
    assert {u.group for u in users} == {1, 2, 3, 4}
    assert {u.state for u in users} == {"ready"}
    assert all("珠海" in e.name and e.name.endswith("公司") for e in enterprises)
    assert all(re.fullmatch(r"[A-Z2-9]{6}", e.invite_code) for e in enterprises)
    assert len(accounts) == len(users) == len({a.user_id for a in accounts})
    assert {a.channel for a in accounts} == {"wechat", "telegram", "console"}
    idle = sum(1 for u in users if u.points == 0)
    keen = sum(1 for u in users if u.trained_at is not None)
    assert keen < len(users) - idle < idle  # a few keen, more occasional, most did nothing yet


def test_a_simulated_workers_record_reads_like_a_real_one(simulated: App) -> None:
    bank = simulated.deps.bank
    with Session(simulated.engine) as s:
        pack = s.exec(select(DataPack).where(DataPack.slot == 1)).one()
        user = s.get(User, pack.user_id)
        assert user is not None
        account = s.exec(select(Account).where(Account.user_id == user.id)).one()
        record = user_record(s, bank, user, account.channel, account.external_id)
        answers = s.exec(select(func.count()).select_from(Answer)
                         .where(Answer.user_id == user.id)).one()
    assert record["data_pack"] == 1
    assert record["points"] == user.points > 0
    assert record["answers"] == answers > 0
    assert 0 < record["correct"] <= record["answers"]
    assert record["enterprise"] and "公司" in record["enterprise"]
    for course in bank.required:
        assert record["courses"][course.id] == {"lessons_done": len(course.lessons),
                                                "lessons_total": len(course.lessons),
                                                "credit_earned": True}
    assert record["credits"] == sum(c.credits for c in bank.required) + sum(
        c.credits for c in bank.courses if not c.required and record["courses"][c.id]["credit_earned"])


# --- determinism ------------------------------------------------------------------------------


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def wipe(engine: Engine) -> None:
    tables = SQLModel.metadata.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for table in reversed(tables):
                conn.execute(table.delete())
        else:
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def test_the_same_seed_writes_the_same_database_in_process_or_not(app: App) -> None:
    first = run(app, users=250, seed=11, batch=2000)
    one = snapshot(app.engine)
    wipe(app.engine)
    # Another batch size, and the generator in its own process: the same workers all the same.
    second = run(app, users=250, seed=11, batch=1000, parallel=True)
    assert snapshot(app.engine) == one
    assert (first.answers, first.points, first.data_packs) == (
        second.answers, second.points, second.data_packs)
    wipe(app.engine)
    run(app, users=250, seed=12)
    other = snapshot(app.engine)
    assert other["user"] != one["user"]
    assert other["answer"] != one["answer"]


def test_a_seed_already_simulated_is_refused(app: App) -> None:
    run(app, users=20, seed=5)
    with pytest.raises(SeedUsed):
        run(app, users=20, seed=5)
    summary = run(app, users=20, seed=6)  # another seed adds to what is there
    assert summary.workers == 20
    with Session(app.engine) as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 40


def test_people_and_identities_are_seeded() -> None:
    a, b = random.Random(1), random.Random(1)
    assert [person_name(a) for _ in range(50)] == [person_name(b) for _ in range(50)]
    assert company_name(random.Random(2)) == company_name(random.Random(2))
    assert external_id("telegram", 3, 7) != external_id("telegram", 4, 7)
    assert re.fullmatch(r"o[\w-]{27}", external_id("wechat", 3, 7))
    assert len({external_id("wechat", 1, i) for i in range(10_000)}) == 10_000


def test_bulk_values_are_stored_as_sqlalchemy_stores_them() -> None:
    dialect = sqlite.dialect()
    stamp = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    day = Date().dialect_impl(dialect).bind_processor(dialect)
    assert stamp is not None and day is not None
    store = Storage(sqlite=True)
    for epoch in (0, 1_760_000_000, 1_760_000_059, 1_791_590_399):
        assert store.ts(epoch) == stamp(datetime.fromtimestamp(epoch, UTC))
    assert store.day(date(2026, 1, 5)) == day(date(2026, 1, 5))
    assert Storage(sqlite=False).ts(60) == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)


# --- the same as real traffic -----------------------------------------------------------------


def replay(app: App, uid: int, external: str) -> int:
    """Send a simulated worker's messages through the real core as a new worker; return its id."""
    clock = app.deps.clock
    assert isinstance(clock, FixedClock)
    with Session(app.engine) as s:
        user = s.get(User, uid)
        assert user is not None
        invite = s.exec(select(Enterprise.invite_code)
                        .where(Enterprise.id == user.enterprise_id)).one()
        attempts = s.exec(select(LessonAttempt).where(LessonAttempt.user_id == uid)
                          .order_by(col(LessonAttempt.id))).all()
        answers = s.exec(select(Answer).where(Answer.user_id == uid)
                         .order_by(col(Answer.id))).all()
    chat = Chat(app, external, pace=0)
    clock.set(as_aware(user.created_at))
    chat.send(f"/start {invite}")
    chat.send(user.name)
    chat.send(str(user.group))
    for attempt in attempts:
        clock.set(as_aware(attempt.started_at))
        assert any(r.kind == "question" for r in chat.send("学习"))
        for a in (a for a in answers if a.attempt_id == attempt.id):
            clock.set(as_aware(a.answered_at))
            chat.send(a.chosen)
    with Session(app.engine) as s:
        return s.exec(select(Account.user_id).where(Account.external_id == external)).one()


def history(engine: Engine, uid: int) -> dict[str, Any]:
    """Everything the handlers write for a worker, with the worker's id taken out."""
    def rows(model: Any, *cols: Any) -> list[tuple[Any, ...]]:
        with Session(engine) as s:
            found = s.exec(select(*cols).where(model.user_id == uid)
                           .order_by(col(model.id) if hasattr(model, "id") else cols[0])).all()
        return [tuple(aware(v) if isinstance(v, datetime) else v for v in r) for r in found]

    with Session(engine) as s:
        u = s.get(User, uid)
        assert u is not None
        user = (u.name, u.enterprise_id, u.group, u.state, aware(u.created_at), u.points,
                aware(u.points_at), u.credits, u.streak_days, u.last_study_day, u.freeze_week,
                u.public_board, u.flagged, aware(u.trained_at))
    return {
        "user": user,
        "points": [(r[0], r[1], r[2], r[3].replace(f":{uid}:", ":UID:"), *r[4:]) for r in rows(
            PointsEntry, PointsEntry.rule, PointsEntry.delta, PointsEntry.reason,
            PointsEntry.idem_key, PointsEntry.created_at, PointsEntry.day)],
        "attempts": rows(LessonAttempt, LessonAttempt.course_id, LessonAttempt.lesson_id,
                         LessonAttempt.layout, LessonAttempt.position, LessonAttempt.correct,
                         LessonAttempt.started_at, LessonAttempt.question_sent_at,
                         LessonAttempt.finished_at, LessonAttempt.passed),
        "answers": rows(Answer, Answer.question_id, Answer.chosen, Answer.correct,
                        Answer.answered_at, Answer.latency_ms, Answer.too_fast),
        "passes": rows(LessonPass, LessonPass.course_id, LessonPass.lesson_id, LessonPass.score,
                       LessonPass.passed_at, LessonPass.clean),
        "reviews": sorted(rows(ReviewItem, ReviewItem.question_id, ReviewItem.box,
                               ReviewItem.due_day)),
        "credits": rows(CreditEntry, CreditEntry.course_id, CreditEntry.credits,
                        CreditEntry.required, CreditEntry.created_at),
        "scores": sorted(rows(PeriodScore, PeriodScore.period, PeriodScore.enterprise_id,
                              PeriodScore.points, PeriodScore.points_at, PeriodScore.public)),
    }


def test_replaying_simulated_workers_through_the_core_writes_the_same(roomy: App) -> None:
    app = roomy
    run(app, users=300, seed=3)
    with Session(app.engine) as s:
        entries = s.exec(select(PointsEntry)).all()
        users = {u.id: u for u in s.exec(select(User).where(col(User.public_board))).all()}
        open_attempt = s.exec(select(LessonAttempt.user_id).join(User)
                              .where(col(LessonAttempt.finished_at).is_(None),
                                     col(User.public_board))).first()
    richness: dict[int, set[str]] = defaultdict(set)
    for e in entries:
        richness[e.user_id].add(e.rule + ("·capped" if e.delta == 0 else ""))
    keen = max((u for u in richness if u in users), key=lambda u: (len(richness[u]), u))
    assert {"streak_7", "course_complete", "first_correct·capped"} <= richness[keen]
    assert open_attempt is not None
    for n, uid in enumerate((keen, open_attempt)):
        twin = replay(app, uid, f"replay-{n}")
        assert history(app.engine, twin) == history(app.engine, uid)


# --- the command ------------------------------------------------------------------------------


def test_the_command_fills_the_database_and_refuses_the_same_seed_twice(
        db_url: str, tmp_path: Path) -> None:
    url = db_url if ON_POSTGRES else f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "HOME": str(tmp_path), "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "bot", "simulate", "--users", "120", "--enterprises", "3",
            "--days", "7", "--seed", "9"]
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "workers: 120"
    assert lines[1] == "enterprises: 3"
    assert {line.split(":")[0] for line in lines} >= {
        "answers", "points issued", "data packs", "seconds"}
    assert "120 / 120 workers" in done.stderr
    again = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300, check=False)
    assert again.returncode == 1
    assert "seed 9 was already simulated" in again.stderr
    assert "Traceback" not in again.stderr
