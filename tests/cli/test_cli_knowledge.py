"""`review ik` at the terminal: a programme set up, a school nominated and approved, an offer
published, found in the prospectus, booked until full with a waiting list, its agenda, the
visit, feedback, a reflection and the quality report, each as the person who would type it;
every refusal one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import built_once  # noqa: F401 - a fixture
from tests.conftest import SAMPLES

HOST = "990101"
HEADS = {
    "990101": "head@northbrook.example",
    "990102": "head@st-aidans.example",
    "990104": "head@mosslane.example",
    "990106": "head@whitebeck.example",
    "990103": "principal@hollinsgate.example",
}
OFFICER = "officer@manchester.example"


def ok(review: Invoke, *args: str) -> str:
    result = review(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def refused(review: Invoke, *args: str) -> str:
    result = review(*args)
    assert result.exit_code == 1, (args, result.stdout)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def on(day: str, urn: str | None = None) -> tuple[str, ...]:
    who = HEADS[urn] if urn else "operator"
    return ("--now", day, "--as", who)


@pytest.fixture
def ik(built_once: None, initialised: Invoke) -> Invoke:  # noqa: F811
    review = initialised
    op = ("--as", "operator")
    ok(review, *op, "schools", "import", str(SAMPLES / "gias-sample.csv"))
    for urn, email in HEADS.items():
        ok(review, *op, "people", "add", email, "--name", f"Head {urn}", "--role", "head",
           "--school", urn)  # fmt: skip
    ok(review, *op, "people", "add", OFFICER, "--name", "Joan Mills", "--role", "programme_lead")
    return review


def test_a_round_at_the_terminal(ik: Invoke, tmp_path: Path) -> None:
    start = on("2026-09-01")
    made = ok(ik, *start, "ik", "programme", "create", "Inside Knowledge", "2026-27",
              "--first-round-topics")  # fmt: skip
    assert "created programme Inside Knowledge 2026-27 (5 topics)" in made
    shown = ok(ik, *start, "ik", "programme", "show")
    assert "ks2-writing" in shown and "Schools book visits in their own region" in shown
    ok(ik, *start, "ik", "stakeholder", "add", "Inside Knowledge/2026-27", OFFICER,
       "--organisation", "Manchester City Council")  # fmt: skip
    nominated = ok(ik, "--now", "2026-09-01", "--as", OFFICER, "ik", "nominate",
                   "--topic", "ks2-writing", "--school", HOST,
                   "--reason", "Year 6 writing results")  # fmt: skip
    number = nominated.split(":")[0].split()[-1]
    assert "Northbrook Primary School for Pupils' writing at Key Stage 2" in nominated
    assert refused(ik, *on("2026-09-01", "990102"), "ik", "approve", number) == (
        "error: head@st-aidans.example may not decide nominations: only a programme admin may"
    )
    assert "approved: Northbrook Primary School" in ok(ik, *start, "ik", "approve", number)

    offer = ok(ik, *on("2026-09-01", HOST), "ik", "offer", "create", "--topic", "ks2-writing",
               "--title", "Writing that flies", "--summary", "Year 6 lessons and books",
               "--date", "2026-10-14", "--slot", "morning", "--schools", "2",
               "--practitioners", "2", "--deadline", "2026-10-01")  # fmt: skip
    offer_id = offer.split(":")[0].split()[-1]
    assert "Draft (not yet in the prospectus)" in offer
    assert f"review ik offer publish {offer_id}" in offer
    assert "Open for booking" in ok(ik, *on("2026-09-01", HOST), "ik", "offer", "publish", offer_id)

    found = json.loads(ok(ik, "--now", "2026-09-02", "--as", "web", "ik", "search", "--near",
                          "M19 3BL", "--json"))  # fmt: skip
    assert [o["title"] for o in found["offers"]] == ["Writing that flies"]
    assert found["near_name"].startswith("St Aidan")
    listed = ok(ik, "--now", "2026-09-02", "ik", "search", "--topic", "ks2-writing")
    assert "Writing that flies" in listed and "1 visit found; page 1 of 1" in listed

    day = "2026-09-02"
    for urn in ("990102", "990106", "990104"):
        ok(ik, *on(day, urn), "ik", "book", offer_id, "--practitioner", "Ann Lee <ann@x.example>",
           "--practitioner", "Bo Chan")  # fmt: skip
    bookings = json.loads(ok(ik, *on(day, HOST), "ik", "bookings", "--offer", offer_id, "--json"))
    assert [(b["school_urn"], b["state"], b["waitlist_position"]) for b in bookings] == [
        (990102, "confirmed", None),
        (990106, "confirmed", None),
        (990104, "waitlisted", 1),
    ]
    assert refused(ik, *on(day, "990103"), "ik", "book", offer_id, "--practitioner", "X") == (
        f"error: Hollinsgate Academy cannot book offer {offer_id} (Writing that flies): this "
        "visit suits Primary schools; Hollinsgate Academy is Secondary"
    )
    first = str(bookings[0]["id"])
    ok(ik, *on(day, "990102"), "ik", "agenda", "propose", first, "How do you teach editing?")
    agenda = tmp_path / "agenda.txt"
    agenda.write_text("9:00 welcome\n9:30 Year 6 lesson\n", encoding="utf-8")
    ok(ik, *on(day, HOST), "ik", "agenda", "publish", offer_id, "--file", str(agenda))
    ok(ik, *on(day, "990102"), "ik", "agenda", "ack", first)
    seen = ok(ik, *on(day, HOST), "ik", "agenda", "show", offer_id)
    assert "9:30 Year 6 lesson" in seen and "How do you teach editing?" in seen
    cancelled = ok(ik, *on(day, "990106"), "ik", "cancel", str(bookings[1]["id"]))
    assert "Cancelled" in cancelled
    moved = ok(ik, *on(day, "990104"), "ik", "bookings")
    assert "Confirmed" in moved

    visit = "2026-10-14"
    assert "Attended" in ok(ik, *on(visit, HOST), "ik", "attend", first)
    ok(ik, *on(visit, HOST), "ik", "no-show", str(bookings[2]["id"]))
    ok(ik, *on(visit, "990102"), "ik", "feedback", offer_id, "--rating", "5")
    ok(ik, *on(visit, HOST), "ik", "feedback", offer_id, "--rating", "4")
    assert refused(ik, *on(visit, HOST), "ik", "feedback", offer_id, "--rating", "4").startswith(
        "error: feedback from Northbrook Primary School on offer"
    )
    later = "2026-12-09"
    assert "1 offers closed" in ok(ik, *on(later), "ik", "tick")
    reflected = ok(ik, *on(later, "990102"), "ik", "reflection", offer_id, "--changed",
                   "--what", "Daily editing")  # fmt: skip
    assert "changed Daily editing" in reflected
    written = ok(ik, *on(later), "ik", "report", "--format", "csv", "--out", str(tmp_path))
    csv_file = next(tmp_path.glob("*quality-report.csv"))
    assert str(csv_file.name) in written
    rows = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert rows[1] == "programme,Whole programme,1,2,2,1,1,1,5.00,4.00,1,1,1.000"
    pack = ok(ik, *on(later, HOST), "ik", "pack", offer_id, "--out", str(tmp_path))
    assert "visit pack written to" in pack
    shown = ok(ik, *on(later, HOST), "ik", "offer", "show", offer_id)
    assert "Closed" in shown and "by operator" in shown


def test_refusals_are_one_line(ik: Invoke) -> None:
    start = on("2026-09-01")
    assert refused(ik, *start, "ik", "programme", "show") == (
        "error: programme (none) not found; create one with `review ik programme create`"
    )
    ok(ik, *start, "ik", "programme", "create", "Inside Knowledge", "2026-27")
    assert refused(ik, *start, "ik", "programme", "create", "Inside Knowledge", "2026-27") == (
        "error: programme Inside Knowledge/2026-27 already exists"
    )
    assert refused(ik, *start, "ik", "offer", "show", "42") == "error: offer 42 not found"
    assert refused(ik, *start, "ik", "search", "--within", "5") == (
        "error: a distance needs a school to measure from (URN or postcode)"
    )
    assert refused(ik, *start, "ik", "offer", "create", "--topic", "x", "--title", "t",
                   "--summary", "s", "--date", "14/10/2026", "--slot", "morning",
                   "--schools", "2", "--practitioners", "2", "--deadline", "2026-10-01") == (
        "error: visit date '14/10/2026' should look like 2027-03-10"
    )  # fmt: skip
    assert refused(ik, *start, "cycle", "start", "--cluster", "x", "--year", "2026-27",
                   "--workflow", "inside-knowledge").startswith("error: ")  # fmt: skip
    assert refused(ik, *start, "ik", "report", "--format", "docx") == (
        "error: format 'docx': one of html, pdf, csv"
    )


def test_the_workflow_file_checks(ik: Invoke) -> None:
    checked = ok(ik, "workflows", "check", str(Path("workflows") / "inside-knowledge.yaml"))
    assert "workflow inside-knowledge v1 is valid (2 machines" in checked
    assert "inside-knowledge" in ok(ik, "workflows", "show", "inside-knowledge")
