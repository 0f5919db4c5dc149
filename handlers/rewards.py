"""Rewards that follow learning: course credits and completion points."""

from __future__ import annotations

from bot import messages as m
from bot.chat import Reply
from bot.ledger import grant_credit, grant_points
from handlers.context import Context
from quiz_bank.schema import Course


def course_completed(ctx: Context, course: Course) -> list[Reply]:
    """Grant a finished course's credits and completion points, once."""
    uid = ctx.user.id
    assert uid is not None
    if not grant_credit(ctx.session, uid, course.id, course.credits, course.required, ctx.now):
        return []
    lines = [m.COURSE_DONE.format(course=course.title, credits=course.credits)]
    points = ctx.deps.rules.course_complete
    if grant_points(ctx.session, uid, points, "course_complete", f"完成课程 {course.id}",
                    f"course_complete:{uid}:{course.id}", ctx.now):
        lines.append(m.POINTS_GAINED.format(points=points, reason="完成课程"))
    return [Reply("\n".join(lines))]


def me_lines(_ctx: Context) -> list[str]:
    """Return the reward lines of `/me` (none yet beyond points and credits)."""
    return []
