"""The points mall as the worker sees it: the list, and redeeming by number."""

from __future__ import annotations

import unicodedata

from bot import mall
from bot import messages as m
from bot.chat import Option, Reply
from handlers.context import Context


def show_mall(ctx: Context, _arg: str = "") -> list[Reply]:
    """List what is on sale and how to redeem it."""
    ctx.session.refresh(ctx.user)
    items = mall.active_items(ctx.session)
    if not items:
        return [Reply(m.MALL_EMPTY)]
    lines = [m.MALL_HEADER.format(points=ctx.user.points)]
    lines += [m.MALL_LINE.format(id=i.id, name=i.name, cost=i.cost, stock=i.stock,
                                 limit=i.per_person) for i in items]
    lines.append(m.MALL_HOW.format(example=items[0].id))
    options = tuple(Option(f"兑换 {i.id}", f"cmd:redeem:{i.id}") for i in items if i.stock > 0)
    return [Reply("\n".join(lines), options=options[:8])]


def redeem(ctx: Context, arg: str) -> list[Reply]:
    """Redeem the item with the given number."""
    number = unicodedata.normalize("NFKC", arg).strip().lstrip("#")
    if not number.isdigit():
        return [Reply(m.REDEEM_HOW)]
    outcome = mall.redeem(ctx.session, ctx.uid, int(number), ctx.inbound.dedupe_key,
                          ctx.now, ctx.today)
    item = outcome.item
    if outcome.status == "no_item" or item is None:
        return [Reply(m.REDEEM_NO_ITEM.format(id=number))]
    ctx.session.refresh(ctx.user)
    if outcome.status == "ok":
        return [Reply(m.REDEEM_OK.format(name=item.name, cost=item.cost, points=ctx.user.points,
                                         code=outcome.code))]
    if outcome.status == "no_stock":
        return [Reply(m.REDEEM_NO_STOCK.format(name=item.name))]
    if outcome.status == "limit":
        return [Reply(m.REDEEM_LIMIT.format(name=item.name, limit=item.per_person))]
    return [Reply(m.REDEEM_POOR.format(name=item.name, cost=item.cost, points=ctx.user.points))]
