"""Learning: the next lesson, answering its questions, and the worker's own record."""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import update
from sqlmodel import select

from bot import messages as m
from bot.chat import Option, Reply
from bot.clock import as_aware
from bot.domain.answers import lesson_passed, mapped_letters, parse_letters
from bot.domain.streaks import current_streak, next_streak
from bot.learning import (
    Slot,
    answer_counts,
    attempt_slots,
    course_progress,
    next_lesson,
    open_attempt,
    passed_lessons,
    start_attempt,
)
from bot.ledger import grant_points
from bot.models import Answer, LessonAttempt, LessonPass, User
from handlers import rewards
from handlers.context import Context
from quiz_bank.schema import LETTERS, Course, Lesson

CONTINUE = (Option(m.CONTINUE_LABEL, "cmd:learn"), Option(m.ME_LABEL, "cmd:me"))


def question_reply(attempt: LessonAttempt, slots: list[Slot]) -> Reply:
    """Render the attempt's current question with its options in shown order."""
    slot = slots[attempt.position]
    q = slot.question
    lines = [m.QUESTION.format(pos=attempt.position + 1, total=len(slots),
                               kind=m.QUESTION_KINDS[q.kind], prompt=q.prompt)]
    shown = slot.shown_options()
    lines += [f"{LETTERS[i]}. {text}" for i, text in enumerate(shown)]
    options = tuple(Option(LETTERS[i], f"q:{attempt.id}:{attempt.position}:{LETTERS[i]}")
                    for i in range(len(shown)))
    return Reply("\n".join(lines), options=options, kind="question", multi=q.kind == "multiple",
                 extra={"attempt": attempt.id, "position": attempt.position})


def lesson_reply(course: Course, lesson: Lesson) -> Reply:
    """Render a lesson's teaching text."""
    index = course.lessons.index(lesson) + 1
    need = math.ceil(course.pass_mark * len(lesson.questions) - 1e-9)
    text = "\n".join([
        m.LESSON_HEADER.format(course=course.title, index=index, total=len(course.lessons),
                               title=lesson.title),
        "",
        lesson.text,
        "",
        m.LESSON_FOOTER.format(count=len(lesson.questions), need=need),
    ])
    return Reply(text, image=lesson.image)


def learn(ctx: Context, _arg: str = "") -> list[Reply]:
    """Serve the current question, or open the next lesson (required courses first)."""
    attempt = open_attempt(ctx.session, ctx.user.id)  # type: ignore[arg-type]
    if attempt is not None:
        slots = attempt_slots(ctx.deps.bank, attempt)
        if attempt.position < len(slots):
            attempt.question_sent_at = ctx.now
            return [Reply(m.LESSON_RESENT), question_reply(attempt, slots)]
        attempt.finished_at = ctx.now  # the bank shrank under it; close and move on
    found = next_lesson(ctx.deps.bank, passed_lessons(ctx.session, ctx.user.id))  # type: ignore[arg-type]
    if found is None:
        return [Reply(m.ALL_DONE, options=(Option(m.ME_LABEL, "cmd:me"),))]
    course, lesson = found
    attempt = start_attempt(ctx.session, ctx.user.id, course, lesson, ctx.deps.rng,  # type: ignore[arg-type]
                            ctx.now, ctx.deps.shuffle)
    return [lesson_reply(course, lesson), question_reply(attempt, attempt_slots(ctx.deps.bank, attempt))]


def parse_choice(payload: str) -> tuple[int, int, str] | None:
    """Split a button payload ``q:ATTEMPT:POSITION:LETTERS``; None when it is malformed."""
    parts = payload.split(":")
    if len(parts) != 4 or parts[0] != "q" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2]), parts[3]


def answer_choice(ctx: Context, payload: str) -> list[Reply]:
    """Answer from a tapped button; a stale or forged button changes nothing and says so."""
    parsed = parse_choice(payload)
    attempt = open_attempt(ctx.session, ctx.user.id)  # type: ignore[arg-type]
    if parsed is None or attempt is None or (attempt.id, attempt.position) != parsed[:2]:
        return [Reply(m.STALE_CHOICE, answers_choice=True, options=CONTINUE[:1])]
    return answer(ctx, attempt, parsed[2])


def answer_text(ctx: Context, text: str) -> list[Reply] | None:
    """Answer from typed letters when a question is open; None when the text is no answer."""
    attempt = open_attempt(ctx.session, ctx.user.id)  # type: ignore[arg-type]
    if attempt is None:
        return None
    slots = attempt_slots(ctx.deps.bank, attempt)
    if attempt.position >= len(slots):
        return None
    q = slots[attempt.position].question
    if parse_letters(text, q.letters(), q.kind == "truefalse") is None:
        return None
    return answer(ctx, attempt, text)


