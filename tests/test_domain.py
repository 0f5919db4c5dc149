"""Pure rules, parametrized, no fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.answers import lesson_passed, mapped_letters, parse_letters
from bot.domain.masking import mask_name, mask_phone
from bot.domain.ranking import rank_key
from bot.domain.streaks import current_streak, next_streak


@pytest.mark.parametrize(("name", "masked"), [
    ("张三明", "张*明"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("张", "*"), ("", "*"),
    (None, "*"), ("  李四  ", "李*"),
])
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("138 1234 5678", "138****5678"), ("12345", "*****"),
])
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("text", "letters", "tf", "expected"), [
    ("A", "ABCD", False, "A"), ("a", "ABCD", False, "A"), ("Ａ", "ABCD", False, "A"),
    ("A.", "ABCD", False, "A"), (" b ", "ABCD", False, "B"), ("CA", "ABCD", False, "AC"),
    ("A、C", "ABCD", False, "AC"), ("a,c", "ABCD", False, "AC"), ("E", "ABCD", False, None),
    ("AA", "ABCD", False, None), ("学习", "ABCD", False, None), ("", "ABCD", False, None),
    ("对", "AB", True, "A"), ("错误", "AB", True, "B"), ("√", "AB", True, "A"),
    ("×", "AB", True, "B"), ("B", "AB", True, "B"), ("对", "ABCD", False, None),
])
def test_parse_letters(text: str, letters: str, tf: bool, expected: str | None) -> None:
    assert parse_letters(text, letters, tf) == expected


@pytest.mark.parametrize(("correct", "total", "mark", "passed"), [
    (3, 5, 0.6, True), (2, 5, 0.6, False), (1, 2, 0.6, False), (2, 2, 0.6, True),
    (0, 0, 0.6, False), (4, 4, 1.0, True), (3, 4, 0.75, True),
])
def test_lesson_passed(correct: int, total: int, mark: float, passed: bool) -> None:
    assert lesson_passed(correct, total, mark) is passed


@pytest.mark.parametrize(("shown", "perm", "original"), [
    ("A", [2, 0, 1, 3], "C"), ("BD", [2, 0, 1, 3], "AD"), ("A", [0, 1, 2], "A"),
])
def test_mapped_letters_undoes_the_shuffle(shown: str, perm: list[int], original: str) -> None:
    assert mapped_letters(shown, perm, "ABCD"[: len(perm)]) == original


D = date(2026, 10, 12)


@pytest.mark.parametrize(("last", "streak", "today", "expected"), [
    (None, 0, D, 1), (D, 3, D, 3), (date(2026, 10, 11), 3, D, 4), (date(2026, 10, 10), 3, D, 1),
    (date(2026, 9, 30), 9, date(2026, 10, 1), 10),  # across a month end
])
def test_next_streak(last: date | None, streak: int, today: date, expected: int) -> None:
    assert next_streak(last, streak, today) == expected


@pytest.mark.parametrize(("last", "streak", "expected"), [
    (None, 0, 0), (D, 5, 5), (date(2026, 10, 11), 5, 5), (date(2026, 10, 10), 5, 0),
])
def test_current_streak(last: date | None, streak: int, expected: int) -> None:
    assert current_streak(last, streak, D) == expected


def test_rank_key_orders_points_then_earlier_reach_then_id() -> None:
    t1 = datetime(2026, 1, 1, tzinfo=UTC)
    t2 = datetime(2026, 1, 2, tzinfo=UTC)
    rows = [(5, t2, 1), (9, t2, 2), (5, t1, 3), (5, t1, 0), (0, None, 4)]
    assert [r[2] for r in sorted(rows, key=lambda r: rank_key(*r))] == [2, 0, 3, 1, 4]
