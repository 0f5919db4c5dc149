"""Load and validate course files (TOML); every problem is reported as `file: id: problem`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quiz_bank.schema import LETTERS, TRUE_FALSE_OPTIONS, Course, Lesson, Question, QuizBank

BUNDLED = Path(__file__).parent / "courses"
GROUP_NUMBERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a course file."""

    file: str
    item: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: {self.message}"


class QuizBankError(Exception):
    """The bank has problems; `problems` lists each of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _text(raw: dict[str, Any], key: str, where: str, problems: list[Problem], file: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(file, where, f"`{key}` is missing or empty"))
        return ""
    return value.strip()


def _question(raw: Any, file: str, lesson_id: str, problems: list[Problem]) -> Question | None:
    if not isinstance(raw, dict):
        problems.append(Problem(file, lesson_id, "a question must be a table"))
        return None
    qid = raw.get("id")
    if not isinstance(qid, str) or not qid.strip():
        problems.append(Problem(file, f"{lesson_id}/?", "question `id` is missing"))
        return None
    before = len(problems)
    kind = raw.get("kind", "single")
    prompt = _text(raw, "prompt", qid, problems, file)
    explanation = _text(raw, "explanation", qid, problems, file)
    basis = _text(raw, "basis", qid, problems, file)
    options: tuple[str, ...] = ()
    answer: frozenset[int] = frozenset()
    if kind == "truefalse":
        options = TRUE_FALSE_OPTIONS
        if not isinstance(raw.get("answer"), bool):
            problems.append(Problem(file, qid, "a true/false `answer` must be true or false"))
        else:
            answer = frozenset({0 if raw["answer"] else 1})
    elif kind in ("single", "multiple"):
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= len(LETTERS):
            problems.append(Problem(file, qid, f"`options` must list 2 to {len(LETTERS)} choices"))
        else:
            for i, opt in enumerate(raw_options):
                if not isinstance(opt, str) or not opt.strip():
                    problems.append(Problem(file, qid, f"option {LETTERS[i]} is empty"))
            options = tuple(str(o).strip() for o in raw_options)
            if len(set(options)) != len(options):
                problems.append(Problem(file, qid, "two options have the same text"))
        letters = raw.get("answer")
        if not isinstance(letters, str) or not letters.strip():
            problems.append(Problem(file, qid, "`answer` must be option letters such as \"B\""))
        else:
            letters = letters.strip().upper()
            bad = [ch for ch in letters if ch not in LETTERS[: len(options)]]
            if bad:
                problems.append(
                    Problem(file, qid, f"answer {''.join(bad)} is not one of the options "
                            f"{LETTERS[: len(options)] or '(none)'}")
                )
            answer = frozenset(LETTERS.index(ch) for ch in letters if ch in LETTERS)
            if kind == "single" and len(answer) != 1:
                problems.append(Problem(file, qid, "a single-choice question needs exactly 1 answer"))
            if kind == "multiple" and len(answer) < 2:
                problems.append(Problem(file, qid, "a multiple-choice question needs 2+ answers"))
    else:
        problems.append(Problem(file, qid, f"unknown kind {kind!r} (single, multiple, truefalse)"))
    if len(problems) > before:
        return None
    return Question(qid.strip(), kind, prompt, options, answer, explanation, basis)


def _lesson(raw: Any, file: str, problems: list[Problem]) -> Lesson | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        problems.append(Problem(file, "lesson", "a lesson needs an `id`"))
        return None
    lid = raw["id"]
    title = _text(raw, "title", lid, problems, file)
    text = _text(raw, "text", lid, problems, file)
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append(Problem(file, lid, "a lesson needs at least one question"))
        raw_questions = []
    questions = [q for q in (_question(r, file, lid, problems) for r in raw_questions) if q]
    image = raw.get("image")
    return Lesson(lid, title, text, tuple(questions), image if isinstance(image, str) else None)


def load_course_file(path: Path, problems: list[Problem]) -> Course | None:
    """Parse one course file, appending what is wrong with it to `problems`."""
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(file, "-", f"cannot be parsed: {exc}"))
        return None
    except OSError as exc:
        problems.append(Problem(file, "-", f"cannot be read: {exc.strerror}"))
        return None
    raw = data.get("course")
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        problems.append(Problem(file, "-", "the file needs a [course] table with an `id`"))
        return None
    cid = raw["id"]
    title = _text(raw, "title", cid, problems, file)
    summary = _text(raw, "summary", cid, problems, file)
    credits = raw.get("credits", 1)
    pass_mark = raw.get("pass_mark", 0.6)
    if not isinstance(credits, int | float) or credits <= 0:
        problems.append(Problem(file, cid, "`credits` must be a positive number"))
        credits = 1
    if not isinstance(pass_mark, int | float) or not 0 < pass_mark <= 1:
        problems.append(Problem(file, cid, "`pass_mark` must be between 0 and 1"))
        pass_mark = 0.6
    groups = raw.get("groups", [])
    if not isinstance(groups, list) or any(g not in GROUP_NUMBERS for g in groups):
        problems.append(Problem(file, cid, "`groups` must list group numbers 1-4"))
        groups = []
    lessons = [x for x in (_lesson(r, file, problems) for r in data.get("lessons", [])) if x]
    if not lessons:
        problems.append(Problem(file, cid, "a course needs at least one lesson"))
    return Course(
        id=cid,
        title=title,
        summary=summary,
        required=bool(raw.get("required", False)),
        order=int(raw.get("order", 100)),
        credits=float(credits),
        pass_mark=float(pass_mark),
        topic=str(raw.get("topic", title)),
        lessons=tuple(lessons),
        groups=tuple(groups),
    )


def check_bank(path: Path | None = None) -> tuple[QuizBank | None, list[Problem]]:
    """Load every `*.toml` under `path` (a folder or one file); return the bank and its problems."""
    root = path or BUNDLED
    problems: list[Problem] = []
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(root.glob("*.toml"))
    else:
        return None, [Problem(str(root), "-", "no such file or folder")]
    if not files:
        return None, [Problem(str(root), "-", "no course files (*.toml) found")]
    loaded = [(f, load_course_file(f, problems)) for f in files]
    courses = [c for _, c in loaded if c]
    seen: dict[str, str] = {}
    for file, course in loaded:
        if course is None:
            continue
        ids = [course.id] + [x.id for x in course.lessons]
        ids += [q.id for x in course.lessons for q in x.questions]
        for item in ids:
            if item in seen:
                problems.append(Problem(str(file), item, f"duplicate id (also in {seen[item]})"))
            else:
                seen[item] = str(file)
    if problems:
        return None, problems
    courses.sort(key=lambda c: (not c.required, c.order, c.id))
    return QuizBank(tuple(courses)), []


def load_bank(path: Path | None = None) -> QuizBank:
    """Load a bank or raise `QuizBankError` listing every problem."""
    bank, problems = check_bank(path)
    if bank is None:
        raise QuizBankError(problems)
    return bank
