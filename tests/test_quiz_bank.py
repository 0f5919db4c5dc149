"""The quiz bank: the shipped content meets the brief, and every kind of broken file is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from quiz_bank.loader import BUNDLED, check_bank, load_bank

VALID_QUESTION = '''
[[lessons.questions]]
id = "{qid}"
kind = "single"
prompt = "题干"
options = ["甲", "乙"]
answer = "A"
explanation = "解析"
basis = "依据"
'''


def course_file(body: str, cid: str = "c1") -> str:
    return f'''[course]
id = "{cid}"
title = "课"
summary = "简介"

[[lessons]]
id = "{cid}-l1"
title = "课一"
text = "内容"
{body}'''


def test_shipped_bank_passes_the_check() -> None:
    bank, problems = check_bank()
    assert problems == []
    assert bank is not None


def test_shipped_bank_has_the_required_courses_and_enough_content() -> None:
    bank = load_bank()
    required = {c.id: c for c in bank.required}
    assert [c.title for c in bank.required] == ["珠海通", "安全通"]
    for course in required.values():
        assert len(course.lessons) >= 5
        assert sum(len(x.questions) for x in course.lessons) >= 40
    electives = [c for c in bank.courses if not c.required]
    assert len(electives) >= 6
    for course in electives:
        assert sum(len(x.questions) for x in course.lessons) >= 10
    for course in bank.courses:
        for lesson in course.lessons:
            assert 3 <= len(lesson.questions) <= 5, lesson.id
            for q in lesson.questions:
                assert q.basis and q.explanation, q.id
    kinds = {q.kind for c in bank.courses for x in c.lessons for q in x.questions}
    assert kinds == {"single", "multiple", "truefalse"}


@pytest.mark.parametrize(("body", "expected"), [
    (VALID_QUESTION.format(qid="q1").replace('answer = "A"', 'answer = "C"'),
     "c1.toml: q1: answer C is not one of the options AB"),
    (VALID_QUESTION.format(qid="q1") + VALID_QUESTION.format(qid="q1"),
     "c1.toml: q1: duplicate id"),
    (VALID_QUESTION.format(qid="q1").replace('["甲", "乙"]', '["甲", ""]'),
     "c1.toml: q1: option B is empty"),
    (VALID_QUESTION.format(qid="q1").replace('kind = "single"', 'kind = "essay"'),
     "c1.toml: q1: unknown kind 'essay'"),
    (VALID_QUESTION.format(qid="q1").replace('basis = "依据"', ""),
     "c1.toml: q1: `basis` is missing or empty"),
    (VALID_QUESTION.format(qid="q1").replace('answer = "A"', 'answer = "AB"'),
     "c1.toml: q1: a single-choice question needs exactly 1 answer"),
    ("", "c1.toml: c1-l1: a lesson needs at least one question"),
    (VALID_QUESTION.format(qid="q1") + "\n[[[ broken", "c1.toml: -: cannot be parsed"),
])
def test_each_kind_of_broken_file_is_reported_as_file_id_problem(
    tmp_path: Path, body: str, expected: str
) -> None:
    (tmp_path / "c1.toml").write_text(course_file(body), encoding="utf-8")
    bank, problems = check_bank(tmp_path)
    assert bank is None
    lines = [str(p).replace(str(tmp_path) + "/", "") for p in problems]
    assert any(line.startswith(expected) for line in lines), lines


def test_duplicate_ids_across_files_name_both_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(course_file(VALID_QUESTION.format(qid="same"), "a"),
                                     encoding="utf-8")
    (tmp_path / "b.toml").write_text(course_file(VALID_QUESTION.format(qid="same"), "b"),
                                     encoding="utf-8")
    _, problems = check_bank(tmp_path)
    assert [str(p).replace(str(tmp_path) + "/", "").split(" (")[0] for p in problems] == [
        "b.toml: same: duplicate id"]
    assert "a.toml" in str(problems[0])


def test_a_missing_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _, problems = check_bank(tmp_path / "nope")
    assert "no such file or folder" in str(problems[0])


def test_bundled_path_is_inside_the_package() -> None:
    assert BUNDLED.name == "courses"
    assert BUNDLED.parent.name == "quiz_bank"
