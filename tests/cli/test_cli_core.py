"""What a facilitator sees at the terminal: outputs, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from review_engine.store import db as dbmod
from tests.cli.conftest import Invoke
from tests.conftest import SAMPLES

SAMPLE = str(SAMPLES / "gias-sample.csv")
HEAD = dbmod.head_revision(dbmod.make_engine("sqlite://"))


def _set_up_cluster(review: Invoke) -> None:
    for args in (
        ("--as", "operator", "schools", "import", SAMPLE),
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
        ("--as", "operator", "calendar", "assign", "Sample LA", "--la", "356"),
        ("cycle", "start", "--cluster", "Northbrook", "--year", "2026-27"),
    ):
        result = review(*args)
        assert result.exit_code == 0, (args, result.output, result.stderr)


def test_init_twice_says_up_to_date(review: Invoke) -> None:
    first = review("init")
    assert first.exit_code == 0
    assert "schema empty -> " in first.stdout
    assert "is up to date" in review("init").stdout


def test_commands_before_init_say_how_to_fix(review: Invoke) -> None:
    result = review("cluster", "list")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: database schema is empty, this version needs {HEAD}; run `review init` to upgrade"
    ]


def test_import_reports_counts_and_reimport_is_unchanged(initialised: Invoke) -> None:
    assert (
        "9 added, 0 updated, 0 unchanged, 0 rejected"
        in initialised("--as", "operator", "schools", "import", SAMPLE).stdout
    )
    again = initialised("--as", "operator", "schools", "import", SAMPLE, "--dry-run")
    assert "would import gias-sample.csv: 0 added, 0 updated, 9 unchanged" in again.stdout


def test_bad_import_is_one_line_naming_the_line(initialised: Invoke, tmp_path: Path) -> None:
    lines = (
        (SAMPLES / "gias-sample.csv")
        .read_bytes()
        .split(b"\r\n" if b"\r\n" in (SAMPLES / "gias-sample.csv").read_bytes() else b"\n")
    )
    bad = tmp_path / "bad.csv"
    broken = lines[3].replace(b"990103", b"99O103", 1)
    bad.write_bytes(b"\n".join([*lines[:3], broken, *lines[4:]]))
    result = initialised("--as", "operator", "schools", "import", str(bad))
    assert result.exit_code == 1
    err = result.stderr.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: bad.csv: import rejected, nothing written: line 4:")
    assert "99O103" in err[0]
    assert "0 added" not in result.stdout
    listed = json.loads(initialised("schools", "list", "--json").stdout)
    assert listed == []
    skipped = initialised("--as", "operator", "schools", "import", str(bad), "--skip-invalid")
    assert "8 added, 0 updated, 0 unchanged, 1 rejected" in skipped.stdout


def test_status_table_and_json(initialised: Invoke) -> None:
    _set_up_cluster(initialised)
    table = initialised("--wide", "cycle", "status", "--cluster", "Northbrook")  # no wrapping
    assert table.exit_code == 0
    assert "Northbrook/2026-27" in table.stdout and "phase: Not started yet" in table.stdout
    assert "St Aidan’s Church of England Primary School" in table.stdout
    assert "Not started" in table.stdout and "Waiting for the triad" in table.stdout
    assert "not_started" not in table.stdout  # states in words; --json keeps the names
    data = json.loads(initialised("cycle", "status", "Northbrook/2026-27", "--json").stdout)
    assert data["state"] == "planned"
    assert {s["urn"] for s in data["schools"]} == {990101, 990102, 990103, 990104}


def test_trigger_and_history(initialised: Invoke) -> None:
    _set_up_cluster(initialised)
    moved = initialised("trigger", "Northbrook/2026-27", "open_self_review")
    assert moved.stdout.strip() == "Northbrook/2026-27 cycle: planned -> self_review"
    initialised(
        "trigger", "Northbrook/2026-27", "start", "--machine", "self_review", "--school", "990101"
    )
    rows = json.loads(initialised("history", "Northbrook/2026-27", "--json").stdout)
    assert [(r["machine"], r["to_state"], r["actor"]) for r in rows] == [
        ("cycle", "planned", "facilitator@example.org"),
        ("cycle", "self_review", "facilitator@example.org"),
        ("self_review", "drafting", "facilitator@example.org"),
    ]
    shown = initialised("history", "Northbrook/2026-27", "--school", "990101")
    assert "Self review: Started (Not started -> Being drafted)" in shown.stdout


def test_trigger_in_the_wrong_state_is_one_line(initialised: Invoke) -> None:
    _set_up_cluster(initialised)
    result = initialised("trigger", "Northbrook/2026-27", "close")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: Northbrook/2026-27: cannot close the cycle while the cycle is planned; run "
        "`review trigger Northbrook/2026-27 open_self_review` (open self-review) first"
    )
    assert "Traceback" not in result.output


def test_closed_school_is_refused_with_the_reason(initialised: Invoke) -> None:
    _set_up_cluster(initialised)
    result = initialised("cluster", "add", "Northbrook", "990109")
    assert result.exit_code == 1
    assert "closed on 31-08-2024; closed schools cannot join" in result.stderr


def test_usage_errors_exit_2(initialised: Invoke) -> None:
    assert initialised("cycle", "start", "--cluster", "X").exit_code == 2
    assert initialised("no-such-command").exit_code == 2


def test_workflows_commands(review: Invoke, tmp_path: Path) -> None:
    listed = review("workflows", "list")
    assert "triad-peer-review" in listed.stdout
    mermaid = review("workflows", "show", "triad-peer-review", "--mermaid").stdout
    assert mermaid.startswith("%% cycle (cycle)\nstateDiagram-v2")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: b\nversion: 1\nmachines:\n  cycle:\n    scope: cycle\n    initial: a\n"
        "    final: [c]\n    states: [a, b, c]\n    transitions:\n"
        "      - {trigger: go, source: a, dest: b}\n",
        encoding="utf-8",
    )
    result = review("workflows", "check", str(broken))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: workflow b machine cycle: states unreachable from the initial state: c"
    )


def test_people_and_clusters_lists(initialised: Invoke) -> None:
    _set_up_cluster(initialised)
    clusters = json.loads(initialised("cluster", "list", "--json").stdout)
    assert clusters == [
        {
            "name": "Northbrook",
            "facilitator": "facilitator@example.org",
            "members": 4,
            "cycles": 1,
            "archived": False,
        }
    ]
    people = json.loads(initialised("people", "list", "--json").stdout)
    assert people[0]["role"] == "facilitator"
    head = initialised(
        "--as", "operator", "people", "add", "h@x.org", "--name", "H", "--role", "head"
    )
    assert head.exit_code == 1
    assert head.stderr.strip() == "error: a head needs a school (--school URN)"
