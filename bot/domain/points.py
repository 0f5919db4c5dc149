"""How many points each learning step is worth (the full, capped rule set comes from config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PointsRules:
    """Points per step; every grant goes to the ledger under an idempotency key."""

    first_correct: int = 1  # first correct answer of a question, ever
    lesson_pass: int = 2  # first pass of a lesson
    course_complete: int = 10  # first completion of a course (its credits earned)
