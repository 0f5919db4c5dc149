"""Operator commands for rewards: `jixing stats`, `jixing mall …`, `jixing flags …`,
`jixing datapacks`."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import col, select

from bot.clock import SystemClock
from bot.config import Settings
from bot.db import make_engine, transaction

mall_app = typer.Typer(help="The points mall (积分商城).", no_args_is_help=True)
flags_app = typer.Typer(help="Accounts under cheat review.", invoke_without_command=True)


def _settings() -> Settings:
    return Settings()


def register(app: typer.Typer) -> None:
    """Add the reward commands to the main CLI."""
    app.command("stats")(stats)
    app.command("datapacks")(datapacks)
    app.add_typer(mall_app, name="mall")
    app.add_typer(flags_app, name="flags")


def stats(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Citywide figures: workers against the 1,000,000 goal, credits, points, data packs."""
    from bot.stats import citywide
    from quiz_bank.loader import load_bank

    s = _settings()
    with transaction(make_engine(s.database_url)) as session:
        figures = citywide(session, load_bank(s.quiz_bank_path), s.data_pack_limit)
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False))
        return
    typer.echo(f"注册学员：{figures['workers_registered']:,}（注册中 {figures['workers_joining']:,}）")
    typer.echo(f"完成两门必修课：{figures['workers_trained']:,} / 目标 {figures['goal']:,}"
               f"（{figures['trained_share_of_goal']:.2%}）")
    typer.echo(f"企业：{figures['enterprises']:,}")
    typer.echo(f"已发学分：{figures['credits_issued']:g}　已发积分：{figures['points_issued']:,}"
               f"　已兑积分：{figures['points_spent']:,}")
    typer.echo(f"流量包：已发 {figures['data_packs_given']:,}，剩余 {figures['data_packs_left']:,}")
    typer.echo(f"商城兑换：{figures['mall_redemptions']:,}　待核查账号：{figures['accounts_flagged']}")
    for cid, c in figures["courses"].items():
        mark = "必修" if c["required"] else "选修"
        typer.echo(f"  [{mark}] {c['title']}（{cid}）：开始 {c['workers_started']:,}，"
                   f"完成 {c['workers_completed']:,}")


@mall_app.command("add")
def mall_add(
    name: str,
    cost: Annotated[int, typer.Option(help="points per item")],
    stock: Annotated[int, typer.Option(help="items available")],
    per_person: Annotated[int, typer.Option(help="most one worker may redeem")] = 1,
) -> None:
    """Put an item on sale; prints its number."""
    from bot.mall import add_item

    with transaction(make_engine(_settings().database_url)) as session:
        try:
            item = add_item(session, name, cost, stock, per_person, SystemClock().now())
        except ValueError as exc:
            typer.echo(str(exc))
            raise typer.Exit(2) from None
        typer.echo(str(item.id))


@mall_app.command("list")
def mall_list() -> None:
    """List every item with its stock and redemptions."""
    from sqlalchemy import func

    from bot.models import MallItem, Redemption

    with transaction(make_engine(_settings().database_url)) as session:
        counts = dict(session.exec(select(Redemption.item_id, func.count())
                                   .group_by(col(Redemption.item_id))).all())
        for item in session.exec(select(MallItem).order_by(col(MallItem.id))).all():
            state = "在售" if item.active else "下架"
            typer.echo(f"{item.id}\t{item.name}\t{item.cost} 积分\t库存 {item.stock}\t"
                       f"每人 {item.per_person}\t已兑 {counts.get(item.id or 0, 0)}\t{state}")


@mall_app.command("stock")
def mall_stock(item_id: int, stock: int) -> None:
    """Set an item's stock (restock)."""
    _update_item(item_id, stock=stock)


@mall_app.command("off")
def mall_off(item_id: int) -> None:
    """Take an item off sale."""
    _update_item(item_id, active=False)


def _update_item(item_id: int, **values: object) -> None:
    from bot.models import MallItem

    if "stock" in values and int(values["stock"]) < 0:  # type: ignore[call-overload]
        typer.echo("stock cannot be negative")
        raise typer.Exit(2)
    with transaction(make_engine(_settings().database_url)) as session:
        item = session.get(MallItem, item_id)
        if item is None:
            typer.echo(f"no item {item_id}")
            raise typer.Exit(1)
        for key, value in values.items():
            setattr(item, key, value)
    typer.echo("OK")


@flags_app.callback()
def flags_list(ctx: typer.Context) -> None:
    """List accounts under review (excluded from draws until cleared)."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.flags import open_flags
    from bot.models import Account

    with transaction(make_engine(_settings().database_url)) as session:
        rows = open_flags(session)
        for flag, user in rows:
            ids = session.exec(select(Account.channel, Account.external_id)
                               .where(Account.user_id == user.id)).all()
            who = ", ".join(f"{c}:{e}" for c, e in ids)
            typer.echo(f"{flag.created_at:%Y-%m-%d %H:%M}\t{who}\t{user.name}\t{flag.reason}")
        if not rows:
            typer.echo("没有待核查的账号")


@flags_app.command("clear")
def flags_clear(identity: Annotated[str, typer.Argument(metavar="CHANNEL:ID")],
                by: Annotated[str, typer.Option(help="who cleared it")] = "operator") -> None:
    """Clear a worker's open flags after review."""
    from bot.cli import parse_identity
    from bot.flags import clear
    from bot.records import find_user

    channel, external_id = parse_identity(identity)
    with transaction(make_engine(_settings().database_url)) as session:
        user = find_user(session, channel, external_id)
        if user is None:
            typer.echo(f"no worker {identity}")
            raise typer.Exit(1)
        typer.echo(f"cleared {clear(session, user.id, by, SystemClock().now())} flag(s)")  # type: ignore[arg-type]


def datapacks(
    csv_file: Annotated[Path | None, typer.Option("--csv", help="write a CSV here")] = None,
    reveal: Annotated[bool, typer.Option(help="decrypt phone numbers, for the top-up")] = False,
) -> None:
    """List data-pack winners in slot order (phones masked unless --reveal)."""
    from bot.datapacks import reveal_phone
    from bot.models import DataPack, User

    s = _settings()
    secret = s.secret_key.get_secret_value()
    out = open(csv_file, "w", newline="", encoding="utf-8") if csv_file else sys.stdout  # noqa: SIM115
    try:
        writer = csv.writer(out)
        # `flagged`: under cheat review — hold the top-up until an operator clears it.
        writer.writerow(["slot", "name", "claimed_at", "phone", "flagged"])
        with transaction(make_engine(s.database_url)) as session:
            for pack, user in session.exec(select(DataPack, User)
                                           .join(User, col(User.id) == DataPack.user_id)
                                           .order_by(col(DataPack.slot))).all():
                phone = (reveal_phone(pack, secret) if reveal else pack.phone_masked) or ""
                writer.writerow([pack.slot, user.name, pack.claimed_at.isoformat(), phone,
                                 "yes" if user.flagged else "no"])
    finally:
        if csv_file:
            out.close()
