"""Rehearsing a year: `review --now DATETIME` (or REVIEW_NOW) runs any command as if it were
then. A rehearsal database takes the changes at the pretend time; any other database refuses
a change in one line and keeps nothing, while commands that only read still answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.testing

from tests.cli.conftest import Invoke
from tests.cli.test_cli_bad_input import snapshot
from tests.cli.test_cli_phases import CYCLE, HEADS, HOST, _command, ok, set_up_cluster


@pytest.fixture(autouse=True)
def built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _command())


def _real_database(review: Invoke) -> Invoke:
    """A database not made for rehearsal, with the cluster's cycle started."""
    assert review("init").exit_code == 0
    set_up_cluster(review, calendar=True)
    return review


def test_now_on_a_rehearsal_database_writes_at_the_pretend_time(initialised: Invoke) -> None:
    set_up_cluster(initialised, calendar=True)
    moved = ok(initialised, "--now", "2026-09-03T07:30", "trigger", CYCLE, "open_self_review")
    assert "planned -> self_review" in moved
    history = ok(initialised, "--wide", "history", CYCLE)
    row = next(line for line in history.splitlines() if "open_self_review" in line)
    assert row.startswith("03 Sep 2026 07:30")  # London time, as typed


def test_review_now_in_the_environment_is_the_same(
    initialised: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_cluster(initialised, calendar=True)
    monkeypatch.setenv("REVIEW_NOW", "2026-09-04")
    ok(initialised, "trigger", CYCLE, "open_self_review")
    history = ok(initialised, "--wide", "history", CYCLE)
    row = next(line for line in history.splitlines() if "open_self_review" in line)
    assert row.startswith("04 Sep 2026 00:00")


def test_now_on_a_real_database_reads_but_refuses_any_change(
    review: Invoke, cli_env: dict[str, str]
) -> None:
    _real_database(review)
    status = ok(review, "--now", "2027-01-04", "cycle", "status", CYCLE)
    assert "phase: Not started yet" in status
    before = snapshot(cli_env)
    result = review("--now", "2027-01-04T09:00", "trigger", CYCLE, "open_self_review")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: a command run with --now may not change this database as of 04 Jan 2027 "
        "09:00: only a rehearsal database (review init --rehearsal) may pretend another "
        "time; nothing was written (run it without --now)"
    ]
    assert snapshot(cli_env) == before
    dry = ok(review, "--as", "operator", "--now", "2027-01-04", "tick", "--dry-run")
    assert "would apply" in dry  # a dry run changes nothing, so it may pretend
    assert snapshot(cli_env) == before


@pytest.mark.parametrize(
    "value", ["next tuesday", "2027-02-30", "1900-01-01"], ids=["words", "no-such-day", "1900"]
)
def test_a_bad_now_is_one_line(review: Invoke, value: str) -> None:
    result = review("--now", value, "cycle", "list")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: --now ")


def test_a_head_walks_to_a_visit_day_ahead_of_time(initialised: Invoke, tmp_path: Path) -> None:
    """The visit can only be recorded as held on or after its day: --now gets there."""
    set_up_cluster(initialised, calendar=True)
    ok(initialised, "--now", "2026-09-03", "trigger", CYCLE, "open_self_review")
    ok(initialised, "--now", "2026-10-26", "trigger", CYCLE, "open_peer_review")
    ok(initialised, "triads", "propose", CYCLE, "--visitors", "2")
    head = ("--as", HEADS[HOST])
    ok(initialised, *head, "--now", "2026-11-02", "visit", "focus", CYCLE, "--school", HOST,
       "--focus", "learning_walk", "--question", "To what extent?")  # fmt: skip
    ok(initialised, *head, "--now", "2026-11-02", "visit", "schedule", CYCLE, "--school", HOST,
       "--date", "2027-01-12")  # fmt: skip
    early = initialised(*head, "--now", "2026-11-30", "visit", "complete", CYCLE, "--school", HOST)
    assert early.exit_code == 1
    held = ok(initialised, *head, "--now", "2027-01-12T15:00", "visit", "complete", CYCLE,
              "--school", HOST)  # fmt: skip
    assert "visit: visited" in held
