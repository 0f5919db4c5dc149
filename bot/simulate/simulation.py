"""The simulation run: synthetic enterprises, workers and their learning, for rehearsals and benchmarks.

Enterprises come from `bot.enterprises.create_enterprise`, credits from `bot.ledger.grant_credit`,
data packs from `bot.datapacks.claim` (in completion order, after all workers are written).
Workers, accounts, attempts, answers, passes, review items and points entries are computed by
`bot.simulate.activity` with the handlers' own rules and bulk-inserted a batch at a time; the
invariants that makes safe (balance = ledger sum, boards = sums of grants, keys unique, caps
kept, slots in completion order) are checked in `tests/test_simulate.py`.

The run expects no other writers (a rehearsal or benchmark database): it numbers workers and
attempts itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from queue import Empty
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import datapacks
from bot.clock import FixedClock
from bot.db import transaction
from bot.domain.points import PointsRules
from bot.enterprises import create_enterprise
from bot.ledger import grant_credit
from bot.models import (
    Account,
    Answer,
    LessonAttempt,
    LessonPass,
    PointsEntry,
    ReviewItem,
    User,
)
from bot.simulate.activity import (
    ACCOUNT_COLUMNS,
    ANSWER_COLUMNS,
    ATTEMPT_COLUMNS,
    CHANNELS,
    PASS_COLUMNS,
    POINTS_COLUMNS,
    REVIEW_COLUMNS,
    USER_COLUMNS,
    Calendar,
    Company,
    Rows,
    Simulator,
)
from bot.simulate.curriculum import Curriculum
from bot.simulate.people import company_name, external_id, invite_code
from bot.simulate.writer import BulkWriter, Storage
from handlers.context import Deps

log = logging.getLogger(__name__)

BLOCK = 1000  # workers per rng stream: the same seed gives the same workers whatever the batch
CLAIMS_PER_TRANSACTION = 1000


@dataclass(frozen=True)
class Options:
    """What to simulate."""

    users: int
    enterprises: int = 1
    days: int = 30
    seed: int = 0
    batch: int = 5000  # workers per transaction (rounded to whole blocks of 1,000)
    parallel: bool | None = None  # generate in a second process; None: when it pays


@dataclass(frozen=True)
class Summary:
    """What a run wrote."""

    workers: int
    enterprises: int
    answers: int
    points: int
    credits: int
    trained: int
    data_packs: int
    data_packs_left: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for tuning

    def lines(self) -> list[str]:
        """Return the summary an operator reads."""
        return [
            f"workers: {self.workers:,}",
            f"enterprises: {self.enterprises:,}",
            f"answers: {self.answers:,}",
            f"points issued: {self.points:,}",
            f"course credits: {self.credits:,}",
            f"trained (both required courses): {self.trained:,}",
            f"data packs: {self.data_packs:,} given, {self.data_packs_left:,} left",
            f"seconds: {self.seconds:.1f}",
        ]


class SeedUsed(ValueError):
    """This seed's workers are already in the database."""


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _companies(session: Session, options: Options, window_start: datetime) -> list[Company]:
    """Create the enterprises through the real service, with seeded names and invite codes."""
    rng = random.Random(f"jixing-simulate:{options.seed}:enterprises")
    names: set[str] = set()
    companies = []
    for _ in range(options.enterprises):
        name = company_name(rng)
        while name in names:
            name = company_name(rng)
        names.add(name)
        created = window_start - timedelta(days=rng.randint(30, 1500), seconds=rng.randint(0, 86399))
        # Heavy-tailed sizes (a few big factories, many workshops), capped so one small run is
        # not a single company; engagement sets how many of their workers study.
        size = min(rng.paretovariate(1.16), 400.0)
        engagement = min(3.0, max(0.2, rng.lognormvariate(0.0, 0.6)))
        code = invite_code(rng)
        while True:
            try:
                ent = create_enterprise(session, name, created, code)
                break
            except ValueError:  # the code is taken (an earlier run): draw another
                code = invite_code(rng)
        assert ent.id is not None
        companies.append(Company(ent.id, size, engagement))
    return companies


def _check_seed(session: Session, seed: int) -> None:
    taken = session.exec(select(Account.id).where(
        col(Account.external_id).in_([external_id(c, seed, 0) for c in CHANNELS]))).first()
    if taken is not None:
        raise SeedUsed(f"seed {seed} was already simulated in this database; use another --seed")


