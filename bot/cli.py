"""The `jixing` command line (INTERFACES.md): thin wrappers over the services."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from bot import cli_rewards, cli_telegram, cli_wechat
from bot import messages as m
from bot.clock import FixedClock, SystemClock
from bot.config import Settings
from bot.db import make_engine, transaction
from bot.simulate import command as simulate_command
from quiz_bank.loader import check_bank

app = typer.Typer(help="技行 (Jixing) — learning chatbot for the city's workers.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
quiz_app = typer.Typer(help="The quiz bank.", no_args_is_help=True)
enterprise_app = typer.Typer(help="Enterprises and invite codes.", no_args_is_help=True)
user_app = typer.Typer(help="Workers' records.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(quiz_app, name="quiz")
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(user_app, name="user")
cli_rewards.register(app)
cli_wechat.register(app)
cli_telegram.register(app)
simulate_command.register(app)

DEMO_INVITE = "DEMO"


def settings() -> Settings:
    """Read settings from the environment and `.env`."""
    return Settings()


def echo(text: str = "") -> None:
    """Print a line for the operator."""
    typer.echo(text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to DATABASE_URL."""
    from bot.migrate import upgrade

    s = settings()
    upgrade(s.database_url)
    echo(f"数据库已升级到最新版本：{_safe_url(s.database_url)}")


@quiz_app.command("check")
def quiz_check(path: Annotated[Path | None, typer.Argument(help="folder or file")] = None) -> None:
    """Validate a quiz bank; exit 1 listing `file: question-id: problem`."""
    bank, problems = check_bank(path)
    if bank is None:
        for p in problems:
            echo(str(p))
        raise typer.Exit(1)
    questions = sum(len(x.questions) for c in bank.courses for x in c.lessons)
    lessons = sum(len(c.lessons) for c in bank.courses)
    echo(f"OK: {len(bank.courses)} courses, {lessons} lessons, {questions} questions")


@quiz_app.command("export")
def quiz_export(
    fmt: Annotated[str, typer.Option("--format", help="only json for now")] = "json",
    path: Annotated[Path | None, typer.Option(help="a bank other than the bundled one")] = None,
) -> None:
    """Print every course, lesson and question with its answer, for review."""
    if fmt != "json":
        echo(f"unsupported format: {fmt} (use json)")
        raise typer.Exit(2)
    bank, problems = check_bank(path)
    if bank is None:
        for p in problems:
            echo(str(p))
        raise typer.Exit(1)
    out = [{
        "id": c.id, "title": c.title, "required": c.required, "credits": c.credits,
        "pass_mark": c.pass_mark, "topic": c.topic,
        "lessons": [{
            "id": lsn.id, "title": lsn.title, "text": lsn.text,
            "questions": [{
                "id": q.id, "kind": q.kind, "prompt": q.prompt, "options": list(q.options),
                "answer": q.answer_letters(), "explanation": q.explanation, "basis": q.basis,
            } for q in lsn.questions],
        } for lsn in c.lessons],
    } for c in bank.courses]
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


@enterprise_app.command("add")
def enterprise_add(
    name: str,
    invite: Annotated[str | None, typer.Option(help="choose the invite code")] = None,
) -> None:
    """Create an enterprise and print its invite code."""
    from bot.enterprises import create_enterprise

    engine = make_engine(settings().database_url)
    try:
        with transaction(engine) as session:
            ent = create_enterprise(session, name, SystemClock().now(), invite)
    except ValueError as exc:
        echo(str(exc))
        raise typer.Exit(1) from None
    echo(ent.invite_code)


def parse_identity(identity: str) -> tuple[str, str]:
    """Split `CHANNEL:ID`, refusing unknown channels."""
    from bot.chat import CHANNELS

    channel, _, external_id = identity.partition(":")
    if channel not in CHANNELS or not external_id:
        echo(f"expected CHANNEL:ID with CHANNEL one of {', '.join(CHANNELS)}")
        raise typer.Exit(2)
    return channel, external_id


@user_app.command("show")
def user_show(
    identity: Annotated[str, typer.Argument(metavar="CHANNEL:ID")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Show one worker's record."""
    from bot.records import find_user, user_record

    channel, external_id = parse_identity(identity)
    s = settings()
    bank, problems = check_bank(s.quiz_bank_path)
    if bank is None:
        echo("\n".join(map(str, problems)))
        raise typer.Exit(1)
    with transaction(make_engine(s.database_url)) as session:
        user = find_user(session, channel, external_id)
        if user is None:
            echo(f"no worker {identity}")
            raise typer.Exit(1)
        record = user_record(session, bank, user, channel, external_id)
    if as_json:
        echo(json.dumps(record, ensure_ascii=False))
        return
    for key, value in record.items():
        if key == "courses":
            for cid, p in value.items():
                mark = "✓" if p["credit_earned"] else " "
                echo(f"  [{mark}] {cid}: {p['lessons_done']}/{p['lessons_total']}")
        else:
            echo(f"{key}: {value}")


@app.command()
def demo(
    user: Annotated[str | None, typer.Option(help="console worker id to play")] = None,
    shuffle: Annotated[bool, typer.Option(help="shuffle answer options")] = False,
) -> None:
    """Chat with the bot as a worker in the terminal (embedded SQLite, demo enterprise)."""
    from bot.app import build_app
    from bot.channels.console import ConsoleChannel
    from bot.enterprises import ensure_enterprise
    from bot.migrate import upgrade

    logging.basicConfig(level=logging.WARNING)
    s = settings()
    upgrade(s.database_url)
    interactive = sys.stdin.isatty()
    paced = None if interactive else FixedClock(SystemClock().now())
    application = build_app(s, shuffle=shuffle, clock=paced)
    with transaction(application.engine) as session:
        ensure_enterprise(session, m.DEMO_ENTERPRISE, DEMO_INVITE, SystemClock().now())
    # A scripted run plays a new worker each time, so the same script gives the same story.
    external_id = user or ("demo" if interactive else f"demo-{uuid.uuid4().hex[:8]}")
    echo(m.DEMO_BANNER.format(db=_safe_url(s.database_url), user=external_id,
                              invite=DEMO_INVITE))
    channel = ConsoleChannel(application.core, external_id, pace=paced)
    channel.run(_interactive_lines() if interactive else sys.stdin, echo=not interactive)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    scheduler: Annotated[bool, typer.Option(help="run the scheduler in-process")] = True,
) -> None:
    """Run the web app: /wechat, /wecom, /telegram, /healthz."""
    import uvicorn

    from bot.app import build_app
    from bot.web import create_web_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    application = build_app(settings())
    if scheduler:
        logging.getLogger(__name__).info("no scheduled jobs are defined yet")
    uvicorn.run(create_web_app(application), host=host, port=port, log_level="info")


def _interactive_lines() -> Iterator[str]:
    while True:
        try:
            yield input("你 > ")
        except (EOFError, KeyboardInterrupt):
            echo()
            return


def _safe_url(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Run the CLI."""
    app()
