"""Study streaks counted in calendar days (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date


def next_streak(last_day: date | None, streak: int, today: date) -> int:
    """Return the streak after studying on `today`, given the last study day and streak."""
    if last_day is None or streak <= 0:
        return 1
    gap = (today - last_day).days
    if gap <= 0:
        return streak
    if gap == 1:
        return streak + 1
    return 1


def current_streak(last_day: date | None, streak: int, today: date) -> int:
    """Return the streak as shown today: still alive if the worker studied today or yesterday."""
    if last_day is None:
        return 0
    return streak if (today - last_day).days <= 1 else 0
