"""The work of each phase at the terminal: `review sef`, `visit`, `writeup`, `actions`,
`practice` and `feedback`, acting as the people who would type them (`--as EMAIL`)."""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.core import TyperGroup

from review_engine.cli.main import app
from tests.cli.conftest import Invoke
from tests.conftest import FACILITATOR, SAMPLES

CYCLE = "Northbrook/2026-27"
URNS = ["990101", "990102", "990103", "990104"]
HEADS = {
    "990101": "head@northbrook.example",
    "990102": "head@st-aidans.example",
    "990103": "principal@hollinsgate.example",
    "990104": "head@mosslane.example",
}
HOST = "990101"
# A past school day: the CLI runs on the real clock, and a visit is recorded on or after it.
VISIT_DAY = "2026-11-17"


def ok(review: Invoke, *args: str) -> str:
    result = review(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def as_(review: Invoke, urn: str, *args: str) -> str:
    return ok(review, "--as", HEADS[urn], *args)


@cache
def _command() -> typer.core.TyperCommand | TyperGroup:
    return typer.main.get_command(app)  # type: ignore[return-value]


@pytest.fixture
def built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner rebuilds the click command from the Typer app on every call (about 0.3 s,
    most of each call here); these tests invoke it 50 times, so build it once."""
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _command())


def set_up_cluster(review: Invoke, *, workflow: str | None = None, calendar: bool = True) -> str:
    """As the operator: the sample schools, the facilitator, four heads and cluster
    Northbrook; as the facilitator: its members and a 2026-27 cycle (on `workflow`, and the
    Sample LA term dates first if `calendar`: a cycle starts only for a year a calendar
    covers). Returns the cycle."""
    operator = (review, "--as", "operator")
    ok(*operator, "schools", "import", str(SAMPLES / "gias-sample.csv"))
    ok(*operator, "people", "add", FACILITATOR, "--name", "Fran", "--role", "facilitator")
    for urn, email in HEADS.items():
        ok(*operator, "people", "add", email, "--name", f"Head {urn}", "--role", "head",
           "--school", urn)  # fmt: skip
    ok(*operator, "cluster", "create", "Northbrook", "--facilitator", FACILITATOR,
       "--framework", "eif2019")  # fmt: skip
    ok(review, "cluster", "add", "Northbrook", *URNS)
    if calendar:
        ok(*operator, "calendar", "import", "Sample LA", str(SAMPLES / "term-dates-2026-27.csv"))
        ok(*operator, "calendar", "assign", "Sample LA", "--la", "352")
    chosen = ("--workflow", workflow) if workflow else ()
    ok(review, "cycle", "start", "--cluster", "Northbrook", "--year", "2026-27", *chosen)
    return CYCLE


@pytest.fixture
def cluster(built_once: None, initialised: Invoke) -> Invoke:
    """Four sample schools, their heads, a cycle with self-review open."""
    set_up_cluster(initialised)
    ok(initialised, "trigger", CYCLE, "open_self_review")
    return initialised


def test_sef_template_submit_show_and_a_refusal(cluster: Invoke, tmp_path: Path) -> None:
    blank = as_(cluster, HOST, "sef", "template", CYCLE, "--school", HOST)
    assert blank.startswith("# Self-evaluation: Northbrook Primary School (URN 990101)\n")
    out = tmp_path / "sef.yaml"
    wrote = as_(cluster, HOST, "sef", "template", CYCLE, "--school", HOST, "--format", "yaml",
                "--out", str(out))  # fmt: skip
    assert "wrote" in wrote and out.read_text(encoding="utf-8").startswith("# Self-evaluation")

    bad = tmp_path / "bad.md"
    bad.write_text(
        (SAMPLES / "sef-primary.md")
        .read_text(encoding="utf-8")
        .replace("Grade: Good", "Grade: 5", 1),
        encoding="utf-8",
    )
    refused = cluster("--as", HEADS[HOST], "sef", "submit", CYCLE, "--school", HOST, str(bad))
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: bad.md: self-evaluation refused, nothing written: line 9: Quality of education: "
        "grade '5' is not on the scale (Outstanding, Good, Requires improvement, Inadequate); "
        "fix the file and submit it again"
    ]

    good = tmp_path / "sef.md"
    shutil.copy(SAMPLES / "sef-primary.md", good)
    submitted = as_(cluster, HOST, "sef", "submit", CYCLE, "--school", HOST, str(good))
    assert submitted.strip() == (
        "submitted version 1 of the self-evaluation of Northbrook Primary School; "
        "self-review is submitted"
    )
    shown = as_(cluster, HOST, "sef", "show", CYCLE, "--school", HOST)
    assert "Northbrook Primary School (990101) SEF v1 of 1, eif2019, submitted" in shown
    assert "Quality of education" in shown
    data = json.loads(ok(cluster, "sef", "show", CYCLE, "--school", HOST, "--json"))
    assert (data["version"], data["submitted_by"]) == (1, HEADS[HOST])
    assert [a["key"] for a in data["areas"]][:2] == [
        "quality_of_education",
        "behaviour_and_attitudes",
    ]

    other = cluster("--as", HEADS["990102"], "sef", "show", CYCLE, "--school", HOST)
    assert other.exit_code == 1
    assert other.stdout == ""
    assert other.stderr.splitlines() == [
        "error: head@st-aidans.example may not see the self-evaluation of school 990101: "
        "it is confidential to the school, its reviewers and the facilitator"
    ]


def test_visit_writeup_actions_practice_and_feedback(cluster: Invoke, tmp_path: Path) -> None:
    ok(cluster, "triads", "propose", CYCLE, "--visitors", "2")
    row = next(r for r in json.loads(ok(cluster, "triads", "show", CYCLE, "--json"))
               if r["host"] == int(HOST))  # fmt: skip
    lead = str(row["lead"])
    co = next(str(v) for v in row["visitors"] if v != row["lead"])
    outsider = next(u for u in URNS if u not in (HOST, lead, co))

    question = "To what extent do pupils catch up quickly?"
    focus = as_(cluster, HOST, "visit", "focus", CYCLE, "--school", HOST, "--focus",
                "learning_walk", "--question", question)  # fmt: skip
    assert "Northbrook Primary School (990101) visit: focus_agreed" in focus
    weekend = cluster("--as", HEADS[HOST], "visit", "schedule", CYCLE, "--school", HOST,
                      "--date", "2026-11-21")  # fmt: skip
    assert (weekend.exit_code, weekend.stderr) == (
        1,
        "error: Saturday 21 November 2026 is a weekend\n",
    )
    dated = as_(cluster, HOST, "visit", "schedule", CYCLE, "--school", HOST, "--date", VISIT_DAY)
    assert "visit: scheduled" in dated and "date: Tue 17 Nov 2026 morning" in dated
    assert "visit: visited" in as_(cluster, HOST, "visit", "complete", CYCLE, "--school", HOST)

    draft = tmp_path / "writeup.yaml"
    shutil.copy(SAMPLES / "writeup-sample.yaml", draft)
    drafted = as_(cluster, lead, "writeup", "draft", CYCLE, "--school", HOST, str(draft))
    assert "WWW/EBI: Northbrook Primary School (990101), drafted, v1" in drafted
    assert "reviewers_agreed" in as_(cluster, co, "writeup", "agree", CYCLE, "--school", HOST)
    assert "host_agreed" in as_(cluster, HOST, "writeup", "agree", CYCLE, "--school", HOST)
    hidden = cluster("--as", HEADS[outsider], "writeup", "show", CYCLE, "--school", HOST)
    assert hidden.exit_code == 1 and len(hidden.stderr.splitlines()) == 1
    assert hidden.stderr.startswith(f"error: {HEADS[outsider]} may not see the write-up")
    published = as_(cluster, HOST, "writeup", "publish", CYCLE, "--school", HOST, "--share",
                    "cluster")  # fmt: skip
    assert "published, v1" in published and "shared with: cluster" in published
    shown = as_(cluster, outsider, "writeup", "show", CYCLE, "--school", HOST)
    assert "Even better if" in shown and "Daily keep-up sessions" in shown

    directory = json.loads(as_(cluster, outsider, "practice", "list", "--json"))
    assert [(e["urn"], e["area"], e["academic_year"]) for e in directory] == [
        (990101, "quality_of_education", "2026-27")
    ]

    added = as_(cluster, HOST, "actions", "add", CYCLE, "--school", HOST, "--ebi", "1",
                "--title", "Keep-up sessions in KS1", "--owner", "English lead",
                "--criteria", "Seen in every class", "--due", "2027-01-29",
                "--supporting", outsider)  # fmt: skip
    assert "action #1 for Northbrook Primary School: Keep-up sessions in KS1 (amber)" in added
    listed = json.loads(ok(cluster, "actions", "list", CYCLE, "--json"))
    assert [(a["number"], a["rag"], a["supporting_urn"]) for a in listed] == [
        (1, "amber", int(outsider))
    ]
    assert json.loads(as_(cluster, co, "actions", "list", CYCLE, "--json")) == []

    given = as_(cluster, lead, "feedback", "give", CYCLE, "--school", HOST, "--usefulness", "5",
                "--comment", "Sharp questions")  # fmt: skip
    assert "immediate feedback from" in given and "on the visit to Northbrook Primary" in given
    twice = cluster("--as", HEADS[lead], "feedback", "give", CYCLE, "--school", HOST,
                    "--usefulness", "4")  # fmt: skip
    assert twice.exit_code == 1
    assert twice.stderr == (
        f"error: immediate feedback from {lead} on the visit to {HOST} already exists\n"
    )
    rows = json.loads(as_(cluster, HOST, "feedback", "list", CYCLE, "--json"))
    assert [(f["from_urn"], f["kind"], f["usefulness"]) for f in rows] == [
        (int(lead), "immediate", 5)
    ]
