"""Shared fixtures: a database per test (SQLite file, or the PostgreSQL in DATABASE_URL),
a fixed clock, a seeded rng, and a `Chat` driver for transcript tests."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.app import App, build_app
from bot.chat import Inbound, Reply
from bot.clock import FixedClock
from bot.config import Settings
from bot.db import create_schema, make_engine, transaction
from bot.enterprises import ensure_enterprise
from bot.migrate import upgrade

DATA = Path(__file__).parent / "data"
MINI_BANK = DATA / "bank"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgres")


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine | None]:
    """One PostgreSQL schema for the session when DATABASE_URL points at PostgreSQL."""
    if not ON_POSTGRES:
        yield None
        return
    engine = make_engine(PG_URL)
    # Start from an empty schema: tables an older migration made would otherwise linger.
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(PG_URL)  # the real migrations, so PostgreSQL runs test them too
    yield engine
    engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path, pg_engine: Engine | None) -> str:
    """A clean database for this test: a fresh SQLite file, or truncated PostgreSQL tables."""
    if pg_engine is not None:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with pg_engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return PG_URL
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the clean database, schema created."""
    eng = make_engine(db_url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """A clock at 09:00 Shanghai time on a weekday."""
    return FixedClock(datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI))


def make_settings(db_url: str, **overrides: object) -> Settings:
    """Settings for tests: no .env, the mini bank unless told otherwise."""
    values: dict[str, object] = {"database_url": db_url, "quiz_bank_path": MINI_BANK}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def app(engine: Engine, db_url: str, clock: FixedClock) -> App:
    """The wired app on the mini bank, options unshuffled, with enterprise `ACME` (invite ACME)."""
    application = build_app(make_settings(db_url), clock=clock, rng=random.Random(7),
                            engine=engine, shuffle=False)
    with transaction(engine) as session:
        ensure_enterprise(session, "测试机械厂", "ACME", clock.now())
        ensure_enterprise(session, "另一家厂", "OTHER", clock.now())
    return application


class Chat:
    """Talk to the core as one worker; every send gets a fresh dedupe key unless given one."""

    def __init__(self, app: App, external_id: str = "w1", channel: str = "console",
                 pace: float = 20.0) -> None:
        self.app = app
        self.pace = pace  # seconds between messages, as a person reads and types
        self.channel = channel
        self.external_id = external_id
        self._n = 0
        self.last: list[Reply] = []

    def _key(self) -> str:
        self._n += 1
        return f"{self.channel}:{self.external_id}:{self._n}"

    def send(self, text: str | None = None, *, choice: str | None = None,
             key: str | None = None, **kw: object) -> list[Reply]:
        """Deliver one message and return the replies."""
        clock = self.app.deps.clock
        if self.pace and hasattr(clock, "advance"):
            clock.advance(seconds=self.pace)  # type: ignore[attr-defined]
        inbound = Inbound(channel=self.channel, external_id=self.external_id,
                          dedupe_key=key or self._key(), received_at=self.app.deps.clock.now(),
                          text=text, choice=choice, **kw)  # type: ignore[arg-type]
        self.last = self.app.core.handle(inbound)
        return self.last

    def says(self, text: str | None = None, **kw: object) -> str:
        """Deliver one message and return all reply texts joined."""
        return "\n".join(r.text for r in self.send(text, **kw))

    def join(self, name: str = "张三明", invite: str = "ACME", group: str = "2") -> None:
        """Register through the normal joining dialogue."""
        self.send(f"/start {invite}")
        self.send(name)
        self.send(group)

    def question(self) -> Reply:
        """Return the last question reply shown."""
        return next(r for r in reversed(self.last) if r.kind == "question")


@pytest.fixture
def chat(app: App) -> Chat:
    """A chat as worker `w1`."""
    return Chat(app)


ROOT = Path(__file__).resolve().parent.parent


def jixing(*args: str, env: dict[str, str], stdin: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    """Run the `jixing` command line in a child process, as a user would."""
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, env=env,
                          cwd=env["HOME"], capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment for CLI runs: a home of its own and this test's clean database."""
    url = db_url if ON_POSTGRES else f"sqlite:///{tmp_path / 'cli.db'}"
    return {**os.environ, "HOME": str(tmp_path), "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
