"""Learning progress: which lesson comes next, attempts, and per-course progress."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, func
from sqlmodel import Session, col, select

from bot.domain.points import ReviewPolicy
from bot.models import Answer, CreditEntry, LessonAttempt, LessonPass, ReviewItem
from quiz_bank.schema import Course, Lesson, Question, QuizBank

REVIEW = "review"  # the course id of review attempts


@dataclass(frozen=True)
class Slot:
    """One question as placed in an attempt: the question and the shown order of its options."""

    question: Question
    perm: tuple[int, ...]  # perm[shown index] = original option index

    def shown_options(self) -> list[str]:
        """Return the option texts in the order the worker sees them."""
        return [self.question.options[i] for i in self.perm]

    def shown_answer(self) -> str:
        """Return the correct letters as the worker sees them."""
        letters = self.question.letters()
        return "".join(sorted(letters[i] for i, o in enumerate(self.perm)
                              if o in self.question.answer))


@dataclass(frozen=True)
class CourseProgress:
    """How far a worker is in one course."""

    course: Course
    passed: int
    total: int
    credit_earned: bool


def passed_lessons(session: Session, user_id: int) -> set[str]:
    """Return the ids of every lesson the worker has passed."""
    rows = session.exec(select(LessonPass.lesson_id).where(LessonPass.user_id == user_id))
    return set(rows.all())


def next_lesson(bank: QuizBank, passed: set[str]) -> tuple[Course, Lesson] | None:
    """Return the first lesson not yet passed: required courses first, in order, then electives."""
    for course in bank.courses:
        for lesson in course.lessons:
            if lesson.id not in passed:
                return course, lesson
    return None


def open_attempt(session: Session, user_id: int) -> LessonAttempt | None:
    """Return the worker's unfinished attempt, if any."""
    return session.exec(
        select(LessonAttempt)
        .where(LessonAttempt.user_id == user_id, col(LessonAttempt.finished_at).is_(None))
        .order_by(col(LessonAttempt.id).desc())
    ).first()


def start_attempt(
    session: Session, user_id: int, course_id: str, lesson_id: str, questions: list[Question],
    rng: random.Random, now: datetime, shuffle: bool,
) -> LessonAttempt:
    """Open an attempt, shuffling each question's options (not true/false) when asked."""
    layout = []
    for q in questions:
        perm = list(range(len(q.options)))
        if shuffle and q.kind != "truefalse":
            rng.shuffle(perm)
        layout.append({"q": q.id, "perm": perm})
    attempt = LessonAttempt(user_id=user_id, course_id=course_id, lesson_id=lesson_id,
                            layout=json.dumps(layout), started_at=now, question_sent_at=now)
    session.add(attempt)
    session.flush()
    return attempt


def attempt_slots(bank: QuizBank, attempt: LessonAttempt) -> list[Slot]:
    """Return the attempt's questions with their option order."""
    slots = []
    for item in json.loads(attempt.layout):
        question = bank.question(item["q"])
        if question is not None:  # a question removed from the bank since is skipped
            slots.append(Slot(question, tuple(item["perm"])))
    return slots


def course_progress(session: Session, bank: QuizBank, user_id: int) -> list[CourseProgress]:
    """Return progress in every course, in bank order."""
    passed = passed_lessons(session, user_id)
    credited = set(session.exec(select(CreditEntry.course_id)
                                .where(CreditEntry.user_id == user_id)).all())
    return [
        CourseProgress(c, sum(1 for x in c.lessons if x.id in passed), len(c.lessons),
                       c.id in credited)
        for c in bank.courses
    ]


def answer_counts(session: Session, user_id: int) -> tuple[int, int]:
    """Return (answers given, answers correct) for a worker."""
    total, right = session.exec(
        select(func.count(col(Answer.id)),
               func.coalesce(func.sum(func.cast(col(Answer.correct), Integer)), 0))
        .where(Answer.user_id == user_id)
    ).one()
    return int(total), int(right)



def schedule_review(session: Session, user_id: int, question_id: str, correct: bool, today: date,
                    policy: ReviewPolicy) -> None:
    """Move a question between Leitner boxes: wrong → due today, right → due later."""
    item = session.exec(select(ReviewItem).where(ReviewItem.user_id == user_id,
                                                 ReviewItem.question_id == question_id)).first()
    if item is None:
        item = ReviewItem(user_id=user_id, question_id=question_id, box=0, due_day=today)
        session.add(item)
    item.box = item.box + 1 if correct else 0
    item.due_day = today + timedelta(days=policy.interval(item.box)) if correct else today


def due_reviews(session: Session, bank: QuizBank, user_id: int, today: date, limit: int
                ) -> list[Question]:
    """Return up to `limit` questions due for review: wrong ones first, then the most at risk."""
    ids = session.exec(select(ReviewItem.question_id)
                       .where(ReviewItem.user_id == user_id, col(ReviewItem.due_day) <= today)
                       .order_by(col(ReviewItem.box), col(ReviewItem.due_day),
                                 col(ReviewItem.id))
                       .limit(limit * 2)).all()
    questions = [q for q in (bank.question(i) for i in ids) if q is not None]
    return questions[:limit]
