"""The composition root: settings → engine → clock → rng → quiz bank → core."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.db import make_engine
from bot.domain.points import load_rules
from handlers.context import Deps
from quiz_bank.loader import load_bank


@dataclass(frozen=True)
class App:
    """Everything a process needs, built once."""

    settings: Settings
    engine: Engine
    core: Core

    @property
    def deps(self) -> Deps:
        """Return the shared services."""
        return self.core.deps


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    engine: Engine | None = None,
    shuffle: bool = True,
) -> App:
    """Wire the application from settings; tests pass their own clock, rng or engine."""
    engine = engine or make_engine(settings.database_url)
    bank = load_bank(settings.quiz_bank_path)
    deps = Deps(
        bank=bank,
        clock=clock or SystemClock(),
        rng=rng or random.Random(secrets.randbits(64)),
        settings=settings,
        rules=load_rules(settings.points_rules_path),
        shuffle=shuffle,
    )
    return App(settings=settings, engine=engine, core=Core(engine, deps))
