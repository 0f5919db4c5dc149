"""Migrations: they build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.db import make_engine
from bot.migrate import upgrade
from tests.conftest import ON_POSTGRES, PG_URL


def test_upgrade_builds_the_models_schema(tmp_path: Path) -> None:
    url = PG_URL if ON_POSTGRES else f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)  # on PostgreSQL the session fixture already did; this must be a no-op
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []
