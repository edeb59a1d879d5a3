"""`review serve`: what it refuses before it starts (the app itself: tests/http, tests/web)."""

from __future__ import annotations

from pathlib import Path

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
