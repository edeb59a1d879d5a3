"""`review cycle start`: refused for a year no term calendar covers (one line saying what to
import), warns about member schools that follow no calendar, and about a plan whose dates have
passed; `--from-current-phase` starts at the phase the calendar says it is now."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Invoke
from tests.conftest import SAMPLES

CYCLE = "Northbrook/2026-27"
START = ("cycle", "start", "--cluster", "Northbrook", "--year", "2026-27")


@pytest.fixture
def cluster(initialised: Invoke) -> Invoke:
    """Northbrook with two schools of LA 352 and one of LA 356 (Moss Lane)."""
    for args in (
        ("--as", "operator", "schools", "import", str(SAMPLES / "gias-sample.csv")),
        ("--as", "operator", "people", "add", "facilitator@example.org", "--name", "Fran",
         "--role", "facilitator"),
        ("--as", "operator", "cluster", "create", "Northbrook", "--facilitator",
         "facilitator@example.org"),
        ("cluster", "add", "Northbrook", "990101", "990102", "990104"),
    ):  # fmt: skip
        result = initialised(*args)
        assert result.exit_code == 0, (args, result.output, result.stderr)
    return initialised


def with_calendar(review: Invoke, *las: str) -> None:
    path = str(SAMPLES / "term-dates-2026-27.csv")
    assert review("--as", "operator", "calendar", "import", "Sample LA", path).exit_code == 0
    for la in las:
        assert (
            review("--as", "operator", "calendar", "assign", "Sample LA", "--la", la).exit_code == 0
        )


def _state(review: Invoke) -> str:
    return str(json.loads(review("cycle", "status", CYCLE, "--json").stdout)["state"])


def test_a_year_without_a_calendar_is_refused_in_one_line(cluster: Invoke) -> None:
    result = cluster(*START)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no term calendar covers the schools of Northbrook for 2026-27" in lines[0]
    assert "review calendar import NAME FILE" in lines[0]
    assert "cycle" not in json.dumps(json.loads(cluster("cycle", "list", "--json").stdout))


def test_a_school_following_no_calendar_is_named(cluster: Invoke) -> None:
    with_calendar(cluster, "352")
    result = cluster(*START)
    assert result.exit_code == 0, result.stderr
    assert "warning: 1 member school(s) follow no imported term calendar" in result.stdout
    assert "Moss Lane Primary Academy (990104)" in result.stdout
    assert "started cycle Northbrook/2026-27" in result.stdout


def test_a_mid_year_start_warns_and_may_start_at_the_current_phase(
    cluster: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_calendar(cluster, "352", "356")
    monkeypatch.setenv("REVIEW_NOW", "2026-11-20")  # Autumn 2: self-review due 16 Oct
    started = cluster(*START, "--from-current-phase")
    assert started.exit_code == 0, started.stderr
    assert "warning" not in started.stdout
    assert "state peer_review" in started.stdout
    assert "moved the self-review deadline from Fri 16 Oct 2026" in started.stdout
    assert _state(cluster) == "peer_review"
    ticked = cluster("--as", "operator", "tick")
    assert ticked.exit_code == 0, ticked.stderr
    assert "marked 0 items overdue" in ticked.stdout
    assert _state(cluster) == "peer_review"


def test_a_mid_year_start_from_the_beginning_says_what_the_tick_will_do(
    cluster: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_calendar(cluster, "352", "356")
    monkeypatch.setenv("REVIEW_NOW", "2026-11-20")
    started = cluster(*START)
    assert started.exit_code == 0, started.stderr
    assert "warning: the plan's dates have already passed for: self review" in started.stdout
    assert "marks that work of every school overdue (self-review was due 16 Oct 2026)" in (
        started.stdout
    )
    assert "--from-current-phase" in started.stdout
    assert _state(cluster) == "planned"
