"""Leaderboards as the worker sees them: masked names, their own place, the stated tie-break."""

from __future__ import annotations

from bot import boards
from bot import messages as m
from bot.chat import Reply
from bot.domain.masking import mask_name
from bot.domain.ranking import TIE_BREAK_RULE
from handlers.context import Context

TOP_N = 10


def _lines(rows: list[boards.BoardRow]) -> list[str]:
    if not rows:
        return [m.RANK_EMPTY]
    return [m.RANK_LINE.format(rank=r.rank, name=mask_name(r.name), points=r.points) for r in rows]


def show_rank(ctx: Context, _arg: str = "") -> list[Reply]:
    """Show the citywide and enterprise top 10 and the worker's own rank."""
    ctx.session.refresh(ctx.user)
    ent = ctx.enterprise()
    lines = [m.RANK_CITY.format(n=TOP_N), *_lines(boards.top(ctx.session, TOP_N)), ""]
    if ent is not None:
        lines += [m.RANK_ENTERPRISE.format(enterprise=ent.name, n=TOP_N),
                  *_lines(boards.top(ctx.session, TOP_N, ent.id)), ""]
    city = boards.rank_of(ctx.session, ctx.user)
    if city is None:
        lines.append(m.RANK_NONE)
    else:
        own = boards.rank_of(ctx.session, ctx.user, ctx.user.enterprise_id)
        lines.append(m.RANK_SELF.format(city=city, ent=own or "-", points=ctx.user.points))
    lines.append(m.RANK_RULE.format(rule=TIE_BREAK_RULE))
    return [Reply("\n".join(lines))]
