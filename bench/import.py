"""Benchmark: import a generated 50,000-row GIAS extract (about 140 columns).

Prints rows per second for reading alone and for the whole `review schools import` service
(read, validate, upsert) on SQLite, then on PostgreSQL when REVIEW_BENCH_POSTGRES_URL (or
REVIEW_TEST_POSTGRES_URL) is set, and the time of a second, unchanged import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from review_engine.config import Settings, normalise_url
from review_engine.core.gias import read_gias
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin, schools

ROWS = int(os.environ.get("BENCH_ROWS", "50000"))


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "gias_data", Path(__file__).with_name("gias_data.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import(url: str, path: Path, folder: Path) -> tuple[float, float, str]:
    settings = Settings(database_url=url, data_dir=folder)
    admin.init_database(settings)
    rt = Runtime.open(settings, actor="bench")
    start = time.perf_counter()
    first = schools.import_gias(rt.acting_as(OPERATOR), path=path, skip_invalid=True)
    mid = time.perf_counter()
    schools.import_gias(rt.acting_as(OPERATOR), path=path, skip_invalid=True)
    end = time.perf_counter()
    rt.db.engine.dispose()
    return mid - start, end - mid, f"{first.added:,} added, {first.rejected} rejected"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "edubasealldata.csv"
        start = time.perf_counter()
        _generator().write_gias_csv(path, rows=ROWS, seed=1)
        print(
            f"generated {ROWS:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - start:.1f} s"
        )
        start = time.perf_counter()
        result = read_gias(path)
        read_s = time.perf_counter() - start
        print(
            f"read only:            {read_s:6.2f} s  {ROWS / read_s:9,.0f} rows/s "
            f"({len(result.records):,} records, {len(result.errors)} row errors)"
        )
        first, again, what = _import(f"sqlite:///{folder / 'bench.sqlite'}", path, folder)
        print(
            f"import, SQLite:       {first:6.2f} s  {ROWS / first:9,.0f} rows/s ({what}); "
            f"unchanged re-import {again:.2f} s"
        )
        pg = os.environ.get("REVIEW_BENCH_POSTGRES_URL") or os.environ.get(
            "REVIEW_TEST_POSTGRES_URL"
        )
        if not pg:
            print("import, PostgreSQL:   skipped (set REVIEW_BENCH_POSTGRES_URL)")
            return
        schema = f"bench_{os.getpid()}"
        engine = create_engine(normalise_url(pg))
        try:
            with engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = (
                normalise_url(pg)
                + ("&" if "?" in pg else "?")
                + (f"options=-csearch_path%3D{schema}")
            )
            first, again, what = _import(url, path, folder)
            print(
                f"import, PostgreSQL:   {first:6.2f} s  {ROWS / first:9,.0f} rows/s ({what}); "
                f"unchanged re-import {again:.2f} s"
            )
        except Exception as exc:
            print(
                f"import, PostgreSQL:   skipped ({exc.__class__.__name__}: {exc})", file=sys.stderr
            )
        finally:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            engine.dispose()


if __name__ == "__main__":
    main()
