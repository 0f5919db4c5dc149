"""Joining: invite code → name → learner group, with a prompt at every step."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import select

from bot import messages as m
from bot.chat import Option, Reply
from bot.models import Enterprise
from handlers.context import Context

_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z·•.\s]{2,20}$")


def find_enterprise(ctx: Context, code: str) -> Enterprise | None:
    """Return the enterprise whose invite code matches, ignoring case and width."""
    code = unicodedata.normalize("NFKC", code).strip().upper()
    if code.startswith("QRSCENE_"):
        code = code[len("QRSCENE_"):]
    if not code:
        return None
    return ctx.session.exec(select(Enterprise).where(Enterprise.invite_code == code)).first()


def group_options() -> tuple[Option, ...]:
    """Return the four learner groups as choices."""
    return tuple(Option(f"{n}. {label}", f"g:{n}") for n, label in m.GROUPS.items())


def prompt_for_state(ctx: Context) -> list[Reply]:
    """Repeat what the joining worker must send next."""
    user = ctx.user
    if user.state == "await_name":
        ent = ctx.enterprise()
        return [Reply(m.ASK_NAME.format(enterprise=ent.name if ent else ""))]
    if user.state == "await_group":
        return [Reply(m.ASK_GROUP.format(name=user.name), options=group_options())]
    return [Reply(m.WELCOME_NEED_INVITE)]


def start(ctx: Context, arg: str) -> list[Reply]:
    """Begin or restart: bind the enterprise from an invite, or ask for one."""
    user = ctx.user
    if user.state == "ready":
        ent = ctx.enterprise()
        return [Reply(m.ALREADY_JOINED.format(name=user.name, enterprise=ent.name if ent else ""),
                      options=(Option(m.CONTINUE_LABEL, "cmd:learn"),))]
    if arg.strip():
        return bind_invite(ctx, arg)
    if user.enterprise_id is None:
        user.state = "await_invite"
        return [Reply(m.WELCOME_NEED_INVITE)]
    return prompt_for_state(ctx)


def bind_invite(ctx: Context, code: str) -> list[Reply]:
    """Bind the worker to the enterprise of an invite code and ask for the name."""
    ent = find_enterprise(ctx, code)
    if ent is None:
        return [Reply(m.INVITE_UNKNOWN.format(code=code.strip()[:32]))]
    ctx.user.enterprise_id = ent.id
    ctx.user.state = "await_name"
    return [Reply(m.ASK_NAME.format(enterprise=ent.name))]


def take_name(ctx: Context, text: str) -> list[Reply]:
    """Store the worker's name and ask for the group."""
    name = unicodedata.normalize("NFKC", text).strip()
    if not _NAME.match(name) or len(name.replace(" ", "")) < 2:
        return [Reply(m.NAME_INVALID)]
    ctx.user.name = name
    ctx.user.state = "await_group"
    return [Reply(m.ASK_GROUP.format(name=name), options=group_options())]


def take_group(ctx: Context, text: str) -> list[Reply]:
    """Store the learner group and finish joining."""
    choice = unicodedata.normalize("NFKC", text).strip().rstrip(".、").removeprefix("g:")
    if choice not in {"1", "2", "3", "4"}:
        return [Reply(m.GROUP_INVALID, options=group_options())]
    ctx.user.group = int(choice)
    ctx.user.state = "ready"
    ent = ctx.enterprise()
    return [Reply(m.JOINED.format(enterprise=ent.name if ent else "", group=m.GROUPS[int(choice)]),
                  options=(Option("开始学习", "cmd:learn"), Option("帮助", "cmd:help")))]


def continue_joining(ctx: Context, text: str) -> list[Reply]:
    """Route free text to the joining step the worker is at."""
    state = ctx.user.state
    if state == "await_invite":
        return bind_invite(ctx, text)
    if state == "await_name":
        return take_name(ctx, text)
    return take_group(ctx, text)
