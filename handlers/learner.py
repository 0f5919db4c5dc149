"""Learning: the next lesson, answering its questions, and the worker's own record."""

from __future__ import annotations

import math

from sqlalchemy import func
from sqlmodel import col, select

from bot import messages as m
from bot.chat import Option, Reply
from bot.clock import as_aware
from bot.domain.answers import lesson_passed, mapped_letters, parse_letters
from bot.domain.streaks import StreakState, freeze_available, shown_streak, study
from bot.flags import fast_answers_on, raise_flag
from bot.learning import (
    REVIEW,
    Slot,
    answer_counts,
    attempt_slots,
    course_progress,
    next_lesson,
    open_attempt,
    passed_lessons,
    schedule_review,
    start_attempt,
)
from bot.ledger import Grant
from bot.models import Answer, LessonAttempt, LessonPass
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


def resume(ctx: Context) -> list[Reply] | None:
    """Re-show the open attempt's current question, or None when nothing is open."""
    attempt = open_attempt(ctx.session, ctx.uid)
    if attempt is None:
        return None
    slots = attempt_slots(ctx.deps.bank, attempt)
    if attempt.position < len(slots):
        attempt.question_sent_at = ctx.now  # the reading time starts again from here
        return [Reply(m.LESSON_RESENT), question_reply(attempt, slots)]
    attempt.finished_at = ctx.now  # the bank shrank under it; close it and move on
    return None


def learn(ctx: Context, _arg: str = "") -> list[Reply]:
    """Serve the current question, or open the next lesson (required courses first)."""
    resumed = resume(ctx)
    if resumed is not None:
        return resumed
    found = next_lesson(ctx.deps.bank, passed_lessons(ctx.session, ctx.uid))
    if found is None:
        return [Reply(m.ALL_DONE, options=(Option(m.ME_LABEL, "cmd:me"),))]
    course, lesson = found
    attempt = start_attempt(ctx.session, ctx.uid, course.id, lesson.id,
                            list(lesson.questions), ctx.deps.rng, ctx.now, ctx.deps.shuffle)
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
    attempt = open_attempt(ctx.session, ctx.uid)
    if parsed is None or attempt is None or (attempt.id, attempt.position) != parsed[:2]:
        return [Reply(m.STALE_CHOICE, answers_choice=True, options=CONTINUE[:1])]
    return answer(ctx, attempt, parsed[2])


def answer_text(ctx: Context, text: str) -> list[Reply] | None:
    """Answer from typed letters when a question is open; None when the text is no answer."""
    attempt = open_attempt(ctx.session, ctx.uid)
    if attempt is None:
        return None
    slots = attempt_slots(ctx.deps.bank, attempt)
    if attempt.position >= len(slots):
        return None
    q = slots[attempt.position].question
    if parse_letters(text, q.letters(), q.kind == "truefalse") is None:
        return None
    return answer(ctx, attempt, text)


def _points_note(granted: Grant | None) -> str:
    if granted is None:
        return ""
    if granted.points:
        return m.ANSWER_POINTS.format(points=granted.points)
    return m.CAPPED if granted.capped else ""


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
    seconds = (ctx.now - sent_at).total_seconds()
    reading = ctx.deps.rules.anticheat.reading_seconds(len(q.prompt) + sum(map(len, q.options)))
    too_fast = seconds < reading
    ctx.session.add(Answer(user_id=ctx.uid, attempt_id=attempt.id, question_id=q.id,  # type: ignore[arg-type]
                           chosen=chosen, correct=correct, answered_at=ctx.now,
                           latency_ms=max(0, int(seconds * 1000)), too_fast=too_fast))
    ctx.session.flush()
    lines = [m.ANSWER_RIGHT if correct else m.ANSWER_WRONG.format(answer=slot.shown_answer())]
    if too_fast:
        lines[0] += "\n" + m.TOO_FAST
        check_fast_answers(ctx)
    elif correct:
        lines[0] += _points_note(ctx.grant("first_correct", f"first_correct:{ctx.uid}:{q.id}",
                                           q.id))
    lines.append(m.EXPLANATION.format(explanation=q.explanation, basis=q.basis))
    if not too_fast:
        lines += study_day(ctx)
    schedule_review(ctx.session, ctx.uid, q.id, correct, ctx.today,
                    ctx.deps.rules.review)
    replies = [Reply("\n".join(lines), answers_choice=True)]
    attempt.position += 1
    attempt.correct += int(correct)
    attempt.question_sent_at = ctx.now
    if attempt.position < len(slots):
        replies.append(question_reply(attempt, slots))
    else:
        replies += finish_attempt(ctx, attempt, len(slots))
    return replies


