"""`review tick`, `review cycle plan`, `review outbox list` and `review scheduler status` as a
facilitator sees them at the terminal."""

from __future__ import annotations

import getpass
import json

import pytest

from tests.cli.conftest import Invoke
from tests.conftest import SAMPLES

CYCLE = "Northbrook/2026-27"
HEAD = "head@northbrook.example"


@pytest.fixture
def planned(initialised: Invoke) -> Invoke:
    """A cycle for four sample schools, planned on the Sample LA term dates."""
    for args in (
        ("--as", "operator", "schools", "import", str(SAMPLES / "gias-sample.csv")),
        (
            "--as",
            "operator",
            "people",
            "add",
            "facilitator@example.org",
            "--name",
            "Fran",
            "--role",
            "facilitator",
        ),
        (
            "--as",
            "operator",
            "people",
            "add",
            HEAD,
            "--name",
            "Aisha Rahman",
            "--role",
            "head",
            "--school",
            "990101",
        ),
        (
            "--as",
            "operator",
            "cluster",
            "create",
            "Northbrook",
            "--facilitator",
            "facilitator@example.org",
        ),
        ("cluster", "add", "Northbrook", "990101", "990102", "990103", "990104"),
        (
            "--as",
            "operator",
            "calendar",
            "import",
            "Sample LA",
            str(SAMPLES / "term-dates-2026-27.csv"),
        ),
        ("--as", "operator", "calendar", "assign", "Sample LA", "--la", "352"),
        ("cycle", "start", "--cluster", "Northbrook", "--year", "2026-27"),
    ):
        result = initialised(*args)
        assert result.exit_code == 0, (args, result.output, result.stderr)
    return initialised


def _state(review: Invoke) -> str:
    status = json.loads(review("cycle", "status", CYCLE, "--json").stdout)
    return str(status["state"])


def test_dry_run_prints_what_it_would_do_and_changes_nothing(planned: Invoke) -> None:
    result = planned("--as", "operator", "tick", "--now", "2026-10-27", "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"would: {CYCLE}: planned -> self_review (open_self_review, due 03 Sep 2026)",
        f"would: {CYCLE}: self_review -> peer_review (open_peer_review, due 26 Oct 2026)",
    ]
    assert f"would: {CYCLE}: school 990101 self_review overdue (due 16 Oct 2026)" in lines
    assert lines[-1] == (
        "would apply 2 boundaries, marked 4 items overdue, queued 1 reminders (1 open cycles)"
    )
    assert _state(planned) == "planned"
    assert "Outbox" in planned("outbox", "list").stdout
    assert json.loads(planned("outbox", "list", "--json").stdout) == []


def test_tick_applies_passed_boundaries_once(planned: Invoke) -> None:
    first = planned("--as", "operator", "tick", "--now", "2026-10-27")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[-1] == (
        "applied 2 boundaries, marked 4 items overdue, queued 1 reminders (1 open cycles)"
    )
    assert _state(planned) == "peer_review"
    again = planned("--as", "operator", "tick", "--now", "2026-10-27T18:00")
    assert again.stdout.splitlines() == [
        "applied 0 boundaries, marked 0 items overdue, queued 0 reminders (1 open cycles)"
    ]
    history = json.loads(planned("history", CYCLE, "--json").stdout)
    moves = [(h["trigger"], h["actor"]) for h in history if h["machine"] == "cycle"]
    operator = f"operator ({getpass.getuser()})"  # history names who ran the tick
    assert moves == [
        ("start", "facilitator@example.org"),
        ("open_self_review", operator),
        ("open_peer_review", operator),
    ]


def test_now_without_a_zone_is_london_time(planned: Invoke) -> None:
    # 00:30 on 3 September in London is 23:30 on 2 September in UTC.
    assert (
        "applied 0 boundaries"
        in planned("--as", "operator", "tick", "--now", "2026-09-02T23:59").stdout
    )
    assert (
        "applied 1 boundaries"
        in planned("--as", "operator", "tick", "--now", "2026-09-03T00:30").stdout
    )
    assert _state(planned) == "self_review"
    utc = planned("--as", "operator", "tick", "--now", "2026-10-25T23:30+00:00", "--json")
    assert json.loads(utc.stdout)["boundaries"] == 0  # still 25 October in London


