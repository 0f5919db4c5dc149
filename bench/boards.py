"""Leaderboards over a simulated city: the indexed queries of `bot.boards` against the naive ones.

    DATABASE_URL=sqlite:///bench/out/million.db python3 -m uv run jixing simulate \\
        --users 1000000 --enterprises 2000 --days 30 --seed 1
    python3 -m uv run python bench/boards.py --url sqlite:///bench/out/million.db [--runs 21]
        [--json bench/out/boards-sqlite.json] [--try-fixes]

Every query runs `--runs` times (after one warm-up) in a fresh session, as a chat message
would; each indexed query and its naive counterpart run alternately in the same loop, so a
noisy neighbour slows both. Prints median and p90 in milliseconds and, per pair, the ratio of
medians. `--try-fixes` also times candidates for what is still slow, one of them on a scratch
table that is dropped again (the database is left as it was).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from bot import boards  # noqa: E402
from bot.db import make_engine  # noqa: E402
from bot.ledger import ALL_TIME  # noqa: E402
from bot.models import PeriodScore, User  # noqa: E402

TOP = 2000


@dataclass
class Timing:
    """One measured query."""

    name: str
    runs: list[float]  # seconds
    rows: int

    @property
    def median_ms(self) -> float:
        """Return the median in milliseconds."""
        return statistics.median(self.runs) * 1000

    @property
    def p90_ms(self) -> float:
        """Return the 90th percentile in milliseconds."""
        ordered = sorted(self.runs)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))] * 1000


def measure(engine: Engine, runs: int, *queries: tuple[str, Callable[[Session], Any]]
            ) -> list[Timing]:
    """Time the queries alternately, `runs` times each after a warm-up, a fresh session per run."""
    found: dict[str, int] = {}
    times: dict[str, list[float]] = {name: [] for name, _ in queries}
    for i in range(runs + 1):
        for name, query in queries:
            with Session(engine) as session:
                began = time.perf_counter()
                result = query(session)
                elapsed = time.perf_counter() - began
                session.rollback()
            if i:
                times[name].append(elapsed)
            found[name] = len(result) if hasattr(result, "__len__") else int(result is not None)
    return [Timing(name, times[name], found[name]) for name, _ in queries]


def rows(session: Session, sql: str, **params: Any) -> list[Any]:
    """Run raw SQL and fetch every row (the naive queries)."""
    return list(session.execute(text(sql), params).all())


# --- the naive alternatives: what the indexes and PeriodScore avoid -----------------------------

WINDOW = """
    SELECT user_id, points, RANK() OVER (ORDER BY points DESC, points_at, user_id) AS r
    FROM periodscore WHERE period = :period AND public AND points > 0"""


def naive_top(session: Session, period: str) -> list[Any]:
    """Rank the whole period with a window function, then keep the first 2000."""
    return rows(session, f"SELECT user_id, points, r FROM ({WINDOW}) AS ranked WHERE r <= :n "
                         "ORDER BY r", period=period, n=TOP)


def naive_rank(session: Session, period: str, user_id: int) -> list[Any]:
    """Rank the whole period with a window function to find one worker."""
    return rows(session, f"SELECT r FROM ({WINDOW}) AS ranked WHERE user_id = :u",
                period=period, u=user_id)


def naive_around(session: Session, period: str, user_id: int) -> list[Any]:
    """Number the whole period, then take the worker's row and five either side."""
    numbered = WINDOW.replace("RANK()", "ROW_NUMBER()")
    return rows(session, f"""
        WITH ranked AS ({numbered})
        SELECT user_id, points, r FROM ranked
        WHERE r BETWEEN (SELECT r FROM ranked WHERE user_id = :u) - 5
                    AND (SELECT r FROM ranked WHERE user_id = :u) + 5 ORDER BY r""",
                period=period, u=user_id)


