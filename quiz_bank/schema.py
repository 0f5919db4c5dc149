"""The quiz bank's value objects: courses, lessons and questions, as loaded from course files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

QuestionKind = Literal["single", "multiple", "truefalse"]
LETTERS = "ABCDEFGH"
TRUE_FALSE_OPTIONS = ("正确", "错误")


@dataclass(frozen=True)
class Question:
    """One question: its options, the correct option indices and why they are right."""

    id: str
    kind: QuestionKind
    prompt: str
    options: tuple[str, ...]
    answer: frozenset[int]
    explanation: str
    basis: str

    def letters(self) -> str:
        """Return the option letters this question offers, e.g. ``ABCD``."""
        return LETTERS[: len(self.options)]

    def answer_letters(self) -> str:
        """Return the correct option letters in order, e.g. ``AC``."""
        return "".join(LETTERS[i] for i in sorted(self.answer))


@dataclass(frozen=True)
class Lesson:
    """A micro-lesson: a few lines of teaching text and its 3–5 questions."""

    id: str
    title: str
    text: str
    questions: tuple[Question, ...]
    image: str | None = None


@dataclass(frozen=True)
class Course:
    """A course with its credits; required courses are taken first, in `order`."""

    id: str
    title: str
    summary: str
    required: bool
    order: int
    credits: float
    pass_mark: float
    topic: str
    lessons: tuple[Lesson, ...]
    groups: tuple[int, ...] = ()

    def lesson(self, lesson_id: str) -> Lesson | None:
        """Return the lesson with this id, or None."""
        return next((lsn for lsn in self.lessons if lsn.id == lesson_id), None)


@dataclass(frozen=True)
class QuizBank:
    """Every course, required ones first; lookups by id."""

    courses: tuple[Course, ...]
    _questions: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)
    _lessons: dict[str, tuple[Course, Lesson]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for course in self.courses:
            for lesson in course.lessons:
                self._lessons[lesson.id] = (course, lesson)
                for q in lesson.questions:
                    self._questions[q.id] = q

    def course(self, course_id: str) -> Course | None:
        """Return the course with this id, or None."""
        return next((c for c in self.courses if c.id == course_id), None)

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, or None."""
        return self._questions.get(question_id)

    def lesson(self, lesson_id: str) -> tuple[Course, Lesson] | None:
        """Return (course, lesson) for a lesson id, or None."""
        return self._lessons.get(lesson_id)

    @property
    def required(self) -> tuple[Course, ...]:
        """Return the required courses in their order."""
        return tuple(c for c in self.courses if c.required)
