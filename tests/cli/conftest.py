"""CLI fixtures: a CliRunner with REVIEW_* pointing at a fresh SQLite database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from review_engine.cli.main import app

Invoke = Callable[..., Result]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "REVIEW_DATA_DIR": str(tmp_path / "data"),
        "REVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
        "REVIEW_ACTOR": "facilitator@example.org",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def review(cli_env: dict[str, str]) -> Invoke:
    """Run `review ARGS...` in-process; returns the Result (stdout, stderr, exit_code)."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return invoke


@pytest.fixture
def initialised(review: Invoke) -> Invoke:
    assert review("init", "--rehearsal").exit_code == 0  # tests move time with --now
    return review
