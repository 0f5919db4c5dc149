"""Study streaks counted in calendar days (Asia/Shanghai), with one automatic freeze a week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


def week_of(day: date) -> str:
    """Return the ISO week a day belongs to, e.g. ``2026-W42``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class StreakState:
    """A worker's streak: length, last study day, and the ISO week whose freeze was used."""

    days: int = 0
    last_day: date | None = None
    freeze_week: str | None = None


def study(state: StreakState, today: date) -> StreakState:
    """Return the streak after studying on `today`.

    Missing exactly one day is forgiven once per ISO week (the week of the missed day), so a
    night shift does not wipe a month; the freeze is spent automatically.
    """
    last = state.last_day
    if last is None or state.days <= 0:
        return StreakState(1, today, state.freeze_week)
    gap = (today - last).days
    if gap <= 0:
        return state
    if gap == 1:
        return StreakState(state.days + 1, today, state.freeze_week)
    missed = last + timedelta(days=1)
    if gap == 2 and state.freeze_week != week_of(missed):
        return StreakState(state.days + 1, today, week_of(missed))
    return StreakState(1, today, state.freeze_week)


def shown_streak(state: StreakState, today: date) -> int:
    """Return the streak as shown today: alive if the worker can still keep it by studying."""
    if state.last_day is None:
        return 0
    gap = (today - state.last_day).days
    if gap <= 1:
        return state.days
    if gap == 2 and state.freeze_week != week_of(state.last_day + timedelta(days=1)):
        return state.days
    return 0


def freeze_available(state: StreakState, today: date) -> bool:
    """Tell whether this week's freeze is still unused."""
    return state.freeze_week != week_of(today)