def ledger_top(session: Session, first_day: str | None) -> list[Any]:
    """Without PeriodScore: sum the points ledger per worker (for a month: its days only)."""
    where = "delta > 0" + (" AND day >= :d" if first_day else "")
    return rows(session, f"""
        SELECT user_id, SUM(delta) AS points FROM pointsentry WHERE {where}
        GROUP BY user_id ORDER BY points DESC, user_id LIMIT :n""", d=first_day, n=TOP)


def naive_enterprise(session: Session, enterprise_id: int) -> list[Any]:
    """The enterprise board from the users table: balances, sorted, no board index."""
    return rows(session, """SELECT id, name, points FROM "user"
        WHERE enterprise_id = :e AND public_board AND points > 0
        ORDER BY points DESC, points_at, id""", e=enterprise_id)


# --- candidates for what is still slow -----------------------------------------------------------
# (Bounding the index range at the worker's own points, names by JOIN and the covering
# participation index were candidates here and are in bot/boards.py since afca130.)

HISTOGRAM = "bench_points_histogram"


def histogram_rank(session: Session, period: str, user_id: int) -> int | None:
    """Own rank from a per-points count table plus the ties ahead: O(distinct scores + ties)."""
    me = boards._score(session, period, user_id)
    if me is None or me.points <= 0 or not me.public:
        return None
    higher = session.execute(text(
        f"SELECT COALESCE(SUM(n), 0) FROM {HISTOGRAM} WHERE period = :p AND points > :pts"),
        {"p": period, "pts": me.points}).scalar_one()
    # Ties ahead as two plain index ranges: an OR would make SQLite walk the whole tie group.
    same = (PeriodScore.period == period, col(PeriodScore.public).is_(True),
            PeriodScore.points == me.points)
    earlier = session.exec(select(func.count()).select_from(PeriodScore).where(
        *same, col(PeriodScore.points_at) < me.points_at)).one()
    lower_id = session.exec(select(func.count()).select_from(PeriodScore).where(
        *same, PeriodScore.points_at == me.points_at,
        col(PeriodScore.user_id) < me.user_id)).one()
    return int(higher) + int(earlier) + int(lower_id) + 1


def unnamed_top(session: Session, period: str, limit: int, enterprise_id: int | None = None
                ) -> list[Any]:
    """The board from `PeriodScore` alone, as if names were mirrored there like `public` is."""
    return list(session.exec(select(PeriodScore.user_id, PeriodScore.points)
                             .where(*boards._scope(period, enterprise_id))
                             .order_by(*boards._ordered()).limit(limit)).all())


# --- the run ------------------------------------------------------------------------------------


