"""Rewards that follow learning: course credits, the data packs, the daily review bonus."""

from __future__ import annotations

from sqlmodel import col, select

from bot import datapacks
from bot import messages as m
from bot.chat import Reply
from bot.ledger import grant_credit
from bot.models import CreditEntry, LessonAttempt, LessonPass
from handlers.context import Context
from quiz_bank.schema import Course


def course_completed(ctx: Context, course: Course) -> list[Reply]:
    """Grant a finished course's credits and points once; both required done → a data pack."""
    uid = ctx.uid
    assert uid is not None
    if not grant_credit(ctx.session, uid, course.id, course.credits, course.required, ctx.now):
        return []
    lines = [m.COURSE_DONE.format(course=course.title, credits=course.credits)]
    raced = ctx.session.exec(select(LessonPass.id).where(
        LessonPass.user_id == uid, LessonPass.course_id == course.id,
        col(LessonPass.clean).is_(False))).first()
    if raced is None:  # the credit stands either way; points only for a course really read
        granted = ctx.grant("course_complete", f"course_complete:{uid}:{course.id}", course.id)
        if granted and granted.points:
            lines.append(m.POINTS_GAINED.format(points=granted.points, reason="完成课程"))
    replies = [Reply("\n".join(lines))]
    if course.required and required_done(ctx):
        replies.append(trained(ctx))
    return replies


def required_done(ctx: Context) -> bool:
    """Tell whether the worker holds the credits of every required course."""
    earned = set(ctx.session.exec(select(CreditEntry.course_id)
                                  .where(CreditEntry.user_id == ctx.uid)).all())
    return all(c.id in earned for c in ctx.deps.bank.required)


def trained(ctx: Context) -> Reply:
    """Mark the worker trained and claim the next data pack slot, if any is left."""
    ctx.user.trained_at = ctx.now
    limit = ctx.deps.settings.data_pack_limit
    slot = datapacks.claim(ctx.session, ctx.uid, ctx.deps.clock, limit)
    if slot is None:
        return Reply(m.DATA_PACK_GONE.format(limit=limit))
    return Reply(m.DATA_PACK_WON.format(slot=slot))


def take_phone(ctx: Context, text: str) -> list[Reply] | None:
    """Store the top-up number of a data-pack winner who has not given one; None otherwise."""
    pack = datapacks.pack_of(ctx.session, ctx.uid)
    if pack is None or pack.phone_encrypted:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 7 or len(digits) != len(text.replace(" ", "").replace("-", "").lstrip("+")):
        return None  # not an attempt at a number: let other routes have it
    phone = datapacks.normalise_phone(text)
    if phone is None:
        return [Reply(m.PHONE_INVALID)]
    datapacks.store_phone(pack, phone, ctx.deps.settings.secret_key.get_secret_value(), ctx.now)
    return [Reply(m.PHONE_SAVED.format(masked=pack.phone_masked))]


def review_finished(ctx: Context, attempt: LessonAttempt, total: int) -> list[Reply]:
    """Close a review session and grant the daily review bonus once."""
    lines = [m.REVIEW_DONE.format(correct=attempt.correct, total=total)]
    granted = ctx.grant("review_session", f"review:{ctx.uid}:{ctx.today}", str(ctx.today))
    if granted and granted.points:
        lines.append(m.POINTS_GAINED.format(points=granted.points, reason="完成每日复习"))
    return [Reply("\n".join(lines))]


def me_lines(ctx: Context) -> list[str]:
    """Return the reward lines of `/me`: data pack, account review, board visibility."""
    lines = [""]
    pack = datapacks.pack_of(ctx.session, ctx.uid)
    if pack is not None:
        phone = pack.phone_masked or m.ME_DATA_PACK_NEED_PHONE
        lines.append(m.ME_DATA_PACK.format(slot=pack.slot, phone=phone))
    else:
        left = ctx.deps.settings.data_pack_limit - datapacks.given_count(ctx.session)
        lines.append(m.ME_DATA_PACK_LEFT.format(left=max(left, 0)))
    if ctx.user.flagged:
        lines.append(m.ME_FLAGGED)
    if not ctx.user.public_board:
        lines.append(m.ME_HIDDEN)
    return lines
