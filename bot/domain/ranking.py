"""Ranking order, stated once: more points first; among equals, who reached the score first."""

from __future__ import annotations

from datetime import datetime

TIE_BREAK_RULE = "积分高者在前；积分相同时，先达到该积分者在前；再相同按注册先后。"


def rank_key(points: int, points_at: datetime | None, user_id: int) -> tuple[int, float, int]:
    """Return the sort key that orders workers on every board (ascending)."""
    reached = points_at.timestamp() if points_at else float("inf")
    return (-points, reached, user_id)
