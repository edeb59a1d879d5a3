"""Benchmark the triad allocation solver: 12, 40, one pool of 1,300, and 25,000 in 5,000 clusters.

Prints wall time, objective, lower bound, gap and greedy-baseline cost / our cost for each case.
Run: .venv/bin/python bench/allocation.py [--cases 12,40,1300,25000] [--processes 2]
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

from review_engine.core.allocation import (
    AllocationProblem,
    AllocationResult,
    SchoolNode,
    greedy_baseline,
    solve,
    solve_many,
)

DATA = Path("/work/shared/data")
EASTING, NORTHING = (150_000, 650_000), (50_000, 650_000)  # England-sized ranges, metres


def read_gias(path: Path) -> list[SchoolNode] | None:
    """Schools from a GIAS extract (Windows-1252; URN, Easting, Northing), or None if missing."""
    if not path.exists():
        return None
    with path.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        SchoolNode(
            urn=int(r["URN"]),
            easting=int(r["Easting"]) if r.get("Easting") else None,
            northing=int(r["Northing"]) if r.get("Northing") else None,
        )
        for r in rows
    ]


def tight_cluster(n: int, rng: random.Random, first_urn: int, radius_m: int) -> list[SchoolNode]:
    """n schools within radius_m of a random centre in England."""
    cx, cy = rng.randint(*EASTING), rng.randint(*NORTHING)
    return [
        SchoolNode(
            urn=first_urn + i,
            easting=cx + rng.randint(-radius_m, radius_m),
            northing=cy + rng.randint(-radius_m, radius_m),
        )
        for i in range(n)
    ]


def england_pool(n: int, rng: random.Random) -> list[SchoolNode]:
    return [
        SchoolNode(urn=100_000 + i, easting=rng.randint(*EASTING), northing=rng.randint(*NORTHING))
        for i in range(n)
    ]


def report(name: str, wall: float, result: AllocationResult, baseline: float, note: str) -> None:
    ratio = baseline / result.objective if result.objective else float("nan")
    print(
        f"{name:>22}  {wall:7.2f} s  objective {result.objective:11.1f}  bound "
        f"{result.lower_bound:11.1f}  gap {result.gap:7.3%}  greedy/ours {ratio:5.3f}  {note}"
    )
    print(f"{'':>22}  method: {result.method}")


def run_single(name: str, schools: list[SchoolNode], source: str) -> None:
    problem = AllocationProblem(schools=schools)
    start = time.perf_counter()
    result = solve(problem, time_limit_s=10.0)
    wall = time.perf_counter() - start
    report(name, wall, result, greedy_baseline(problem), source)


def run_national(clusters: int, size: int, processes: int, rng: random.Random) -> None:
    problems = [
        AllocationProblem(schools=tight_cluster(size, rng, 100_000 + c * 10, 6_000))
        for c in range(clusters)
    ]
    start = time.perf_counter()
    results = solve_many(problems, processes=processes)
    wall = time.perf_counter() - start
    objective = sum(r.objective for r in results)
    bound = sum(r.lower_bound for r in results)
    baseline = sum(greedy_baseline(p) for p in problems)
    optimal = sum(r.optimal for r in results)
    total = AllocationResult(
        assignments=(),
        objective=objective,
        breakdown={},
        lower_bound=bound,
        gap=(objective - bound) / objective if objective else 0.0,
        optimal=optimal == len(results),
        wall_seconds=wall,
        method=f"solve_many, {processes} processes; {optimal}/{len(results)} clusters optimal",
    )
    report(f"{clusters * size:,} ({clusters:,} x {size})", wall, total, baseline, "synthetic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default="12,40,1300,25000")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = {int(c) for c in args.cases.split(",")}
    if 12 in cases:
        real = read_gias(DATA / "gias-manchester-12.csv")
        schools = real or tight_cluster(12, rng, 100_000, 6_000)
        run_single("12 (one cluster)", schools, "GIAS Manchester" if real else "synthetic")
    if 40 in cases:
        real = read_gias(DATA / "gias-greater-manchester-40.csv")
        schools = real or tight_cluster(40, rng, 200_000, 15_000)
        run_single("40 (one cluster)", schools, "GIAS Greater Manchester" if real else "synthetic")
    if 1300 in cases:
        run_single("1,300 (one pool)", england_pool(1300, rng), "synthetic, England-wide")
    if 25000 in cases:
        run_national(5000, 5, args.processes, rng)


if __name__ == "__main__":
    main()
