"""`review docs render` and `review visit ics` from a real cycle, as different people: what a
head may render, what the facilitator gets, Word styles from a template, and the status view
of overdue work."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from icalendar import Calendar
from typer.testing import CliRunner, Result

from review_engine.cli.main import app
from review_engine.core.domain import SharingLevel
from review_engine.runtime import Runtime
from review_engine.services.tick import tick
from review_engine.testing import FakeClock
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
FACILITATOR = "facilitator@example.org"


@pytest.fixture
def review(cycle_rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REVIEW_DATABASE_URL", cycle_rt.settings.url)
    monkeypatch.setenv("REVIEW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REVIEW_ACTOR", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return invoke


@pytest.fixture
def published(cycle_rt: Runtime, clock: FakeClock) -> dict[int, list[int]]:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    for urn in URNS[:3]:
        submit_sef(cycle_rt, CYCLE, urn)
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, by_host[HOST], SharingLevel.CLUSTER)
    return by_host


def test_the_facilitator_renders_every_document_and_word_uses_the_template(
    review,
    published: dict[int, list[int]],
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    template = tmp_path / "house-style.docx"
    house = docx.Document()
    house.styles["Normal"].font.name = "Comic Neue"
    house.save(str(template))
    out = tmp_path / "docs"
    result = review(
        "--as",
        FACILITATOR,
        "docs",
        "render",
        CYCLE,
        "--format",
        "docx",
        "--out",
        str(out),
        "--word-template",
        str(template),
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert any(n.startswith("cluster-report-") for n in names)
    assert any(n.startswith("writeup-report-Northbrook-Primary-School-990101") for n in names)
    assert len([n for n in names if n.startswith("sef-summary-")]) == 3
    report = docx.Document(str(next(out.glob("writeup-report-*.docx"))))
    assert report.styles["Normal"].font.name == "Comic Neue"
    text = "\n".join(p.text for p in report.paragraphs)
    assert "Northbrook Primary School" in text


def test_a_head_renders_only_what_they_may_see(
    review,
    published: dict[int, list[int]],
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    outsider = URNS[4]  # does not visit the host
    out = tmp_path / "mine"
    mine = review("--as", HEADS[outsider], "docs", "render", CYCLE, "--out", str(out))
    assert mine.exit_code == 0, mine.output
    names = sorted(p.name for p in out.iterdir())
    assert not any(n.startswith("cluster-report-") for n in names)
    assert not any(n.startswith("sef-summary-Northbrook") for n in names)  # the host's SEF
    assert any(n.startswith("writeup-report-Northbrook") for n in names)  # shared with cluster
    refused = review(
        "--as",
        HEADS[outsider],
        "docs",
        "render",
        CYCLE,
        "--school",
        str(HOST),
        "--kind",
        "sef_summary",
        "--out",
        str(tmp_path / "x"),
    )
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"error: {HEADS[outsider]} may not see the self-evaluation")
    cluster = review(
        "--as",
        HEADS[outsider],
        "docs",
        "render",
        CYCLE,
        "--kind",
        "cluster_report",
        "--out",
        str(tmp_path / "y"),
    )
    assert cluster.exit_code == 1
    assert "only the facilitator may" in cluster.stderr


def test_visit_invite_and_status_show_overdue_work(
    review,
    published: dict[int, list[int]],
    cycle_rt: Runtime,
    clock: FakeClock,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    ics = review(
        "--as", FACILITATOR, "visit", "ics", CYCLE, "--school", str(HOST), "--out", str(tmp_path)
    )
    assert ics.exit_code == 0, ics.output
    invite = Calendar.from_ical(
        (tmp_path / "visit-Northbrook-Primary-School-990101.ics").read_bytes()
    )
    event = invite.walk("VEVENT")[0]
    assert event.decoded("dtstart").date() == date(2026, 11, 10)
    assert len(event.get("attendee")) == 4  # the host's head and three visiting heads
    clock.set(datetime(2026, 11, 12, 6, 0, tzinfo=UTC))
    tick(cycle_rt.acting_as("scheduler"))
    status = review("--as", FACILITATOR, "cycle", "status", CYCLE)
    assert status.exit_code == 0
    assert "overdue" in status.stdout
    assert "self review was due 16 Oct 2026" in status.stdout
