"""Documents of a cluster in the middle of its year, as the people who read them see them: no
state names (the workflow's ids) in any format, every kind of overdue work in the cluster
report, the visit pack's address, host SEF and agenda, the agenda's times refused in one line,
and a published write-up's PDF printed once."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import docx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from review_engine import documents
from review_engine.cli.main import app
from review_engine.core.domain import Rag, SharingLevel, Slot, VisitFocus
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog
from review_engine.documents import DocumentKind, Format, exporters
from review_engine.documents.context import ClusterReportContext
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import actions, docs, transitions, visits, writeups
from review_engine.store.phase_tables import WriteUp
from review_engine.testing import FakeClock
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    at,
    hold_visit,
    plan_visit,
    publish_writeup,
    review_id,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST, SECOND, THIRD = URNS[0], URNS[1], URNS[2]
LATE = URNS[4:]  # these four never send their SEF
TODAY = date(2026, 12, 7)  # Autumn 2: peer visits under way, SEFs due at the end of Autumn 1


def raw_state_names() -> set[str]:
    """Every state id of the default workflow that a reader could mistake for words: those
    with an underscore (not_started, triad_assigned, peer_review...)."""
    definition = WorkflowCatalog().get(DEFAULT_WORKFLOW)
    names = {s for m in definition.machines.values() for s in m.states if "_" in s}
    assert {"not_started", "triad_assigned", "awaiting_plan", "peer_review"} <= names
    return names


def docx_all_text(data: bytes) -> str:
    """The text a Word reader sees: body, tables, headers and footers."""
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    return "\n".join(parts)


@pytest.fixture
def mid_cycle(cycle_rt: Runtime, clock: FakeClock) -> Runtime:
    """Self-review over (four SEFs in, four never sent), peer visits open with triads formed;
    one visit held and written up (not yet agreed), one booked for a day gone by and never
    recorded as held, one booked for next week without an agenda (an afternoon), the others
    waiting for their focus."""
    for urn in URNS[:4]:
        submit_sef(cycle_rt, CYCLE, urn)
    transitions.fire(cycle_rt, cycle=CYCLE, machine="cycle", trigger="open_peer_review")
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    clock.set(at(date(2026, 11, 11), 9))
    plan_visit(cycle_rt, CYCLE, SECOND, date(2026, 11, 24))  # never recorded as held
    as_third = cycle_rt.acting_as(HEADS[THIRD])
    visits.set_focus(
        as_third,
        cycle=CYCLE,
        host=THIRD,
        focus=VisitFocus.PUPIL_VOICE,
        question="How well do pupils talk about their reading?",
        area="quality_of_education",
    )
    visits.schedule(as_third, cycle=CYCLE, host=THIRD, on=date(2026, 12, 10), slot=Slot.AFTERNOON)
    lead = by_host[HOST][0]
    d = writeups.read_draft(
        "activities: [Learning walk]\n"
        "www: [{line: Reading, text: Pupils read fluently., evidence: Walk}]\n"
        "ebi: [{line: Reading, text: Keep-up sessions are not daily., evidence: Walk}]\n"
        "good_practice: []\n"
        "next_steps: ''\n"
    )
    writeups.draft(
        cycle_rt.acting_as(HEADS[lead]),
        cycle=CYCLE,
        host=HOST,
        items=d.items,
        good_practice=d.good_practice,
        activities=d.activities,
        next_steps=d.next_steps,
    )
    clock.set(at(TODAY, 9))
    return cycle_rt


TEXT_FORMATS = (Format.HTML, Format.MD, Format.CSV, Format.DOCX)


def test_a_mid_cycle_cluster_shows_states_in_words_in_every_format(mid_cycle: Runtime) -> None:
    raw = raw_state_names()
    items = docs.build_contexts(mid_cycle, cycle=CYCLE)
    kinds = {k for k, _ in items}
    assert {DocumentKind.CLUSTER_REPORT, DocumentKind.VISIT_PACK, DocumentKind.SEF_SUMMARY} <= kinds
    seen: dict[DocumentKind, str] = {}
    for kind, context in items:
        for fmt in TEXT_FORMATS:
            if fmt not in documents.supported_formats(kind):
                continue
            data = documents.render(kind, context, fmt=fmt)
            text = docx_all_text(data) if fmt is Format.DOCX else data.decode("utf-8-sig")
            found = sorted(name for name in raw if re.search(rf"\b{name}\b", text))
            assert not found, f"{kind} as {fmt} shows {found}"
            seen[kind] = seen.get(kind, "") + text
    report = seen[DocumentKind.CLUSTER_REPORT]
    for words in ("phase: Peer visits", "Visit booked", "Visit held", "Not started",
                  "Drafted: reviewers to agree", "Triad formed: focus to choose",
                  "No plan yet", "Self-review", "Peer visit", "Write-up"):  # fmt: skip
        assert words in report, words
    status = list(
        csv.reader(
            io.StringIO(
                documents.render(
                    DocumentKind.CLUSTER_REPORT,
                    next(c for k, c in items if k is DocumentKind.CLUSTER_REPORT),
                    fmt=Format.CSV,
                ).decode("utf-8-sig")
            )
        )
    )
    assert status[1] == ["School", "URN", "Self-review", "Peer visit", "Write-up", "Support"]


def test_the_cluster_reports_pdf_shows_states_in_words(mid_cycle: Runtime) -> None:
    from pypdf import PdfReader

    [(kind, context)] = docs.build_contexts(
        mid_cycle, cycle=CYCLE, kinds=[DocumentKind.CLUSTER_REPORT]
    )
    pdf = exporters.render_pdfs([(kind, context)], processes=1)[0]
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    text = " ".join(pages)
    assert not [n for n in raw_state_names() if re.search(rf"\b{n}\b", text)]
    assert "Peer visits" in text
    for page in pages:  # the marking heads every page
        assert "CONFIDENTIAL: for the cluster facilitator" in page


def test_the_overdue_list_covers_every_kind_of_late_work(mid_cycle: Runtime) -> None:
    [(_, report)] = docs.build_contexts(mid_cycle, cycle=CYCLE, kinds=[DocumentKind.CLUSTER_REPORT])
    assert isinstance(report, ClusterReportContext)
    overdue = report.overdue
    lines = [f"{o.school} | {o.item} | {o.days_overdue}" for o in overdue]
    names = {s.school.urn: s.school.name for s in report.schools}
    late_sefs = [o for o in overdue if o.item.startswith("SEF not submitted")]
    assert sorted(o.school for o in late_sefs) == sorted(names[str(u)] for u in LATE), lines
    assert all(o.days_overdue > 30 for o in late_sefs), lines  # due at the end of Autumn 1
    assert any(
        o.school == names[str(SECOND)] and "not recorded as held" in o.item for o in overdue
    ), lines
    assert any("immediate feedback on the visit to" in o.item for o in overdue), lines
    html = documents.render(DocumentKind.CLUSTER_REPORT, report, fmt=Format.HTML).decode()
    assert "Nothing is overdue" not in html


def test_completed_actions_are_never_overdue_and_late_write_ups_are(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    transitions.fire(cycle_rt, cycle=CYCLE, machine="cycle", trigger="open_peer_review")
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, by_host[HOST], SharingLevel.CLUSTER)
    hold_visit(cycle_rt, clock, CYCLE, SECOND, date(2026, 11, 17))  # never written up
    as_host = cycle_rt.acting_as(HEADS[HOST])
    for title, rag in (("Done already", Rag.COMPLETE), ("Still amber", Rag.AMBER)):
        actions.add_action(
            as_host,
            cycle=CYCLE,
            urn=HOST,
            ebi=1,
            title=title,
            owner="English lead",
            success_criteria="Seen on a walk",
            due=date(2026, 12, 1),
            rag=rag,
        )
    clock.set(at(date(2027, 1, 20), 9))
    [(_, report)] = docs.build_contexts(cycle_rt, cycle=CYCLE, kinds=[DocumentKind.CLUSTER_REPORT])
    assert isinstance(report, ClusterReportContext)
    items = [o.item for o in report.overdue]
    assert "action 2: Still amber" in items
    assert not [i for i in items if "Done already" in i]
    assert any(i.startswith("write-up of the visit to") for i in items), items


def test_the_visit_pack_gives_the_address_the_host_sef_and_an_afternoon_outline(
    mid_cycle: Runtime,
) -> None:
    lead = sorted(HEADS)[(URNS.index(THIRD) + 1) % len(URNS)]
    as_reviewer = mid_cycle.acting_as(HEADS[lead])
    _, html = docs.visit_pack(as_reviewer, cycle=CYCLE, host=THIRD, fmt=Format.HTML)
    page = html.decode()
    with mid_cycle.db.transaction() as session:
        from review_engine.store.models import School

        school = session.exec(select(School).where(School.urn == THIRD)).one()
    address = page[page.index("<address>") : page.index("</address>")]
    for part in (school.name, school.town, school.postcode):
        assert part and part.replace("'", "&#39;") in address, part
    assert "The host's self-evaluation" in page
    assert "Quality of education" in page and "Strengths" in page
    # no agenda agreed: the outline of an afternoon, not a morning
    assert "13:00" in page and "16:00" in page and "09:00" not in page


def test_agenda_times_are_refused_in_one_line_by_the_service_and_the_cli(
    mid_cycle: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    as_host = mid_cycle.acting_as(HEADS[THIRD])
    for bad, says in (
        ("9.30", "'9.30' is not a time; write it as HH:MM"),
        ("25:99", "'25:99' is not a time"),
        ("09:00", "09:00 is outside the afternoon visit (13:00 to 16:00)"),
    ):
        with pytest.raises(InvalidInput, match=re.escape(says)):
            visits.set_agenda(
                as_host,
                cycle=CYCLE,
                host=THIRD,
                items=[visits.AgendaItem(bad, "Welcome", "Head")],
                host_staff=[],
            )
    view = visits.set_agenda(
        as_host,
        cycle=CYCLE,
        host=THIRD,
        items=[visits.AgendaItem("13:30", "Welcome", "Head")],
        host_staff=[],
    )
    assert [a.time for a in view.agenda] == ["13:30"]
    monkeypatch.setenv("REVIEW_DATABASE_URL", mid_cycle.settings.url)
    monkeypatch.setenv("REVIEW_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(
        app,
        [
            "--as",
            HEADS[THIRD],
            "visit",
            "agenda",
            CYCLE,
            "--school",
            str(THIRD),
            "--item",
            "9.30|Walk|Head",
        ],
    )
    assert result.exit_code != 0
    assert "'9.30' is not a time" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def counted_pdfs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Each PDF print counted (and made quickly: the test is about when, not how)."""
    prints: list[int] = []

    def fake(items, processes=2, start_method=None):  # type: ignore[no-untyped-def]
        items = list(items)
        prints.append(len(items))
        return [f"%PDF-1.7 print {len(prints)}".encode() for _ in items]

    monkeypatch.setattr(exporters, "render_pdfs", fake)
    yield prints


