"""Benchmark `review tick`: 25,000 schools in 5,000 clusters of 5, every cycle due to advance.

Builds the data set-based (Core inserts), then, five times over on fresh copies of it, times one
real `review_engine.services.tick.tick` and a plain SQL baseline making the same state changes
and writing the same history rows (one transaction, executemany). Prints each run, then the
median tick, the median baseline, the median of the ratios (SQLite's against its target) and the
number of SQL statements the tick issued. SQLite (temporary files; one build, copied with the
backup API) always; PostgreSQL (rebuilt for every run) when REVIEW_BENCH_POSTGRES_URL (or
REVIEW_TEST_POSTGRES_URL) is set and answers.

All runs share one process, as ticks do in the scheduler: the first also parses the workflow
(once per process). Each timed section starts after a full garbage collection; otherwise the
~100,000 objects the imports leave are scanned (~50 ms here) in whichever run happens to cross
the collector's threshold, every other run of the tick.

Run: .venv/bin/python bench/tick.py [--clusters 5000] [--size 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.exc import OperationalError

from review_engine.config import Settings, normalise_url
from review_engine.core import cycle_plan, term_dates
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog
from review_engine.rules.policy import SCHEDULER as SYSTEM_ACTOR
from review_engine.runtime import Runtime
from review_engine.services import admin
from review_engine.services.tick import tick
from review_engine.store.history_chain import GENESIS, row_hash
from review_engine.store.models import (
    Cluster,
    Cycle,
    Membership,
    Review,
    ReviewState,
    School,
    WorkflowSnapshot,
)
from review_engine.store.schedule_tables import (
    Calendar,
    CalendarAssignment,
    CalendarPeriod,
    PlanStep,
)
from review_engine.testing import FakeClock

SAMPLES = Path(__file__).resolve().parents[1] / "review_engine" / "samples"
YEAR = "2026-27"
AT = datetime(2026, 9, 3, 5, 0, tzinfo=UTC)  # 06:00 London: Autumn 1 starts, cycles open
LA = "352"
RUNS = 5
TARGET = 2.5  # SQLite: the tick within this many times the plain SQL baseline (median)


@dataclass(frozen=True)
class Timing:
    tick_s: float
    baseline_s: float
    statements: int
    boundaries: int
    history_rows: int


def build(url: str, clusters: int, size: int) -> None:
    """A migrated database with `clusters` clusters of `size` schools, each with a planned
    cycle on the Sample LA calendar (plan steps stored, as `review cycle start` leaves them)."""
    admin.init_database(Settings(database_url=url, data_dir=Path(tempfile.gettempdir())))
    definition = WorkflowCatalog(None).get(DEFAULT_WORKFLOW)
    calendar = next(
        c
        for c in term_dates.read_csv(SAMPLES / "term-dates-2026-27.csv", name="Sample LA")
        if c.academic_year == YEAR
    )
    steps = cycle_plan.plan(definition, calendar)
    now = datetime(2026, 7, 1, tzinfo=UTC)
    machines = definition.school_machines
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(
            insert(WorkflowSnapshot),
            [
                {
                    "hash": definition.hash,
                    "name": definition.name,
                    "version": definition.version,
                    "source": definition.source,
                    "created_at": now,
                }
            ],
        )
        calendar_id = 1
        conn.execute(insert(Calendar), [{"id": calendar_id, "name": "Sample LA"}])
        conn.execute(
            insert(CalendarPeriod),
            [
                {
                    "calendar_id": calendar_id,
                    "academic_year": YEAR,
                    "kind": "half_term",
                    "label": h.half_term.value,
                    "first_day": h.first_day,
                    "last_day": h.last_day,
                }
                for h in calendar.half_terms
            ]
            + [
                {
                    "calendar_id": calendar_id,
                    "academic_year": YEAR,
                    "kind": x.kind.value,
                    "label": x.label,
                    "first_day": x.first_day,
                    "last_day": x.last_day,
                }
                for x in calendar.closures
            ],
        )
        conn.execute(insert(CalendarAssignment), [{"calendar_id": calendar_id, "la_code": LA}])
        urns = [100_000 + n for n in range(clusters * size)]
        conn.execute(
            insert(School),
            [{"urn": u, "name": f"School {u}", "la_code": LA, "is_closed": False} for u in urns],
        )
        conn.execute(
            insert(Cluster),
            [
                {
                    "id": c + 1,
                    "name": f"Cluster {c + 1:05d}",
                    "framework": "eif2019",
                    "trust_conflicts": False,
                    "created_at": now,
                }
                for c in range(clusters)
            ],
        )
        conn.execute(
            insert(Membership),
            [
                {"cluster_id": n // size + 1, "school_urn": u, "joined": date(2026, 7, 1)}
                for n, u in enumerate(urns)
            ],
        )
        conn.execute(
            insert(Cycle),
            [
                {
                    "id": c + 1,
                    "cluster_id": c + 1,
                    "academic_year": YEAR,
                    "workflow_name": definition.name,
                    "workflow_version": definition.version,
                    "workflow_hash": definition.hash,
                    "state": definition.cycle_machine.initial,
                    "version": 1,
                    "started_at": now,
                }
                for c in range(clusters)
            ],
        )
        conn.execute(
            insert(Review),
            [
                {"id": n + 1, "cycle_id": n // size + 1, "school_urn": u, "version": 1}
                for n, u in enumerate(urns)
            ],
        )
        conn.execute(
            insert(ReviewState),
            [
                {"review_id": n + 1, "machine": m.name, "state": m.initial}
                for n in range(len(urns))
                for m in machines
            ],
        )
        conn.execute(
            insert(PlanStep),
            [
                {
                    "cycle_id": c + 1,
                    "position": s.position,
                    "kind": s.kind,
                    "trigger": s.trigger,
                    "from_state": s.from_state,
                    "to_state": s.to_state,
                    "due_on": s.due_on,
                }
                for c in range(clusters)
                for s in steps
            ],
        )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in ("calendar", "cluster", "cycle", "review"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    engine.dispose()


def time_tick(url: str) -> tuple[float, int, int]:
    """One real tick; (seconds, SQL statements, boundaries applied)."""
    rt = Runtime.open(
        Settings(database_url=url, data_dir=Path(tempfile.gettempdir())),
        clock=FakeClock(AT),
        actor=SYSTEM_ACTOR,
    )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    try:
        event.listen(rt.db.engine, "before_cursor_execute", count)
        gc.collect()  # start clean: no earlier run's garbage collected on this run's time
        start = time.perf_counter()
        report = tick(rt, now=AT)
        elapsed = time.perf_counter() - start
    finally:
        rt.db.engine.dispose()
    return elapsed, len(statements), report.boundaries


def time_baseline(url: str) -> tuple[float, int]:
    """The same state changes and history rows in plain SQL; (seconds, history rows)."""
    engine = create_engine(normalise_url(url))
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    p = "?" if sqlite else "%s"
    # Parameters as the driver takes them (SQLite: text, in SQLAlchemy's format).
    today: Any = AT.date().isoformat() if sqlite else AT.date()
    at: Any = AT.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else AT
    try:
        gc.collect()  # as for the tick
        start = time.perf_counter()
        cur = raw.cursor()
        if sqlite:
            raw.isolation_level = None  # type: ignore[attr-defined]
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(
            "SELECT s.id, s.cycle_id, s.trigger, s.from_state, s.to_state, s.due_on, c.state "
            "FROM planstep s JOIN cycle c ON c.id = s.cycle_id "
            f"WHERE s.applied_at IS NULL AND s.kind = 'boundary' AND s.due_on <= {p} "
            "AND c.state NOT IN ('closed', 'cancelled') ORDER BY s.cycle_id, s.position",
            (today,),
        )
        moves: list[tuple[str, int, str]] = []
        done: list[tuple[Any, int]] = []
        history: list[tuple[Any, ...]] = []
        state: dict[int, str] = {}
        start_state: dict[int, str] = {}
        for step_id, cycle_id, trigger, from_state, to_state, due_on, current in cur.fetchall():
            now_state = state.setdefault(cycle_id, current)
            start_state.setdefault(cycle_id, current)
            if now_state == from_state:
                due = due_on if isinstance(due_on, date) else date.fromisoformat(due_on)
                history.append(
                    (
                        cycle_id,
                        "cycle",
                        from_state,
                        to_state,
                        trigger,
                        SYSTEM_ACTOR,
                        f"boundary due {due:%d %b %Y}",
                        at,
                    )
                )
                state[cycle_id] = to_state
            done.append((at, step_id))
        # The same history means the same hash chain: each cycle's head, then hash each row.
        cycle_ids = sorted({row[0] for row in history})
        heads: dict[int, str] = dict.fromkeys(cycle_ids, GENESIS)
        cur.execute(
            "SELECT t.cycle_id, t.hash FROM transitionlog t JOIN (SELECT cycle_id, max(id) AS id "
            "FROM transitionlog GROUP BY cycle_id) h ON h.id = t.id"
        )
        for cycle_id, head in cur.fetchall():
            if cycle_id in heads and head:
                heads[cycle_id] = head
        chained = []
        for cycle_id, machine, from_state, to_state, trigger, actor, reason, _at in history:
            prev = heads[cycle_id]
            digest = row_hash(
                prev, cycle_id, None, machine, from_state, to_state, trigger, actor, reason, AT
            )
            heads[cycle_id] = digest
            chained.append((cycle_id, machine, from_state, to_state, trigger, actor, reason, _at,
                            prev, digest))  # fmt: skip
        history = chained
        moves = [(state[c], c, start_state[c]) for c in state if state[c] != start_state[c]]
        cur.executemany(
            f"UPDATE cycle SET state = {p}, version = version + 1 WHERE id = {p} AND state = {p}",
            moves,
        )
        cur.executemany(f"UPDATE planstep SET applied_at = {p} WHERE id = {p}", done)
        cur.executemany(
            "INSERT INTO transitionlog (cycle_id, machine, from_state, to_state, trigger, actor, "
            f"reason, at, prev_hash, hash) VALUES ({', '.join([p] * 10)})",
            history,
        )
        if sqlite:
            cur.execute("COMMIT")
        else:
            raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()
    return elapsed, len(history)


def check(url: str, boundaries: int) -> int:
    """History rows the tick wrote (and a sanity check that every cycle moved and that every
    row is chained: the baseline computes the same hashes)."""
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        moved = conn.execute(text("SELECT id FROM cycle WHERE state = 'self_review'")).all()
        logs = conn.execute(text("SELECT count(*) FROM transitionlog")).scalar_one()
        unchained = conn.execute(
            text("SELECT count(*) FROM transitionlog WHERE hash IS NULL")
        ).scalar_one()
    assert unchained == 0, f"{unchained} history rows without a hash"
    engine.dispose()
    assert len(moved) == boundaries, (len(moved), boundaries)
    return int(logs)


def sqlite_copy(source: Path, target: Path) -> None:
    """A fresh copy of a SQLite database, through the backup API (never a file copy)."""
    target.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def run_once(tick_url: str, base_url: str) -> Timing:
    """Time the tick and the baseline on two fresh, identical databases."""
    tick_s, statements, boundaries = time_tick(tick_url)
    history_rows = check(tick_url, boundaries)
    baseline_s, baseline_rows = time_baseline(base_url)
    assert check(base_url, boundaries) == baseline_rows == history_rows
    return Timing(tick_s, baseline_s, statements, boundaries, history_rows)


def run_sqlite(folder: Path, clusters: int, size: int, runs: int) -> list[Timing]:
    source = folder / "source.sqlite"
    started = time.perf_counter()
    build(f"sqlite:///{source}", clusters, size)
    print(f"SQLite: built {clusters * size:,} schools in {time.perf_counter() - started:.1f} s")
    timings = []
    for n in range(runs):
        urls = []
        for which in ("tick", "baseline"):
            copy = folder / f"{which}.sqlite"
            for stale in (copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
                stale.unlink(missing_ok=True)
            sqlite_copy(source, copy)
            urls.append(f"sqlite:///{copy}")
        timings.append(run_once(*urls))
        show_run("SQLite", n + 1, timings[-1])
    return timings


def run_postgres(
    root: str, admin_engine: Engine, clusters: int, size: int, runs: int
) -> list[Timing]:
    """Rebuilt for every run, in two schemas of their own."""
    sep = "&" if "?" in root else "?"
    schemas = {which: f"bench_tick_{which}_{os.getpid()}" for which in ("tick", "baseline")}
    timings = []
    try:
        for n in range(runs):
            with admin_engine.begin() as conn:
                for schema in schemas.values():
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    conn.execute(text(f"CREATE SCHEMA {schema}"))
            urls = [
                f"{root}{sep}options=-csearch_path%3D{schemas[which]}"
                for which in ("tick", "baseline")
            ]
            started = time.perf_counter()
            for url in urls:
                build(url, clusters, size)
            built = time.perf_counter() - started
            if n == 0:
                print(f"PostgreSQL: built 2 x {clusters * size:,} schools in {built:.1f} s")
            timings.append(run_once(*urls))
            show_run("PostgreSQL", n + 1, timings[-1])
    finally:
        with admin_engine.begin() as conn:
            for schema in schemas.values():
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    return timings


def show_run(name: str, n: int, t: Timing) -> None:
    print(
        f"  {name} run {n}: tick {t.tick_s:.3f} s, baseline {t.baseline_s:.3f} s, "
        f"ratio {t.tick_s / t.baseline_s:.2f}, {t.statements} statements"
    )


def report(name: str, timings: list[Timing], target: float | None) -> None:
    """Medians over the runs: tick, baseline, and the median of the per-run ratios."""
    ratio = statistics.median(t.tick_s / t.baseline_s for t in timings)
    verdict = ""
    if target is not None:
        verdict = f" (target <= {target:g}: {'met' if ratio <= target else 'MISSED'})"
    statements = sorted({t.statements for t in timings})
    last = timings[-1]
    print(
        f"{name}, median of {len(timings)}: tick {statistics.median(t.tick_s for t in timings):.3f}"
        f" s, plain SQL baseline {statistics.median(t.baseline_s for t in timings):.3f} s, "
        f"ratio {ratio:.2f}{verdict}; {last.boundaries:,} boundaries, {last.history_rows:,} "
        f"history rows, {'/'.join(map(str, statements))} SQL statements in the tick"
    )


def postgres_base() -> str | None:
    return os.environ.get("REVIEW_BENCH_POSTGRES_URL") or os.environ.get("REVIEW_TEST_POSTGRES_URL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=5_000)
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print(
        f"{args.clusters:,} clusters of {args.size}: {args.clusters * args.size:,} schools, "
        f"{args.clusters:,} cycles due to open self-review on {AT:%d %b %Y}; "
        f"{args.runs} runs on fresh copies"
    )
    with tempfile.TemporaryDirectory() as folder:
        timings = run_sqlite(Path(folder), args.clusters, args.size, args.runs)
    report("SQLite", timings, TARGET)

    base = postgres_base()
    if base is None:
        print("PostgreSQL: skipped (set REVIEW_BENCH_POSTGRES_URL)")
        return
    root = normalise_url(base)
    admin_engine = create_engine(root)
    try:
        with admin_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        print(f"PostgreSQL: skipped, no server answers at {base}: {exc.orig}")
        admin_engine.dispose()
        return
    try:
        timings = run_postgres(root, admin_engine, args.clusters, args.size, args.runs)
    finally:
        admin_engine.dispose()
    report("PostgreSQL", timings, None)


if __name__ == "__main__":
    main()
