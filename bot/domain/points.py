"""Points rules as data (bot/points_rules.toml), and the pure arithmetic of daily caps."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUNDLED_RULES = Path(__file__).resolve().parent.parent / "points_rules.toml"


@dataclass(frozen=True)
class Rule:
    """One way to earn points."""

    name: str
    points: int
    label: str
    daily_cap: int | None = None
    capped: bool = True  # counts against the daily total cap


@dataclass(frozen=True)
class AntiCheat:
    """Thresholds that keep farming from paying."""

    min_seconds: float = 2.0
    seconds_per_char: float = 0.02
    fast_answers_to_flag: int = 5
    messages_per_minute: int = 30

    def reading_seconds(self, characters: int) -> float:
        """Return the least time a person needs to read a question of this length."""
        return self.min_seconds + self.seconds_per_char * characters


@dataclass(frozen=True)
class ReviewPolicy:
    """The spaced-review schedule."""

    intervals_days: tuple[int, ...] = (1, 3, 7, 16, 35)
    session_size: int = 5

    def interval(self, box: int) -> int:
        """Return the days until a question in `box` (1-based) is due again."""
        return self.intervals_days[min(max(box, 1), len(self.intervals_days)) - 1]


@dataclass(frozen=True)
class PointsRules:
    """Every rule, the daily total cap, anti-cheat and review settings."""

    rules: dict[str, Rule] = field(default_factory=dict)
    daily_total_cap: int | None = 50
    anticheat: AntiCheat = AntiCheat()
    review: ReviewPolicy = ReviewPolicy()

    def rule(self, name: str) -> Rule:
        """Return a rule by name; a missing rule is worth nothing."""
        return self.rules.get(name) or Rule(name, 0, name)


def allowed_points(rule: Rule, earned_by_rule_today: int, earned_capped_today: int,
                   daily_total_cap: int | None) -> int:
    """Return how many of the rule's points may still be granted today (0 when capped)."""
    allowed = rule.points
    if rule.daily_cap is not None:
        allowed = min(allowed, rule.daily_cap - earned_by_rule_today)
    if rule.capped and daily_total_cap is not None:
        allowed = min(allowed, daily_total_cap - earned_capped_today)
    return max(allowed, 0)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


def load_rules(path: Path | None = None) -> PointsRules:
    """Load the bundled rules, overlaid with a deployment's file when given."""
    data = tomllib.loads(BUNDLED_RULES.read_text(encoding="utf-8"))
    if path is not None:
        data = _merge(data, tomllib.loads(path.read_text(encoding="utf-8")))
    rules = {
        name: Rule(name=name, points=int(raw["points"]), label=str(raw.get("label", name)),
                   daily_cap=raw.get("daily_cap"), capped=bool(raw.get("capped", True)))
        for name, raw in data.get("rules", {}).items()
    }
    ac = data.get("anticheat", {})
    rv = data.get("review", {})
    return PointsRules(
        rules=rules,
        daily_total_cap=data.get("daily_total_cap"),
        anticheat=AntiCheat(**ac),
        review=ReviewPolicy(intervals_days=tuple(rv.get("intervals_days", (1, 3, 7, 16, 35))),
                            session_size=int(rv.get("session_size", 5))),
    )
