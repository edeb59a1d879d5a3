"""A GIAS import killed with SIGKILL half-way leaves the database as it was, and usable: the
import is one transaction, so nothing of it is written until it commits."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gias_data.py"
REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))


def _write_extract(path: Path, rows: int) -> None:
    spec = importlib.util.spec_from_file_location("gias_data", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_gias_csv(path, rows=rows)


def _schools(database: Path) -> int:
    with closing(sqlite3.connect(database)) as conn:
        return int(conn.execute("SELECT count(*) FROM school").fetchone()[0])


@pytest.mark.skipif(REVIEW is None, reason="the review command is not installed in this venv")
def test_an_import_killed_half_way_writes_nothing_and_the_database_works(tmp_path: Path) -> None:
    assert REVIEW is not None
    database = tmp_path / "review.sqlite"
    env = {
        **os.environ,
        "REVIEW_DATABASE_URL": f"sqlite:///{database}",
        "REVIEW_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("REVIEW_ACTOR", None)  # the operator
    subprocess.run([REVIEW, "init"], env=env, check=True, capture_output=True)
    extract = tmp_path / "edubasealldata.csv"
    _write_extract(extract, rows=30_000)
    proc = subprocess.Popen(
        [REVIEW, "schools", "import", str(extract)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill it once it holds the write lock (it is writing), or after a while at the latest.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        if (tmp_path / "review.sqlite-wal").exists() and (
            tmp_path / "review.sqlite-wal"
        ).stat().st_size > 64 * 1024:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the import finished before it could be killed (a very fast machine)")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    assert _schools(database) == 0  # nothing of the killed import
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = subprocess.run(
        [REVIEW, "schools", "import", str(extract)], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "30000 added" in again.stdout.replace(",", "")
    assert _schools(database) == 30_000
