"""The quiz bank as the simulator walks it: lessons in `next_lesson` order, answers precomputed."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from bot.domain.points import PointsRules
from quiz_bank.schema import Course, QuizBank


@dataclass(frozen=True)
class QuestionPlan:
    """One question: the right letters, some wrong ones, and the least seconds to read it."""

    id: str
    answer: str
    wrong: tuple[str, ...]
    reading: int  # whole seconds, rounded up from the anti-cheat reading time


@dataclass(frozen=True)
class LessonPlan:
    """One lesson with what finishing it means."""

    id: str
    course: Course
    questions: tuple[QuestionPlan, ...]
    layout: str  # LessonAttempt.layout with options in bank order, as `start_attempt` writes it
    completes_course: bool  # the course's last lesson: passing it (after the rest) earns the credit


@dataclass(frozen=True)
class Curriculum:
    """Every lesson in the order a worker meets them, and which courses are required."""

    lessons: tuple[LessonPlan, ...]
    required_lessons: int
    required_courses: frozenset[str]

    @classmethod
    def of(cls, bank: QuizBank, rules: PointsRules) -> Curriculum:
        """Build the plan from a bank and the anti-cheat reading times of `rules`."""
        lessons = []
        for course in bank.courses:  # the order `bot.learning.next_lesson` serves them in
            for i, lesson in enumerate(course.lessons):
                questions = []
                for q in lesson.questions:
                    letters = q.letters()
                    answer = q.answer_letters()
                    wrong = [x for x in letters if x != answer]
                    if len(answer) > 1:  # a multiple choice missing one right option
                        wrong.append(answer[:-1])
                    chars = len(q.prompt) + sum(map(len, q.options))
                    reading = math.ceil(rules.anticheat.reading_seconds(chars))
                    questions.append(QuestionPlan(q.id, answer, tuple(wrong), reading))
                layout = json.dumps([{"q": q.id, "perm": list(range(len(q.options)))}
                                     for q in lesson.questions])
                lessons.append(LessonPlan(lesson.id, course, tuple(questions), layout,
                                          i == len(course.lessons) - 1))
        required = [c for c in bank.courses if c.required]
        return cls(tuple(lessons), sum(len(c.lessons) for c in required),
                   frozenset(c.id for c in required))
