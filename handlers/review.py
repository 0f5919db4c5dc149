"""The daily review (复习): questions the worker got wrong or is about to forget."""

from __future__ import annotations

from bot import messages as m
from bot.chat import Option, Reply
from bot.learning import REVIEW, attempt_slots, due_reviews, open_attempt, start_attempt
from handlers.context import Context
from handlers.learner import question_reply


def start_review(ctx: Context, _arg: str = "") -> list[Reply]:
    """Open a review session of the questions due today."""
    if open_attempt(ctx.session, ctx.uid) is not None:
        return [Reply(m.REVIEW_BUSY, options=(Option(m.CONTINUE_LABEL, "cmd:learn"),))]
    policy = ctx.deps.rules.review
    questions = due_reviews(ctx.session, ctx.deps.bank, ctx.uid, ctx.today,
                            policy.session_size)
    if not questions:
        return [Reply(m.REVIEW_NONE, options=(Option(m.CONTINUE_LABEL, "cmd:learn"),))]
    attempt = start_attempt(ctx.session, ctx.uid, REVIEW, f"review-{ctx.today}",
                            questions, ctx.deps.rng, ctx.now, ctx.deps.shuffle)
    slots = attempt_slots(ctx.deps.bank, attempt)
    return [Reply(m.REVIEW_HEADER.format(count=len(slots))), question_reply(attempt, slots)]
