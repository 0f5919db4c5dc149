"""The one routing table: Telegram commands, WeChat keywords and menu keys for each action.

Precedence, top to bottom: platform events → tapped buttons → commands/keywords →
the joining step the worker is at → answer letters for an open question → a short help.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot import messages as m
from bot.chat import Reply
from handlers import boards, joining, learner, mall, review, rewards
from handlers.context import Context

Action = Callable[[Context, str], list[Reply]]


@dataclass(frozen=True)
class Route:
    """One action and every way a worker can ask for it."""

    name: str
    command: str  # Telegram, without the slash
    keywords: tuple[str, ...]  # WeChat / WeCom text
    menu_key: str | None  # WeChat menu EventKey
    action: Action
    needs_join: bool = True


ROUTES: tuple[Route, ...] = (
    Route("start", "start", ("开始",), None, joining.start, needs_join=False),
    Route("learn", "learn", ("学习",), "LEARN", learner.learn),
    Route("me", "me", ("我的",), "ME", learner.show_me),
    Route("rank", "rank", ("排行", "排名", "排行榜"), "RANK", boards.show_rank),
    Route("review", "review", ("复习",), "REVIEW", review.start_review),
    Route("mall", "mall", ("商城", "积分商城"), "MALL", mall.show_mall),
    Route("redeem", "redeem", ("兑换",), None, mall.redeem),
    Route("hide", "hide", ("隐藏排名",), None, boards.hide_from_boards),
    Route("show", "show", ("公开排名",), None, boards.show_on_boards),
    Route("help", "help", ("帮助",), "HELP", learner.show_help, needs_join=False),
)

BY_NAME = {r.name: r for r in ROUTES}
BY_COMMAND = {r.command: r for r in ROUTES}
BY_KEYWORD = {k: r for r in ROUTES for k in r.keywords}
BY_MENU_KEY = {r.menu_key: r for r in ROUTES if r.menu_key}


def find_route(text: str) -> tuple[Route, str] | None:
    """Match `/cmd arg`, `/cmd@bot arg`, `关键词` or `关键词 arg`; return the route and its argument."""
    head, _, arg = text.strip().partition(" ")
    if head.startswith("/"):
        route = BY_COMMAND.get(head[1:].split("@", 1)[0].lower())
        return (route, arg.strip()) if route else None
    route = BY_KEYWORD.get(head)
    return (route, arg.strip()) if route else None


def run(ctx: Context, route: Route, arg: str) -> list[Reply]:
    """Run a route, sending a worker who has not finished joining back to their joining step."""
    if route.needs_join and ctx.user.state != "ready":
        return [Reply(m.NEED_JOIN_FIRST), *joining.prompt_for_state(ctx)]
    return route.action(ctx, arg)


def dispatch(ctx: Context) -> list[Reply]:
    """Decide what an inbound event means and return the replies."""
    inbound = ctx.inbound
    if inbound.event == "unsubscribe":
        ctx.user.reachable = False
        return []
    ctx.user.reachable = True
    if inbound.event == "subscribe":
        return joining.start(ctx, inbound.event_key or "")
    if inbound.event == "menu":
        route = BY_MENU_KEY.get(inbound.event_key or "")
        return run(ctx, route, "") if route else [Reply(m.HELP)]
    if inbound.event is not None:
        return [Reply(m.UNKNOWN_EMPTY)]
    if inbound.choice is not None:
        return dispatch_choice(ctx, inbound.choice)
    text = unicodedata.normalize("NFKC", inbound.text or "").strip()
    if not text:
        return [Reply(m.UNKNOWN_EMPTY)]
    found = find_route(text)
    if found is not None:
        return run(ctx, *found)
    if ctx.user.state != "ready":
        return joining.continue_joining(ctx, text)
    answered = learner.answer_text(ctx, text)
    if answered is not None:
        return answered
    phone = rewards.take_phone(ctx, text)
    if phone is not None:
        return phone
    return [Reply(m.UNKNOWN.format(text=text[:20]))]


def dispatch_choice(ctx: Context, payload: str) -> list[Reply]:
    """Handle a tapped button: `cmd:NAME[:ARG]`, `g:N` (group) or `q:…` (an answer)."""
    name, _, arg = payload.removeprefix("cmd:").partition(":")
    if payload.startswith("cmd:") and name in BY_NAME:
        return run(ctx, BY_NAME[name], arg)
    if payload.startswith("g:") and ctx.user.state == "await_group":
        return joining.take_group(ctx, payload)
    if payload.startswith("q:") and ctx.user.state == "ready":
        return learner.answer_choice(ctx, payload)
    return [Reply(m.STALE_CHOICE, answers_choice=True)]