def test_a_published_writeups_pdf_is_printed_once_until_its_version_changes(
    cycle_rt: Runtime, clock: FakeClock, counted_pdfs: list[int]
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    transitions.fire(cycle_rt, cycle=CYCLE, machine="cycle", trigger="open_peer_review")
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, by_host[HOST], SharingLevel.CLUSTER)
    as_host = cycle_rt.acting_as(HEADS[HOST])
    name, first = docs.writeup_report(as_host, cycle=CYCLE, host=HOST, fmt=Format.PDF)
    _, again = docs.writeup_report(as_host, cycle=CYCLE, host=HOST, fmt=Format.PDF)
    assert name.endswith(".pdf") and first == again == b"%PDF-1.7 print 1"
    assert counted_pdfs == [1]
    stored = list((cycle_rt.settings.data_dir / "documents" / "writeups").rglob("*.pdf"))
    assert [p.read_bytes() for p in stored] == [first]
    assert stored[0].name.startswith(f"{HOST}-v1-")
    assert not list(stored[0].parent.glob(".*.tmp"))  # written atomically
    # the write-up changes (a new version): printed afresh, the old print dropped
    with cycle_rt.db.transaction() as session:
        row = session.exec(
            select(WriteUp).where(WriteUp.review_id == review_id(cycle_rt, CYCLE, HOST))
        ).one()
        row.version += 1
        session.add(row)
    _, newer = docs.writeup_report(as_host, cycle=CYCLE, host=HOST, fmt=Format.PDF)
    assert newer == b"%PDF-1.7 print 2" and counted_pdfs == [1, 1]
    stored = list((cycle_rt.settings.data_dir / "documents" / "writeups").rglob("*.pdf"))
    assert [p.name.split("-")[1] for p in stored] == ["v2"]
    # Word is made on each download, with the cluster as its author
    _, word = docs.writeup_report(as_host, cycle=CYCLE, host=HOST, fmt=Format.DOCX)
    props = docx.Document(io.BytesIO(word)).core_properties
    assert props.author == "Northbrook" and props.created.date() == clock.now().date()
