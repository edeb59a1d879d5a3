"""Benchmark: how long `review` takes to start, against the libraries it cannot do without.

Median wall time of BENCH_RUNS (default 11) fresh subprocesses of this interpreter, after one
untimed warm-up each:

  bare      python -c "import typer, rich.table"   the floor: the CLI's own libraries
  version   review --version                        target: within 3x bare
  status    review cycle status CYCLE               target: within 1 s, on the demo cluster's
                                                    database (built here by review_engine.demo)

Run it on an idle machine: the figures are wall times.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from review_engine import demo

RUNS = int(os.environ.get("BENCH_RUNS", "11"))
VERSION_TARGET = 3.0  # times the bare import
STATUS_TARGET_S = 1.0


def _median_seconds(argv: list[str], env: dict[str, str]) -> float:
    def once() -> float:
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        took = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
        return took

    once()  # warm-up: bytecode and file caches
    return statistics.median(once() for _ in range(RUNS))


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    review = str(Path(sys.executable).with_name("review"))
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        run = demo.run(folder, out=folder / "out", say=lambda _line: None)
        run.runtime.db.engine.dispose()
        env = {
            **os.environ,
            "REVIEW_DATABASE_URL": f"sqlite:///{run.database}",
            "REVIEW_DATA_DIR": str(folder),
            "REVIEW_ACTOR": demo.FACILITATOR,
        }
        bare = _median_seconds([sys.executable, "-c", "import typer, rich.table"], env)
        version = _median_seconds([review, "--version"], env)
        status = _median_seconds([review, "cycle", "status", run.cycle], env)

    ratio = version / bare
    print(f"start-up, median of {RUNS} runs ({sys.executable})")
    print(f"import typer, rich.table    {bare:6.3f} s")
    print(
        f"review --version            {version:6.3f} s  {ratio:4.2f}x the bare import "
        f"(target <= {VERSION_TARGET:g}x: {_verdict(ratio <= VERSION_TARGET)})"
    )
    print(
        f"review cycle status         {status:6.3f} s  demo cluster, {run.cycle} "
        f"(target <= {STATUS_TARGET_S:g} s: {_verdict(status <= STATUS_TARGET_S)})"
    )


if __name__ == "__main__":
    main()
