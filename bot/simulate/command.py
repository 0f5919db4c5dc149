"""`jixing simulate --users N [--enterprises E] [--days D] [--seed S]` (INTERFACES.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.config import Settings

MAX_USERS = 10_000_000  # simulated Telegram ids keep each seed in its own range of ten million


def register(app: typer.Typer) -> None:
    """Add `simulate` to the main CLI."""
    app.command("simulate")(simulate_command)


def simulate_command(
    users: Annotated[int, typer.Option("--users", min=1, max=MAX_USERS, help="workers to create")],
    enterprises: Annotated[int | None, typer.Option(
        min=1, help="enterprises to create (default: one per 500 workers)")] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="days of activity, up to now")] = 30,
    seed: Annotated[int, typer.Option(min=0, help="the same seed gives the same workers")] = 0,
    batch: Annotated[int, typer.Option(min=1000, help="workers per transaction")] = 5000,
    timings: Annotated[bool, typer.Option("--timings", help="also print seconds per step")] = False,
) -> None:
    """Fill the database with synthetic enterprises, workers and their learning (演练, benchmarks)."""
    from bot.app import build_app
    from bot.clock import SystemClock
    from bot.migrate import upgrade
    from bot.simulate.simulation import Options, SeedUsed, simulate

    s = Settings()
    upgrade(s.database_url)
    application = build_app(s)
    step = max(users // 10, 5000)
    shown = [0]

    def progress(done: int) -> None:
        if done - shown[0] >= step or done == users:
            shown[0] = done
            typer.echo(f"… {done:,} / {users:,} workers", err=True)

    opts = Options(users=users, enterprises=enterprises or max(1, users // 500), days=days,
                   seed=seed, batch=batch)
    try:
        summary = simulate(application.engine, application.deps, opts, SystemClock().now(),
                           progress)
    except SeedUsed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        application.engine.dispose()
    for line in summary.lines():
        typer.echo(line)
    if timings:
        for name, seconds in sorted(summary.timings.items(), key=lambda kv: -kv[1]):
            typer.echo(f"  {name}: {seconds:.1f} s")
