"""`review serve`: what it refuses before it starts (the app itself: tests/http, tests/web)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke


def test_several_workers_need_postgresql(initialised: Invoke) -> None:
    refused = initialised("serve", "--workers", "2")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: several workers share sessions")
    assert "use PostgreSQL" in refused.stderr


def test_a_missing_database_file_is_named(review: Invoke, tmp_path: Path) -> None:
    refused = review("serve", "--database", str(tmp_path / "nope.sqlite"))
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"error: no database at {tmp_path / 'nope.sqlite'}; run `review init` or `make demo`"
    )


def test_an_uninitialised_database_says_what_to_run(review: Invoke) -> None:
    refused = review("serve")
    assert refused.exit_code == 1
    assert "review init" in refused.stderr and refused.stderr.count("\n") == 1


REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(REVIEW is None, reason="the review console script is not installed")
def test_the_scheduler_runs_beside_the_web_app(tmp_path: Path) -> None:
    assert REVIEW is not None
    env = {**os.environ, "REVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}"}
    env.pop("REVIEW_ACTOR", None)
    subprocess.run([REVIEW, "init"], env=env, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [REVIEW, "serve", "--port", str(port), "--scheduler"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        status = ""
        for _ in range(100):
            status = subprocess.run(
                [REVIEW, "scheduler", "status"], env=env, capture_output=True, text=True
            ).stdout
            if "last tick" in status.lower() and "never" not in status.lower():
                break
            time.sleep(0.2)
        assert "pid" in status, status  # the heartbeat names the process that leads
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
    assert "The scheduler runs beside it" in (tmp_path / "serve.log").read_text()
