"""Leaderboards as the worker sees them: masked names, their own place, the stated tie-break."""

from __future__ import annotations

import unicodedata
from datetime import date

from bot import boards
from bot import messages as m
from bot.chat import Option, Reply
from bot.domain.masking import mask_name
from bot.domain.ranking import TIE_BREAK_RULE
from bot.domain.streaks import week_of
from bot.ledger import ALL_TIME
from handlers.context import Context

TOP_N = 10
ENTERPRISE_TOP_N = 5
AROUND_N = 5
PERIOD_WORDS = {"周": "week", "本周": "week", "week": "week", "月": "month", "本月": "month",
                "month": "month", "年": "year", "本年": "year", "year": "year", "总": "all",
                "累计": "all", "all": "all", "企业": "enterprise", "enterprise": "enterprise"}
BOARD_OPTIONS = (Option("周榜", "cmd:rank:week"), Option("月榜", "cmd:rank:month"),
                 Option("年榜", "cmd:rank:year"), Option("总榜", "cmd:rank:all"),
                 Option("企业榜", "cmd:rank:enterprise"))


def period_id(kind: str, today: date) -> str:
    """Return the stored period for a board kind on a given day."""
    if kind == "week":
        return week_of(today)
    if kind == "month":
        return f"{today:%Y-%m}"
    if kind == "year":
        return f"{today:%Y}"
    return ALL_TIME


def _line(row: boards.BoardRow, me: int | None) -> str:
    if row.user_id == me:
        return m.BOARD_SELF_LINE.format(rank=row.rank, name=mask_name(row.name), points=row.points)
    return m.RANK_LINE.format(rank=row.rank, name=mask_name(row.name), points=row.points)


def show_rank(ctx: Context, arg: str = "") -> list[Reply]:
    """Show a period board (this month by default) or the enterprise participation board."""
    kind = PERIOD_WORDS.get(unicodedata.normalize("NFKC", arg).strip().lower(), "month")
    if kind == "enterprise":
        return show_participation(ctx)
    period = period_id(kind, ctx.today)
    label = m.BOARD_PERIODS[kind]
    uid = ctx.uid
    top = boards.top(ctx.session, period, TOP_N)
    lines = [m.BOARD_TITLE.format(period=label), *([_line(r, uid) for r in top] or [m.RANK_EMPTY])]
    near = boards.around(ctx.session, period, uid, AROUND_N)
    if near:
        me = next(r for r in near if r.user_id == uid)
        lines += ["", m.BOARD_AROUND.format(rank=me.rank, points=me.points),
                  *[_line(r, uid) for r in near]]
    elif not ctx.user.public_board:
        lines += ["", m.ME_HIDDEN]
    else:
        lines += ["", m.BOARD_NOT_RANKED.format(period=label)]
    ent = ctx.enterprise()
    if ent is not None:
        ent_rows = boards.top(ctx.session, period, ENTERPRISE_TOP_N, ent.id)
        lines += ["", m.BOARD_ENT_TITLE.format(enterprise=ent.name, period=label),
                  *([_line(r, uid) for r in ent_rows] or [m.RANK_EMPTY])]
    lines += ["", m.RANK_RULE.format(rule=TIE_BREAK_RULE)]
    return [Reply("\n".join(lines), options=BOARD_OPTIONS)]


def show_participation(ctx: Context) -> list[Reply]:
    """Show the enterprises ranked by workers who finished both required courses."""
    rows = boards.participation(ctx.session)
    lines = [m.BOARD_PARTICIPATION]
    lines += [m.BOARD_PART_LINE.format(rank=r.rank, name=r.name, trained=r.trained,
                                       registered=r.registered, rate=r.rate)
              for r in rows[:TOP_N]] or [m.RANK_EMPTY]
    own = next((r for r in rows if r.enterprise_id == ctx.user.enterprise_id), None)
    if own is not None:
        lines += ["", m.BOARD_OWN_ENTERPRISE.format(name=own.name, rank=own.rank)]
    return [Reply("\n".join(lines), options=BOARD_OPTIONS)]


def hide_from_boards(ctx: Context, _arg: str = "") -> list[Reply]:
    """Leave the public boards (points and rewards unaffected)."""
    boards.set_public(ctx.session, ctx.user, False)
    return [Reply(m.HIDE_DONE)]


def show_on_boards(ctx: Context, _arg: str = "") -> list[Reply]:
    """Come back onto the public boards."""
    boards.set_public(ctx.session, ctx.user, True)
    return [Reply(m.SHOW_DONE)]
