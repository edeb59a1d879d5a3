"""The access log, as the people it protects read it: every viewing or download of a SEF, a
write-up, a visit pack, a report or a support plan is recorded with who, when, what and how;
the facilitator reads the cycle's log, a school reads its own records' log, and anyone else
finds no such cycle or school. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from review_engine.clock import FixedClock
from review_engine.core.domain import SharingLevel
from review_engine.documents import Format
from review_engine.errors import NotFound
from review_engine.runtime import Runtime
from review_engine.services import access_log, actions, docs, sef, writeups
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
OUTSIDER = URNS[5]  # in the cluster, but neither the host nor one of its visitors


@pytest.fixture
def published(cycle_rt: Runtime, clock: FakeClock) -> list[int]:
    """The host's SEF, its visit held, its write-up published to its reviewers, one support
    action; the host's visitors, lead first."""
    submit_sef(cycle_rt, CYCLE, HOST)
    visitors = set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, visitors, SharingLevel.REVIEWERS)
    actions.add_action(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, urn=HOST, ebi=1, title="Keep-up sessions",
        owner="English lead", success_criteria="Seen in every class", due=date(2027, 3, 1),
    )  # fmt: skip
    return visitors


@contextmanager
def log_inserts(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().lower().startswith("insert into access_log"):
            seen.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


def facilitator_log(rt: Runtime, **kwargs: Any) -> list[access_log.Entry]:
    return access_log.entries(rt.acting_as(FACILITATOR), cycle=CYCLE, **kwargs).entries


def test_each_kind_of_record_read_is_logged_with_who_what_and_how(
    cycle_rt: Runtime, published: list[int], tmp_path: Path
) -> None:
    lead = cycle_rt.acting_as(HEADS[published[0]])
    host = cycle_rt.acting_as(HEADS[HOST])
    sef.show_sef(lead, cycle=CYCLE, urn=HOST)  # the CLI's `review sef show`
    sef.sef_page(host.reached_by("web"), cycle=CYCLE, urn=HOST, version=1)
    writeups.show(lead.reached_by("api"), cycle=CYCLE, host=HOST)
    writeups.writeup_page(host.reached_by("web"), cycle=CYCLE, host=HOST)
    docs.writeup_report(host.reached_by("web"), cycle=CYCLE, host=HOST, fmt=Format.DOCX)
    docs.visit_pack(lead.reached_by("web"), cycle=CYCLE, host=HOST, fmt=Format.HTML)
    with log_inserts(cycle_rt) as inserts:
        written = docs.render_to_folder(host, cycle=CYCLE, out=tmp_path, fmt=Format.HTML)
    assert len(inserts) == 1, "a batch of documents is one INSERT"

    entries = facilitator_log(cycle_rt)
    seen = [(e.actor, e.action, e.record, e.school_urn, e.via) for e in reversed(entries)]
    lead_email, host_email = HEADS[published[0]], HEADS[HOST]
    assert seen[:6] == [
        (lead_email, "viewed", "sef", HOST, "cli"),
        (host_email, "viewed", "sef", HOST, "web"),
        (lead_email, "viewed", "writeup", HOST, "api"),
        (host_email, "viewed", "writeup", HOST, "web"),
        (host_email, "downloaded", "writeup_report", HOST, "web"),
        (lead_email, "viewed", "visit_pack", HOST, "web"),
    ]
    batch = seen[6:]
    assert {r for _, _, r, _, _ in batch} == {
        "sef", "visit_pack", "writeup_report", "support_plan"
    }  # fmt: skip
    assert len(batch) == len(written) - 1  # every document but the practice directory
    assert all(a == host_email and act == "downloaded" for a, act, *_ in batch)
    details = [e.detail for e in reversed(entries)]
    assert details[0] == "version 1" and details[4] == "DOCX, version 1"
    assert entries[-1].actor_name != host_email  # the person's name, not only the e-mail
    assert entries[-1].record_words == "self-evaluation (SEF)"
    assert entries[-1].via_words == "command line"


def test_a_form_check_and_a_document_built_from_a_record_log_no_extra_reading(
    cycle_rt: Runtime, published: list[int]
) -> None:
    host = cycle_rt.acting_as(HEADS[HOST])
    writeups.writeup_page(host, cycle=CYCLE, host=HOST, record_access=False)
    docs.visit_pack(host, cycle=CYCLE, host=HOST, fmt=Format.HTML)  # holds the host's SEF
    assert [e.record for e in facilitator_log(cycle_rt)] == ["visit_pack"]


def test_the_school_reads_its_own_records_log_and_nobody_else_does(
    cycle_rt: Runtime, published: list[int]
) -> None:
    lead = published[0]
    sef.show_sef(cycle_rt.acting_as(HEADS[lead]), cycle=CYCLE, urn=HOST)
    # The host's staff: their school's entries only, whatever they ask for.
    own = access_log.entries(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE)
    assert own.school_urn == HOST and not own.whole_cycle
    assert [(e.actor, e.school_urn) for e in own.entries] == [(HEADS[lead], HOST)]
    with pytest.raises(NotFound):
        access_log.entries(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, school=lead)
    # A visiting school reads its own log, not its host's.
    with pytest.raises(NotFound):
        access_log.entries(cycle_rt.acting_as(HEADS[lead]), cycle=CYCLE, school=HOST)
    # Outsiders: the same answer as for a school or a cycle that does not exist.
    with pytest.raises(NotFound):
        access_log.entries(cycle_rt.acting_as(HEADS[OUTSIDER]), cycle=CYCLE, school=HOST)
    with pytest.raises(NotFound) as other:
        access_log.entries(cycle_rt.acting_as(OTHER_FACILITATOR), cycle=CYCLE)
    with pytest.raises(NotFound) as missing:
        access_log.entries(cycle_rt.acting_as(OTHER_FACILITATOR), cycle="Nowhere/2026-27")
    assert other.value.message == missing.value.message.replace("Nowhere", "Northbrook")
    # The facilitator: every school's, or one school's, or one person's.
    sef.show_sef(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, urn=HOST)
    assert len(facilitator_log(cycle_rt)) == 2
    assert [e.school_urn for e in facilitator_log(cycle_rt, school=HOST)] == [HOST, HOST]
    assert len(facilitator_log(cycle_rt, person=HEADS[lead].upper())) == 1
    # The operator (a programme admin's rights) reads the whole cycle too.
    assert access_log.entries(cycle_rt.acting_as("operator"), cycle=CYCLE).whole_cycle


def test_the_log_pages_newest_first(cycle_rt: Runtime, published: list[int]) -> None:
    lead = cycle_rt.acting_as(HEADS[published[0]])
    for _ in range(5):
        sef.show_sef(lead, cycle=CYCLE, urn=HOST)
    first = access_log.entries(cycle_rt, cycle=CYCLE, limit=3)
    assert len(first.entries) == 3 and first.older is not None
    rest = access_log.entries(cycle_rt, cycle=CYCLE, limit=3, before=first.older)
    assert len(rest.entries) == 2 and rest.older is None
    ids = [e.id for e in first.entries + rest.entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5


def test_a_reading_at_a_pretend_time_is_logged_at_the_real_time(
    cycle_rt: Runtime, published: list[int]
) -> None:
    """`--now` on a real database refuses changes, but a reading is still a reading: it is
    logged (and not refused), at the time it really happened."""
    settings = cycle_rt.settings.model_copy(update={"now": "2027-06-01T09:00"})
    pretend = Runtime.open(settings, actor=HEADS[published[0]])
    try:
        assert isinstance(pretend.clock, FixedClock)
        sef.show_sef(pretend, cycle=CYCLE, urn=HOST)
    finally:
        pretend.db.engine.dispose()
    [entry] = facilitator_log(cycle_rt)
    assert entry.at.year != 2027 or entry.at.month != 6


def test_who_read_an_inside_knowledge_visit_pack(rt: Runtime) -> None:
    """A visit pack names the visiting practitioners: its reads are listed by programme, to
    the programme's admins (every host) and to the host's staff (their own school only)."""
    from review_engine.services.knowledge import report
    from tests.integration.knowledge_helpers import ADMIN, HOST_HEAD, PROGRAMME, head
    from tests.integration.test_subject_access import ik_visit

    offer = ik_visit(rt)
    report.visit_pack(rt.acting_as(HOST_HEAD), offer=offer)
    oak = 710001
    for who in (ADMIN, HOST_HEAD):
        page = access_log.programme_entries(rt.acting_as(who), programme=PROGRAMME)
        assert [(e.actor_name, e.action, e.record_words, e.school) for e in page.entries] == [
            ("Hana Host", "viewed", "visit pack", "Oak Primary School")
        ], who
        assert page.cycle == "Inside Knowledge 2026-27"
    assert access_log.programme_entries(rt.acting_as(ADMIN), programme=PROGRAMME).schools == [
        (oak, "Oak Primary School")
    ]
    visitor = rt.acting_as(head(710002))
    assert access_log.programme_entries(visitor, programme=PROGRAMME).entries == []
    with pytest.raises(NotFound, match="your own school's entries only"):
        access_log.programme_entries(visitor, programme=PROGRAMME, school=oak)
    with pytest.raises(NotFound):  # no school, not an admin
        access_log.programme_entries(rt.acting_as("officer@leeds.example.org"), programme=PROGRAMME)
