"""The subject access export of a head: every record that names them appears, under their
address now and the one they had before, and other people's names and addresses do not;
on SQLite and PostgreSQL, in a fixed number of statements."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event

from review_engine.core.domain import Rag, SharingLevel
from review_engine.errors import NotFound, NotPermitted
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import (
    actions,
    drafts,
    feedback,
    people,
    retention,
    sef,
    signin,
    subject_access,
    visits,
    writeups,
)
from review_engine.store.privacy_tables import AccessLog
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    VISIT_DAYS,
    agree_writeup,
    draft_writeup,
    hold_visit,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]  # 990101, Aisha Rahman
OLD = HEADS[HOST]  # head@northbrook.example: the address she acted under first
NEW = "a.rahman@northbrook.example"
NAME = "Aisha Rahman"
OTHERS = [e for u, e in HEADS.items() if u != HOST] + [FACILITATOR, "deputy@northbrook.example"]
OTHER_NAMES = ["Fran Facilitator", "Tom Whitfield", "Chris Lowe", "Lucy Brennan"]
BASE = "http://testserver"


def _build(rt: Runtime, clock: FakeClock) -> dict[int, list[int]]:
    """A year of records naming the head of HOST, made by her and about her."""
    by_host = set_rotation_triads(rt, CYCLE, URNS)
    submit_sef(rt, CYCLE, HOST)  # as OLD
    sef.decide_sef(
        rt, cycle=CYCLE, urn=HOST, accept=False,
        reason="Please add evidence; ask Tom Whitfield (head@st-aidans.example) for his",
    )  # fmt: skip
    drafts.save_draft(  # her school's SEF redrafted (cleared when she submits again)
        rt.acting_as(OLD), cycle=CYCLE, urn=HOST, kind="sef",
        content={"enquiry_question": "Reading: see Chris Lowe's notes"},
    )  # fmt: skip
    drafts.save_draft(  # the write-up of the school she leads the visit to
        rt.acting_as(OLD), cycle=CYCLE, urn=URNS[-1], kind="writeup",
        content={"next_steps": "Reading: see Chris Lowe's notes"},
    )  # fmt: skip
    submit_sef(rt, CYCLE, HOST)
    sef.decide_sef(rt, cycle=CYCLE, urn=HOST, accept=True, reason=None)
    as_head = rt.acting_as(OLD)
    hold_visit(rt, clock, CYCLE, HOST, VISIT_DAYS[0])
    visits.set_agenda(
        as_head, cycle=CYCLE, host=HOST,
        items=[visits.AgendaItem("09:00", "Welcome", NAME)], host_staff=[NAME, "Chris Lowe"],
    )  # fmt: skip
    draft_writeup(rt, CYCLE, HOST, by_host[HOST][0])
    agree_writeup(rt, CYCLE, HOST, by_host[HOST])  # the host's agreement: a decision
    writeups.publish(as_head, cycle=CYCLE, host=HOST, sharing=SharingLevel.CLUSTER)
    feedback.give(as_head, cycle=CYCLE, host=HOST, kind="immediate", usefulness=4,
                  comment="Useful; thanks to Lucy Brennan")  # fmt: skip
    actions.add_action(
        as_head, cycle=CYCLE, urn=HOST, ebi=1, title="Keep-up sessions", owner=NAME,
        success_criteria="Seen in every class", due=VISIT_DAYS[7],
    )  # fmt: skip
    actions.update_action(as_head, cycle=CYCLE, urn=HOST, number=1, rag=Rag.GREEN,
                          note="Started in Year 1 with Chris Lowe")  # fmt: skip
    # Signed in once on the web, with an API token; a reading in the access log.
    sent = signin.request_link(rt, email=OLD, client="203.0.113.9", base_url=BASE)
    assert sent.url is not None
    signin.redeem_link(rt, token=sent.url.rsplit("/", 1)[1], client="203.0.113.9")
    signin.create_api_token(as_head, name="MIS export")
    with rt.db.transaction() as session:
        session.add(
            AccessLog(at=clock.now(), actor=OLD, action="viewed", record="sef", via="web",
                      cycle_id=1, school_urn=URNS[1], detail="version 1")
        )  # fmt: skip
    # Then her address changes: what she did before is still hers.
    people.update_person(rt.acting_as(OPERATOR), email=OLD, new_email=NEW)
    retention.hold(
        rt.acting_as(OPERATOR), subject_kind="person", subject=NEW,
        reason="Complaint 42 from Tom Whitfield",
    )  # fmt: skip
    return by_host


@pytest.fixture
def built(cycle_rt: Runtime, clock: FakeClock) -> dict[int, list[int]]:
    return _build(cycle_rt, clock)


def _count_statements(rt: Runtime) -> Any:
    counted: list[str] = []

    def note(*args: Any) -> None:
        counted.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", note)
    return counted, lambda: event.remove(rt.db.engine, "before_cursor_execute", note)


def test_the_export_of_a_head_lists_every_record_that_names_her(
    cycle_rt: Runtime, built: dict[int, list[int]]
) -> None:
    export = subject_access.export_person(cycle_rt.acting_as(OPERATOR), email=NEW)
    data = json.loads(subject_access.to_json(export))
    assert data["schema"] == "review-engine/subject-access"
    assert data["schema_version"] == 1
    me = data["person"]
    assert (me["name"], me["email"], me["earlier_addresses"]) == (NAME, NEW, [OLD])
    assert me["school"] == "Northbrook Primary School" or me["school_urn"] == HOST
    assert [c["setting"] for c in data["person_changes"]] == ["email"]
    assert data["person_changes"][0]["by"] == "the operator"
    triggers = {h["what"] for h in data["history"]}
    assert {"Submitted", "Redrafting started", "Agreed by the host", "Published"} <= triggers
    assert all(h["acted_as"] == OLD for h in data["history"])  # kept as recorded
    assert [s["version"] for s in data["sef_versions"]] == [1, 2]
    assert data["sef_versions"][0]["areas"], "the SEF as submitted"
    assert [(d["role"], d["decision"]) for d in data["writeup_decisions"]] == [("Host", "Agreed")]
    assert [f["usefulness"] for f in data["feedback"]] == [4]
    assert data["feedback"][0]["comment"] == "Useful; thanks to [redacted]"
    assert [u["note"] for u in data["action_updates"]] == ["Started in Year 1 with [redacted]"]
    assert [d["kind"] for d in data["drafts"]] == ["Write-up"]
    assert data["drafts"][0]["content"] == {"next_steps": "Reading: see [redacted]'s notes"}
    named = {n["record"] for n in data["named_in"]}
    assert named == {"Support action (owner)", "Visit plan (host staff)"}
    plan = next(n for n in data["named_in"] if n["record"].startswith("Visit plan"))
    assert plan["text"] == f"{NAME}, [redacted]"
    link = next(m for m in data["messages"] if m["subject"] == signin.SUBJECT)
    assert "[link left out]" in link["body"]
    assert "/sign-in/" not in json.dumps(data["messages"])
    assert [(a["action"], a["record"]) for a in data["access_log"]] == [("Viewed", "Sef")]
    assert {s["record"] for s in data["sign_in"]} == {"Sign-in link", "Browser session"}
    assert [t["name"] for t in data["api_tokens"]] == ["MIS export"]
    assert [h["reason"] for h in data["retention_holds"]] == ["Complaint 42 from [redacted]"]
    assert "Returned" not in triggers  # the facilitator returned it: not her doing
    text = json.dumps(data)
    for other in OTHERS + OTHER_NAMES:
        assert other not in text, other
    assert "token_hash" not in text and "rvw_" not in text


def test_an_export_finds_her_by_the_address_she_had_before(
    cycle_rt: Runtime, built: dict[int, list[int]]
) -> None:
    by_new = subject_access.export_person(cycle_rt.acting_as(OPERATOR), email=NEW)
    by_old = subject_access.export_person(cycle_rt.acting_as(OPERATOR), email=OLD)
    assert by_old.person == by_new.person
    assert by_old.records == by_new.records > 20


def test_only_an_admin_or_the_person_exports(
    cycle_rt: Runtime, built: dict[int, list[int]]
) -> None:
    mine = subject_access.export_person(cycle_rt.acting_as(NEW), email=NEW)
    assert mine.person["email"] == NEW
    for who in (FACILITATOR, HEADS[URNS[1]]):
        with pytest.raises(NotPermitted):
            subject_access.export_person(cycle_rt.acting_as(who), email=NEW)
        with pytest.raises(NotPermitted):  # refused alike whether or not the person exists
            subject_access.export_person(cycle_rt.acting_as(who), email="nobody@x.example")
    with pytest.raises(NotFound):
        subject_access.export_person(cycle_rt.acting_as(OPERATOR), email="nobody@x.example")


def test_the_export_reads_in_a_fixed_number_of_statements(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    """A person with nothing yet and one with a year of records cost the same."""
    operator = cycle_rt.acting_as(OPERATOR)
    counted, stop = _count_statements(cycle_rt)
    subject_access.export_person(operator, email=OLD)
    before = len(counted)
    stop()
    _build(cycle_rt, clock)
    clock.advance(days=1)
    counted, stop = _count_statements(cycle_rt)
    export = subject_access.export_person(operator, email=NEW)
    stop()
    assert export.records > 20
    assert len(counted) == before


def test_the_pdf_has_the_headings(cycle_rt: Runtime, built: dict[int, list[int]]) -> None:
    export = subject_access.export_person(cycle_rt.acting_as(OPERATOR), email=NEW)
    html = subject_access.to_html(export)
    for heading in ("About you", "Self-evaluations you submitted", "E-mails to you"):
        assert heading in html
    assert "Tom Whitfield" not in html and FACILITATOR not in html


# --- Inside Knowledge ------------------------------------------------------------------------

IK_TEACHER = "a710002@example.org"  # Teacher A of Ash Primary, a visiting practitioner
IK_TEACHER_NEW = "t.adeyemi@ash.example.org"
IK_OTHERS = ("b710002@example.org", "Teacher B 710002", "head@oak.example.org", "Hana Host")


def ik_visit(rt: Runtime) -> int:
    """Ash Primary books a visit to Oak Primary for two practitioners; Teacher A (a registered
    senior leader)
    proposes a question, goes, gives feedback and reflects, then changes her address. The id
    of the offer."""
    from datetime import UTC, datetime

    from review_engine.core.domain import Role
    from review_engine.services.knowledge import agenda, bookings
    from review_engine.services.knowledge import feedback as ik_feedback
    from tests.integration.knowledge_helpers import build_world, head, make_offer, two

    w = build_world(rt)
    a = 710002
    people.add_person(
        rt.acting_as(OPERATOR), email=IK_TEACHER, name="Teacher A 710002", role=Role.SENIOR_LEADER,
        school_urn=a,
    )  # fmt: skip
    offer = make_offer(w)
    booked = bookings.book(rt.acting_as(head(a)), offer=offer.id, practitioners=two(a))
    teacher = rt.acting_as(IK_TEACHER)
    agenda.propose(teacher, booking=booked.id, text="How does Teacher B 710002 edit? Ask Hana Host")
    rt.clock.set(datetime(2026, 10, 14, 13, tzinfo=UTC))  # type: ignore[attr-defined]
    bookings.mark(w.host, booking=booked.id, attended=True)
    ik_feedback.give(teacher, offer=offer.id, rating=5, comment="Thanks to Hana Host")
    ik_feedback.give(w.host, offer=offer.id, rating=4, comment="Good questions from Ash")
    rt.clock.set(datetime(2026, 12, 9, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    ik_feedback.reflect(
        teacher, offer=offer.id, changed_practice=True, what_changed="Daily editing",
        comment="With b710002@example.org",
    )  # fmt: skip
    people.update_person(rt.acting_as(OPERATOR), email=IK_TEACHER, new_email=IK_TEACHER_NEW)
    return offer.id


def test_a_visiting_practitioners_export_lists_her_inside_knowledge_records(rt: Runtime) -> None:
    ik_visit(rt)
    export = subject_access.export_person(rt.acting_as(OPERATOR), email=IK_TEACHER_NEW)
    data = json.loads(subject_access.to_json(export))
    [booking] = data["ik_bookings"]
    assert booking["your_part"] == "a practitioner"  # found by the address she had then
    assert booking["school"] == "Ash Primary School" and booking["state"] == "Attended"
    assert booking["practitioners"] == [
        f"Teacher A 710002 <{IK_TEACHER}> (Year 6 teacher)",
        "[redacted] (English lead)",
    ]
    assert [q["text"] for q in data["ik_questions"]] == ["How does [redacted] edit? Ask [redacted]"]
    assert [
        (f["kind"], f["rating"], f["comment"], f["what_changed"]) for f in data["ik_feedback"]
    ] == [
        ("Visitor", 5, "Thanks to [redacted]", ""),
        ("Reflection", None, "With [redacted]", "Daily editing"),
    ]
    assert data["ik_nominations"] == [] and data["ik_history"] == []
    text = json.dumps(data)
    for other in IK_OTHERS:
        assert other not in text, other
    assert "Inside Knowledge bookings that name you" in subject_access.to_html(export)


def test_the_inside_knowledge_sections_read_in_a_fixed_number_of_statements(
    rt: Runtime,
) -> None:
    """A head with no Inside Knowledge records and the host's head after a visit: the same."""
    from tests.integration.knowledge_helpers import HOST_HEAD, head

    ik_visit(rt)
    operator = rt.acting_as(OPERATOR)
    counted, stop = _count_statements(rt)
    subject_access.export_person(operator, email=head(710005))
    nothing = len(counted)
    stop()
    counted, stop = _count_statements(rt)
    export = subject_access.export_person(operator, email=HOST_HEAD)
    stop()
    data = json.loads(subject_access.to_json(export))
    assert data["ik_roles"] and data["ik_history"] and data["ik_feedback"]
    assert len(counted) == nothing