def test_cycle_plan_shows_the_dated_steps(planned: Invoke) -> None:
    planned("--as", "operator", "tick", "--now", "2026-09-03T07:00")
    result = planned("cycle", "plan", CYCLE)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == f"{CYCLE} on the Sample LA 2026-27 calendar"
    for expected in (
        "Thu 03 Sep 2026",
        "Fri 16 Oct 2026",
        "Mon 26 Oct 2026",
        "Mon 22 Feb 2027",
        "Mon 12 Apr 2027",
        "Thu 22 Jul 2027",
        "open_self_review",
        "open_peer_review",
        "03 Sep 2026 07:00",  # when it was applied, London time
    ):
        assert expected in out, expected
    steps = json.loads(planned("cycle", "plan", CYCLE, "--json").stdout)["steps"]
    assert [(s["what"], s["due_on"]) for s in steps] == [
        ("open_self_review", "2026-09-03"),
        ("self_review", "2026-10-16"),
        ("open_peer_review", "2026-10-26"),
        ("open_write_up", "2027-02-22"),
        ("open_support", "2027-04-12"),
        ("close", "2027-07-22"),
    ]
    assert [s["applied_at"] is not None for s in steps] == [True] + [False] * 5


def test_outbox_list_shows_queued_reminders(planned: Invoke) -> None:
    planned("--as", "operator", "tick", "--now", "2026-10-15T06:00")
    listed = planned("outbox", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "head@northbrook.example" in listed.stdout
    assert "queued" in listed.stdout
    rows = json.loads(planned("outbox", "list", "--pending", "--json").stdout)
    assert [(r["recipient"], r["subject"], r["status"]) for r in rows] == [
        (
            "head@northbrook.example",
            "Reminder: your self-evaluation (SEF) is due 16 Oct 2026 (Northbrook 2026-27)",
            "queued",
        )
    ]


def test_scheduler_status_before_any_run_says_never(initialised: Invoke) -> None:
    result = initialised("scheduler", "status")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "last tick: never"
    assert "the scheduler has never run" in result.stdout


@pytest.mark.parametrize(
    "now", ["yesterday", "2027-13-01", "04/01/2027"], ids=["word", "bad-month", "uk-order"]
)
def test_a_bad_now_is_a_one_line_error(initialised: Invoke, now: str) -> None:
    result = initialised("--as", "operator", "tick", "--now", now)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: --now {now!r} should look like 2027-01-04 or 2027-01-04T06:00"
    ]
    assert result.stdout == ""


def test_outbox_list_says_when_a_failed_message_is_tried_again_and_why_one_was_dropped(
    planned: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    planned("--as", "operator", "tick", "--now", "2026-10-15T07:00")  # due tomorrow
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("REVIEW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REVIEW_SMTP_PORT", str(port))
    monkeypatch.setenv("REVIEW_NOW", "2026-10-15T07:00")
    sent = planned("--as", "operator", "outbox", "send")
    assert sent.exit_code == 1
    assert sent.stdout == "sent 0, failed 1, dropped 0\n"
    [row] = json.loads(planned("outbox", "list", "--json").stdout)
    assert row["status"].startswith("retrying (could not connect to 127.0.0.1:")
    assert row["next_attempt_at"].startswith("2026-10-15T06:05")  # 07:05 London
    listed = planned("--wide", "outbox", "list").stdout
    assert "next try" in listed.splitlines()[1]
    assert "15 Oct 2026 07:05" in listed  # the next try, London time

    retried = planned("--as", "operator", "outbox", "retry")
    assert retried.stdout == (
        "1 failed messages queued again; the scheduler sends them within 5 minutes, "
        "or send them now with `review outbox send`\n"
    )
    [row] = json.loads(planned("outbox", "list", "--json").stdout)
    assert row["next_attempt_at"] is None

    # Not sent until after the due date: dropped, and the list says why.
    monkeypatch.setenv("REVIEW_NOW", "2026-10-17T07:00")
    late = planned("--as", "operator", "outbox", "send")
    assert (late.exit_code, late.stdout) == (0, "sent 0, failed 0, dropped 1 (no longer needed)\n")
    [row] = json.loads(planned("outbox", "list", "--json").stdout)
    assert row["status"] == "dropped"
    assert row["error"] == (
        "dropped: its moment had passed (due 16 Oct 2026): the overdue reminder follows"
    )
    assert "the overdue reminder follows" in planned("--wide", "outbox", "list").stdout