def check_fast_answers(ctx: Context) -> None:
    """Flag the account once its too-fast answers today pass the threshold."""
    limit = ctx.deps.rules.anticheat.fast_answers_to_flag
    count = fast_answers_on(ctx.session, ctx.uid, ctx.day_start())
    if count >= limit:
        raise_flag(ctx.session, ctx.user, f"{ctx.today}：{count} 次答题快于阅读时间", ctx.now)


def study_day(ctx: Context) -> list[str]:
    """Count today for the streak; grant the daily sign-in and streak bonuses once."""
    user = ctx.user
    before = StreakState(user.streak_days, user.last_study_day, user.freeze_week)
    after = study(before, ctx.today)
    if after == before:
        return []
    user.streak_days, user.last_study_day, user.freeze_week = (
        after.days, after.last_day, after.freeze_week)
    lines = []
    signin = ctx.grant("daily_signin", f"signin:{user.id}:{ctx.today}", str(ctx.today))
    if signin and signin.points:
        lines.append(m.SIGNIN.format(points=signin.points))
    for days in (7, 30):
        if after.days == days:
            bonus = ctx.grant(f"streak_{days}", f"streak_{days}:{user.id}:{ctx.today}")
            if bonus and bonus.points:
                lines.append(m.STREAK_BONUS.format(days=days, points=bonus.points))
    return lines


def finish_attempt(ctx: Context, attempt: LessonAttempt, total: int) -> list[Reply]:
    """Close an attempt: record a pass, grant lesson and course rewards, say what is next."""
    attempt.finished_at = ctx.now
    if attempt.course_id == REVIEW:
        return rewards.review_finished(ctx, attempt, total)
    found = ctx.deps.bank.lesson(attempt.lesson_id)
    assert found is not None  # the attempt was built from this bank
    course, lesson = found
    attempt.passed = lesson_passed(attempt.correct, total, course.pass_mark)
    need = math.ceil(course.pass_mark * total - 1e-9)
    if not attempt.passed:
        return [Reply(m.LESSON_FAILED.format(correct=attempt.correct, total=total, need=need),
                      options=CONTINUE)]
    lines = [m.LESSON_PASSED.format(correct=attempt.correct, total=total)]
    first_pass = ctx.session.exec(select(LessonPass.id).where(
        LessonPass.user_id == ctx.uid, LessonPass.lesson_id == lesson.id)).first() is None
    if first_pass:
        fast = ctx.session.exec(select(func.count()).select_from(Answer).where(
            Answer.attempt_id == attempt.id, col(Answer.too_fast).is_(True))).one()
        ctx.session.add(LessonPass(user_id=ctx.uid, course_id=course.id, lesson_id=lesson.id,
                                   score=attempt.correct / total, passed_at=ctx.now,
                                   clean=not fast))
        ctx.session.flush()
        if not fast:  # a lesson raced through earns its progress, not its points
            granted = ctx.grant("lesson_pass", f"lesson_pass:{ctx.uid}:{lesson.id}", lesson.id)
            if granted and granted.points:
                lines.append(m.POINTS_GAINED.format(points=granted.points, reason="通过本课"))
    replies = [Reply("\n".join(lines))]
    passed = passed_lessons(ctx.session, ctx.uid)
    if first_pass and all(x.id in passed for x in course.lessons):
        replies += rewards.course_completed(ctx, course)
    replies.append(Reply(m.NEXT_HINT, options=CONTINUE))
    return replies


def show_me(ctx: Context, _arg: str = "") -> list[Reply]:
    """Show points, credits, streak and per-course progress."""
    user = ctx.user
    ctx.session.refresh(user)
    ent = ctx.enterprise()
    answers, right = answer_counts(ctx.session, ctx.uid)
    streak = StreakState(user.streak_days, user.last_study_day, user.freeze_week)
    lines = [m.ME.format(name=user.name, enterprise=ent.name if ent else "-",
                         group=m.GROUPS.get(user.group or 0, "-"), points=user.points,
                         credits=user.credits, streak=shown_streak(streak, ctx.today),
                         answers=answers, correct=right)]
    lines.append(m.ME_STREAK_FREEZE.format(
        state=m.FREEZE_UNUSED if freeze_available(streak, ctx.today) else m.FREEZE_USED))
    lines.append("")
    for p in course_progress(ctx.session, ctx.deps.bank, ctx.uid):
        mark = "✅" if p.credit_earned else ("📖" if p.passed else "⬜")
        lines.append(m.ME_COURSE.format(
            mark=mark, title=p.course.title, required=m.ME_REQUIRED if p.course.required else "",
            done=p.passed, total=p.total,
            credit=m.ME_CREDIT.format(credits=p.course.credits) if p.credit_earned else ""))
    lines += rewards.me_lines(ctx)
    return [Reply("\n".join(lines), options=CONTINUE[:1])]


def show_help(_ctx: Context, _arg: str = "") -> list[Reply]:
    """List what the worker can do."""
    return [Reply(m.HELP)]
