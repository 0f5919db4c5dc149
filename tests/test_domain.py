"""Pure rules, parametrized, no fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.domain.answers import lesson_passed, mapped_letters, parse_letters
from bot.domain.masking import mask_name, mask_phone
from bot.domain.points import AntiCheat, Rule, allowed_points, load_rules
from bot.domain.ranking import rank_key
from bot.domain.streaks import StreakState, shown_streak, study, week_of


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


D = date(2026, 10, 14)  # a Wednesday, ISO week 2026-W42


@pytest.mark.parametrize(("before", "today", "after"), [
    (StreakState(), D, StreakState(1, D)),
    (StreakState(3, D), D, StreakState(3, D)),  # twice a day counts once
    (StreakState(3, date(2026, 10, 13)), D, StreakState(4, D)),
    # one missed day: the week's freeze is spent automatically
    (StreakState(3, date(2026, 10, 12)), D, StreakState(4, D, "2026-W42")),
    # a second missed day in the same week breaks the streak
    (StreakState(3, date(2026, 10, 12), "2026-W42"), D, StreakState(1, D, "2026-W42")),
    # two missed days are never forgiven
    (StreakState(9, date(2026, 10, 11)), D, StreakState(1, D)),
    # across a month end
    (StreakState(9, date(2026, 9, 30)), date(2026, 10, 1), StreakState(10, date(2026, 10, 1))),
    # a freeze spent last week does not block this week's
    (StreakState(5, date(2026, 10, 19), "2026-W42"), date(2026, 10, 21),
     StreakState(6, date(2026, 10, 21), "2026-W43")),
])
def test_study_streak(before: StreakState, today: date, after: StreakState) -> None:
    assert study(before, today) == after


@pytest.mark.parametrize(("state", "shown"), [
    (StreakState(), 0), (StreakState(5, D), 5), (StreakState(5, date(2026, 10, 13)), 5),
    (StreakState(5, date(2026, 10, 12)), 5),  # still savable by the freeze
    (StreakState(5, date(2026, 10, 12), "2026-W42"), 0), (StreakState(5, date(2026, 10, 11)), 0),
])
def test_shown_streak(state: StreakState, shown: int) -> None:
    assert shown_streak(state, D) == shown


@pytest.mark.parametrize(("day", "week"), [
    (date(2026, 1, 1), "2026-W01"), (date(2026, 12, 31), "2026-W53"), (D, "2026-W42"),
])
def test_week_of(day: date, week: str) -> None:
    assert week_of(day) == week


@pytest.mark.parametrize(("rule", "by_rule", "capped_total", "total_cap", "allowed"), [
    (Rule("r", 1, "", daily_cap=20), 0, 0, 50, 1),
    (Rule("r", 1, "", daily_cap=20), 20, 20, 50, 0),  # the rule's own cap
    (Rule("r", 2, "", daily_cap=10), 9, 9, 50, 1),  # partly granted up to the cap
    (Rule("r", 2, "", daily_cap=10), 0, 49, 50, 1),  # the daily total cap
    (Rule("r", 10, "", capped=False), 0, 50, 50, 10),  # uncapped rules ignore the total
    (Rule("r", 3, ""), 0, 0, None, 3),
])
def test_allowed_points(rule: Rule, by_rule: int, capped_total: int, total_cap: int | None,
                        allowed: int) -> None:
    assert allowed_points(rule, by_rule, capped_total, total_cap) == allowed


def test_bundled_rules_stay_within_a_daily_budget_like_xuexi_qiangguo() -> None:
    rules = load_rules()
    assert 30 <= (rules.daily_total_cap or 0) <= 60
    assert rules.rule("first_correct").points == 1
    assert rules.rule("no_such_rule").points == 0


def test_a_deployment_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "points.toml"
    path.write_text("daily_total_cap = 40\n[rules.first_correct]\npoints = 2\n", encoding="utf-8")
    rules = load_rules(path)
    assert rules.daily_total_cap == 40
    assert rules.rule("first_correct").points == 2
    assert rules.rule("first_correct").daily_cap == 20
    assert rules.rule("lesson_pass").points == 2


@pytest.mark.parametrize(("chars", "seconds"), [(0, 2.0), (100, 4.0)])
def test_reading_time_grows_with_the_question(chars: int, seconds: float) -> None:
    assert AntiCheat().reading_seconds(chars) == pytest.approx(seconds)


def test_rank_key_orders_points_then_earlier_reach_then_id() -> None:
    t1 = datetime(2026, 1, 1, tzinfo=UTC)
    t2 = datetime(2026, 1, 2, tzinfo=UTC)
    rows = [(5, t2, 1), (9, t2, 2), (5, t1, 3), (5, t1, 0), (0, None, 4)]
    assert [r[2] for r in sorted(rows, key=lambda r: rank_key(*r))] == [2, 0, 3, 1, 4]