@dataclass(frozen=True)
class Plan:
    """Everything the worker generator needs; picklable, so it can run in its own process."""

    seed: int
    users: int
    batch_blocks: int
    curriculum: Curriculum
    rules: PointsRules
    calendar: Calendar
    companies: list[Company]
    first_user_id: int
    first_attempt_id: int
    sqlite: bool

    def batches(self) -> list[range]:
        """Return the blocks of each transaction."""
        blocks = -(-self.users // BLOCK)
        return [range(b, min(b + self.batch_blocks, blocks))
                for b in range(0, blocks, self.batch_blocks)]


def generate(plan: Plan) -> Iterator[Rows]:
    """Yield the rows of each batch of workers, in order."""
    sim = Simulator(seed=plan.seed, curriculum=plan.curriculum, rules=plan.rules,
                    calendar=plan.calendar, companies=plan.companies,
                    first_user_id=plan.first_user_id, next_attempt_id=plan.first_attempt_id,
                    storage=Storage(plan.sqlite))
    for blocks in plan.batches():
        for block in blocks:
            first = block * BLOCK
            sim.block(block, first, min(BLOCK, plan.users - first))
        yield sim.take()


def _produce(plan: Plan, queue: Any) -> None:
    """Generate batches in a child process and hand them over (None at the end)."""
    try:
        for rows in generate(plan):
            queue.put(rows)
        queue.put(None)
    except BaseException:
        queue.put(traceback.format_exc())
        raise


def _generated(plan: Plan, parallel: bool) -> Iterator[Rows]:
    """Yield batches, generated here or — on two cores or more — in a second process.

    The database takes one writer; the generator is pure Python. Running it in its own process
    while this one writes the previous batch uses both cores, with the same output.
    """
    if not parallel:
        yield from generate(plan)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding connections
    queue = ctx.Queue(maxsize=2)  # at most two batches wait in memory
    proc = ctx.Process(target=_produce, args=(plan, queue), name="jixing-simulate", daemon=True)
    proc.start()
    try:
        while True:
            try:
                item = queue.get(timeout=5)
            except Empty:
                if proc.is_alive():
                    continue
                raise RuntimeError("simulate: the worker generator died") from None
            if item is None:
                return
            if isinstance(item, str):
                raise RuntimeError(f"simulate: the worker generator failed\n{item}")
            yield item
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()


def simulate(engine: Engine, deps: Deps, options: Options, now: datetime,
             progress: Callable[[int], None] | None = None) -> Summary:
    """Fill the database with `options.users` workers' learning over the `options.days` before `now`."""
    if options.users < 1 or options.enterprises < 1 or options.days < 1:
        raise ValueError("users, enterprises and days must be at least 1")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    calendar = Calendar(now, options.days, deps.settings.timezone)
    with _timed(timings, "enterprises"), transaction(engine) as session:
        _check_seed(session, options.seed)
        companies = _companies(session, options, _moment(calendar.midnights[0]))
        writer = BulkWriter(session)
        plan = Plan(options.seed, options.users, max(1, options.batch // BLOCK),
                    Curriculum.of(deps.bank, deps.rules), deps.rules, calendar, companies,
                    writer.next_id(User), writer.next_id(LessonAttempt), writer.sqlite)
    parallel = options.parallel if options.parallel is not None else (
        options.users >= 20 * BLOCK and (os.cpu_count() or 1) > 1)

    answers = points = credits = done = 0
    trained: list[tuple[int, int]] = []
    batches = _generated(plan, parallel)
    while True:
        with _timed(timings, "generate (waiting for)" if parallel else "generate"):
            rows = next(batches, None)
        if rows is None:
            break
        with transaction(engine) as session:
            writer = BulkWriter(session, timings)
            # Parents before children, so every foreign key is checked as it goes in.
            writer.insert(User, USER_COLUMNS, rows.users)
            writer.insert(Account, ACCOUNT_COLUMNS, rows.accounts)
            writer.insert(LessonAttempt, ATTEMPT_COLUMNS, rows.attempts)
            writer.insert(Answer, ANSWER_COLUMNS, rows.answers)
            writer.insert(LessonPass, PASS_COLUMNS, rows.passes)
            writer.insert(ReviewItem, REVIEW_COLUMNS, rows.reviews)
            writer.insert(PointsEntry, POINTS_COLUMNS, rows.points)
            writer.upsert_scores(rows.scores)
            with _timed(timings, "grant_credit"):
                for uid, course_id, amount, required, epoch in rows.credits:
                    grant_credit(session, uid, course_id, amount, required, _moment(epoch))
            writer.sync_sequence(User)
            writer.sync_sequence(LessonAttempt)
            committing = time.perf_counter()
        timings["commit"] = timings.get("commit", 0.0) + time.perf_counter() - committing
        answers += len(rows.answers)
        points += rows.points_issued
        credits += len(rows.credits)
        trained += rows.trained
        done += len(rows.users)
        if progress is not None:
            progress(done)

    with _timed(timings, "datapacks.claim"):
        given = _claim_packs(engine, sorted(trained), deps.settings.data_pack_limit)
    with transaction(engine) as session:
        left = max(0, deps.settings.data_pack_limit - datapacks.given_count(session))
        if engine.dialect.name != "sqlite":
            with _timed(timings, "analyze"):
                # Millions of rows arrived at once: give the planner statistics now rather
                # than when autovacuum gets round to it.
                session.connection().exec_driver_sql("ANALYZE")
    log.info("simulate: seconds spent %s", {k: round(v, 1) for k, v in timings.items()})
    return Summary(options.users, len(companies), answers, points, credits, len(trained), given,
                   left, time.perf_counter() - started, timings)


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Add the block's wall time to `timings[name]` (the tuning figures in docs/benchmarks.md)."""
    began = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - began


def _claim_packs(engine: Engine, trained: list[tuple[int, int]], limit: int) -> int:
    """Claim data packs for the trained in completion order, through `bot.datapacks.claim`."""
    given = 0
    for start in range(0, len(trained), CLAIMS_PER_TRANSACTION):
        with transaction(engine) as session:
            for epoch, uid in trained[start:start + CLAIMS_PER_TRANSACTION]:
                if datapacks.claim(session, uid, FixedClock(_moment(epoch)), limit) is None:
                    return given  # all gone: nobody later in the queue can get one
                given += 1
    return given