def positions(session: Session, period: str) -> dict[str, int]:
    """Return workers at the top, middle and bottom of a period's public board."""
    scope = (PeriodScore.period == period, col(PeriodScore.public).is_(True),
             col(PeriodScore.points) > 0)
    size = session.exec(select(func.count()).select_from(PeriodScore).where(*scope)).one()
    order = (col(PeriodScore.points).desc(), col(PeriodScore.points_at), col(PeriodScore.user_id))
    out = {}
    for label, offset in (("top", 0), ("middle", size // 2), ("bottom", size - 1)):
        out[label] = session.exec(select(PeriodScore.user_id).where(*scope).order_by(*order)
                                  .offset(offset).limit(1)).one()
    out["size"] = size
    return out


def machine() -> dict[str, Any]:
    """Describe where the figures come from."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def run(url: str, runs: int, try_fixes: bool) -> dict[str, Any]:
    """Measure every board query and its naive counterpart."""
    engine = make_engine(url)
    with Session(engine) as s:
        workers = s.exec(select(func.count()).select_from(User)).one()
        month = s.exec(select(func.max(PeriodScore.period))
                       .where(col(PeriodScore.period).like("____-__"))).one()
        at = positions(s, ALL_TIME)
        largest, size = s.exec(select(User.enterprise_id, func.count()).group_by(
            col(User.enterprise_id)).order_by(func.count().desc()).limit(1)).one()
        sizes = sorted(n for _, n in s.exec(select(User.enterprise_id, func.count())
                                            .group_by(col(User.enterprise_id))).all())
        typical_size = sizes[len(sizes) // 2]
        median = s.exec(select(User.enterprise_id).group_by(col(User.enterprise_id))
                         .having(func.count() == typical_size).limit(1)).one()
    assert month is not None
    assert largest is not None
    assert median is not None
    biggest: int = largest  # plain ints for the closures below
    typical: int = median
    month_start = f"{month}-01"
    mid = at["middle"]
    top_all = lambda s: boards.top(s, ALL_TIME, TOP)  # noqa: E731
    top_month = lambda s: boards.top(s, month, TOP)  # noqa: E731
    pairs: list[tuple[str, Query, str | None, Query | None]] = [
        ("top 2000, all time", top_all,
         "RANK() over the period", lambda s: naive_top(s, ALL_TIME)),
        ("top 2000, all time", top_all,
         "SUM over the ledger", lambda s: ledger_top(s, None)),
        (f"top 2000, month {month}", top_month,
         "RANK() over the period", lambda s: naive_top(s, month)),
        (f"top 2000, month {month}", top_month,
         "SUM over the month's ledger", lambda s: ledger_top(s, month_start)),
        *[(f"rank_of, {label} worker", _rank(at[label]),
           "RANK() over the period", _naive_rank(at[label]))
          for label in ("top", "middle", "bottom")],
        ("around (±5), middle worker", lambda s: boards.around(s, ALL_TIME, mid, 5),
         "ROW_NUMBER() over the period", lambda s: naive_around(s, ALL_TIME, mid)),
        (f"enterprise board, largest ({size:,} workers)",
         lambda s: boards.top(s, ALL_TIME, 10**6, biggest),
         "users table, sorted", lambda s: naive_enterprise(s, biggest)),
        (f"enterprise board, median ({typical_size:,} workers)",
         lambda s: boards.top(s, ALL_TIME, 10**6, typical),
         "users table, sorted", lambda s: naive_enterprise(s, typical)),
        ("rank_of in the enterprise, middle worker",
         lambda s: boards.rank_of(s, ALL_TIME, mid, _enterprise_of(s, mid)), None, None),
        ("participation (all enterprises)", boards.participation, None, None),
    ]
    results = []
    for name, indexed, naive_name, naive in pairs:
        queries = [(name, indexed)] + ([(f"naive: {naive_name}", naive)] if naive else [])
        timings = measure(engine, runs, *queries)
        results.append({"query": name, "indexed": _figures(timings[0]), "naive_query": naive_name,
                        "naive": _figures(timings[1]) if naive else None})
    fixes = _candidates(engine, runs, at, biggest) if try_fixes else []
    dialect = engine.dialect.name
    engine.dispose()
    return {"url": url.split("@")[-1], "dialect": dialect, "workers": workers,
            "board_size_all_time": at["size"], "month": month, "runs": runs,
            "machine": machine(), "results": results, "fixes": fixes}


Query = Callable[[Session], Any]


def _rank(user_id: int) -> Query:
    return lambda s: boards.rank_of(s, ALL_TIME, user_id)


def _naive_rank(user_id: int) -> Query:
    return lambda s: naive_rank(s, ALL_TIME, user_id)


def _figures(t: Timing) -> dict[str, Any]:
    return {"rows": t.rows, "median_ms": t.median_ms, "p90_ms": t.p90_ms,
            "runs_ms": [x * 1000 for x in t.runs]}


def _enterprise_of(session: Session, user_id: int) -> int | None:
    user = session.get(User, user_id)
    return user.enterprise_id if user else None


def _ids_and_points(board: list[Any]) -> list[tuple[int, int]]:
    """Reduce board rows (BoardRow or result rows) to (user_id, points)."""
    return [(r.user_id, r.points) for r in board]


def _candidates(engine: Engine, runs: int, at: dict[str, int], biggest: int
                ) -> list[dict[str, Any]]:
    """Time what is still slow against a candidate, as pairs; check both give the same answer."""
    with engine.begin() as conn:  # a scratch table, dropped below: the database stays as it was
        conn.execute(text(f"DROP TABLE IF EXISTS {HISTOGRAM}"))
        conn.execute(text(f"CREATE TABLE {HISTOGRAM} AS SELECT period, points, COUNT(*) AS n "
                          "FROM periodscore WHERE public AND points > 0 GROUP BY period, points"))
        conn.execute(text(f"CREATE INDEX {HISTOGRAM}_ix ON {HISTOGRAM} (period, points, n)"))
    pairs: list[tuple[str, Query, str, Query, Callable[[Any], Any]]] = [
        *[(f"rank_of, {label} worker", _rank(at[label]), "count table per score + ties ahead",
           (lambda u: lambda s: histogram_rank(s, ALL_TIME, u))(at[label]), lambda r: r)
          for label in ("middle", "bottom")],
        ("top 2000, all time", lambda s: boards.top(s, ALL_TIME, TOP),
         "names mirrored in PeriodScore (no join)", lambda s: unnamed_top(s, ALL_TIME, TOP),
         _ids_and_points),
        ("enterprise board, largest", lambda s: boards.top(s, ALL_TIME, 10**6, biggest),
         "names mirrored in PeriodScore (no join)",
         lambda s: unnamed_top(s, ALL_TIME, 10**6, biggest),
         _ids_and_points),
    ]
    out = []
    try:
        for name, current, fix_name, fixed, key in pairs:
            with Session(engine) as s:
                assert key(current(s)) == key(fixed(s)), name
            now, then = measure(engine, runs, (name, current), (f"{name}: {fix_name}", fixed))
            out.append({"query": name, "fix": fix_name, "current": _figures(now),
                        "with_fix": _figures(then)})
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {HISTOGRAM}"))
    return out


def report(data: dict[str, Any]) -> list[str]:
    """Render the figures as a Markdown table."""
    m = data["machine"]
    lines = [f"{data['dialect']}: {data['workers']:,} workers, {data['board_size_all_time']:,} on "
             f"the all-time board; median and p90 of {data['runs']} runs; "
             f"{m['nproc']} × {m['cpu']}", "",
             "| query | rows | median ms | p90 ms | naive alternative | median ms | p90 ms "
             "| naive ÷ indexed |",
             "|---|---:|---:|---:|---|---:|---:|---:|"]
    for r in data["results"]:
        fast, slow = r["indexed"], r["naive"]
        cells = [r["query"], f"{fast['rows']:,}", f"{fast['median_ms']:.2f}",
                 f"{fast['p90_ms']:.2f}"]
        if slow:
            cells += [r["naive_query"], f"{slow['median_ms']:.1f}", f"{slow['p90_ms']:.1f}",
                      _ratio(slow["median_ms"] / fast["median_ms"])]
        else:
            cells += ["", "", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    if data["fixes"]:
        lines += ["", "Candidates for what is still slow (pairs in one loop):", "",
                  "| query | now median ms | p90 ms | fix | median ms | p90 ms | speed-up |",
                  "|---|---:|---:|---|---:|---:|---:|"]
    for f in data["fixes"]:
        a, b = f["current"], f["with_fix"]
        lines.append(f"| {f['query']} | {a['median_ms']:.2f} | {a['p90_ms']:.2f} | {f['fix']} "
                     f"| {b['median_ms']:.2f} | {b['p90_ms']:.2f} "
                     f"| {_ratio(a['median_ms'] / b['median_ms'])} |")
    return lines


def _ratio(x: float) -> str:
    """Format a ratio: whole numbers from 10 up, one decimal below."""
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×"


def main() -> None:
    """Parse arguments, measure, print the table, keep the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL",
                                                        "sqlite:///bench/out/million.db"))
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--try-fixes", action="store_true",
                        help="also time candidates for what is still slow (on a scratch table, "
                             "dropped afterwards)")
    args = parser.parse_args()
    data = run(args.url, args.runs, args.try_fixes)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    sys.stdout.write("\n".join(report(data)) + "\n")


if __name__ == "__main__":
    main()