def answer(ctx: Context, attempt: LessonAttempt, raw: str) -> list[Reply]:
    """Judge one answer, grant what it earns, and move the attempt on."""
    slots = attempt_slots(ctx.deps.bank, attempt)
    slot = slots[attempt.position]
    q = slot.question
    shown = parse_letters(raw, q.letters(), q.kind == "truefalse")
    if shown is None:
        return [Reply(m.INVALID_ANSWER.format(letters="、".join(q.letters())))]
    chosen = mapped_letters(shown, list(slot.perm), q.letters())
    correct = chosen == q.answer_letters()
    sent_at = as_aware(attempt.question_sent_at) if attempt.question_sent_at else ctx.now
    latency_ms = max(0, int((ctx.now - sent_at).total_seconds() * 1000))
    ctx.session.add(Answer(user_id=ctx.user.id, attempt_id=attempt.id, question_id=q.id,  # type: ignore[arg-type]
                           chosen=chosen, correct=correct, answered_at=ctx.now,
                           latency_ms=latency_ms))
    touch_streak(ctx)
    result = m.ANSWER_RIGHT if correct else m.ANSWER_WRONG.format(answer=slot.shown_answer())
    if correct:
        points = ctx.deps.rules.first_correct
        if grant_points(ctx.session, ctx.user.id, points, "first_correct",  # type: ignore[arg-type]
                        f"首次答对 {q.id}", f"first_correct:{ctx.user.id}:{q.id}", ctx.now):
            result += m.ANSWER_POINTS.format(points=points)
    result += "\n" + m.EXPLANATION.format(explanation=q.explanation, basis=q.basis)
    replies = [Reply(result, answers_choice=True)]
    attempt.position += 1
    attempt.correct += int(correct)
    attempt.question_sent_at = ctx.now
    if attempt.position < len(slots):
        replies.append(question_reply(attempt, slots))
    else:
        replies += finish_attempt(ctx, attempt, len(slots))
    return replies


def finish_attempt(ctx: Context, attempt: LessonAttempt, total: int) -> list[Reply]:
    """Close an attempt: record a pass, grant lesson and course rewards, say what is next."""
    found = ctx.deps.bank.lesson(attempt.lesson_id)
    assert found is not None  # the attempt was built from this bank
    course, lesson = found
    attempt.finished_at = ctx.now
    attempt.passed = lesson_passed(attempt.correct, total, course.pass_mark)
    need = math.ceil(course.pass_mark * total - 1e-9)
    if not attempt.passed:
        return [Reply(m.LESSON_FAILED.format(correct=attempt.correct, total=total, need=need),
                      options=CONTINUE)]
    lines = [m.LESSON_PASSED.format(correct=attempt.correct, total=total)]
    first_pass = ctx.session.exec(select(LessonPass.id).where(
        LessonPass.user_id == ctx.user.id, LessonPass.lesson_id == lesson.id)).first() is None
    if first_pass:
        ctx.session.add(LessonPass(user_id=ctx.user.id, course_id=course.id, lesson_id=lesson.id,  # type: ignore[arg-type]
                                   score=attempt.correct / total, passed_at=ctx.now))
        ctx.session.flush()
        points = ctx.deps.rules.lesson_pass
        if grant_points(ctx.session, ctx.user.id, points, "lesson_pass",  # type: ignore[arg-type]
                        f"通过课程 {lesson.id}", f"lesson_pass:{ctx.user.id}:{lesson.id}", ctx.now):
            lines.append(m.POINTS_GAINED.format(points=points, reason="通过本课"))
    replies = [Reply("\n".join(lines))]
    passed = passed_lessons(ctx.session, ctx.user.id)  # type: ignore[arg-type]
    if first_pass and all(x.id in passed for x in course.lessons):
        replies += rewards.course_completed(ctx, course)
    replies.append(Reply(m.NEXT_HINT, options=CONTINUE))
    return replies


def touch_streak(ctx: Context) -> None:
    """Count today as a study day for the streak."""
    user = ctx.user
    today = ctx.today
    if user.last_study_day == today:
        return
    streak = next_streak(user.last_study_day, user.streak_days, today)
    ctx.session.execute(update(User).where(User.id == user.id)  # type: ignore[arg-type]
                        .values(streak_days=streak, last_study_day=today))


def show_me(ctx: Context, _arg: str = "") -> list[Reply]:
    """Show points, credits, streak and per-course progress."""
    user = ctx.user
    ctx.session.refresh(user)
    ent = ctx.enterprise()
    answers, right = answer_counts(ctx.session, user.id)  # type: ignore[arg-type]
    last: date | None = user.last_study_day
    lines = [m.ME.format(name=user.name, enterprise=ent.name if ent else "-",
                         group=m.GROUPS.get(user.group or 0, "-"), points=user.points,
                         credits=user.credits,
                         streak=current_streak(last, user.streak_days, ctx.today),
                         answers=answers, correct=right), ""]
    for p in course_progress(ctx.session, ctx.deps.bank, user.id):  # type: ignore[arg-type]
        mark = "✅" if p.credit_earned else ("📖" if p.passed else "⬜")
        lines.append(m.ME_COURSE.format(
            mark=mark, title=p.course.title, required=m.ME_REQUIRED if p.course.required else "",
            done=p.passed, total=p.total,
            credit=m.ME_CREDIT.format(credits=p.course.credits) if p.credit_earned else ""))
    lines += rewards.me_lines(ctx)
    return [Reply("\n".join(line for line in lines), options=CONTINUE[:1])]


def show_help(_ctx: Context, _arg: str = "") -> list[Reply]:
    """List what the worker can do."""
    return [Reply(m.HELP)]
