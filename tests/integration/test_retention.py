"""The retention policy: a dry run counts and changes nothing; a purge changes exactly what is
past its period (people who left anonymised, an ended cycle's text removed, lapsed sign-in
records, old drafts, sent e-mails and access-log rows deleted), never what is held, never
history; each step's count in purge_log, naming nobody. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlmodel import SQLModel

from review_engine.core.retention import ANONYMOUS_NAME, REMOVED, RecordKind, months_before
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import (
    history,
    people,
    retention,
    signin,
    subject_access,
    transitions,
)
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import CYCLE, DEPUTY, HEADS
from tests.integration.test_subject_access import (
    BASE,
    HOST,
    IK_TEACHER,
    IK_TEACHER_NEW,
    NEW,
    _build,
    ik_visit,
)

# Tables a purge may change (history, schools, clusters, cycles, states, plans... never).
CHANGED = {
    "person", "person_change", "selfevaluation", "visitplan", "writeup", "writeupdecision",
    "sharing_change", "goodpractice", "supportaction", "actionupdate", "feedback",
    "availability", "signin_link", "web_session", "signin_attempt", "api_token", "draft",
    "outboxmessage", "access_log", "purge_log", "cluster_change",
}  # fmt: skip


def snapshot(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order."""
    out = {}
    with rt.db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


@pytest.fixture
def year(cycle_rt: Runtime, clock: FakeClock) -> Runtime:
    """A year of records, then the deputy leaves, the cycle is cancelled, every queued
    e-mail is sent; the head of HOST is held (a complaint)."""
    rt = cycle_rt
    _build(rt, clock)
    signin.request_link(rt, email=DEPUTY, client="198.51.100.7", base_url=BASE)
    people.deactivate_person(rt.acting_as(OPERATOR), email=DEPUTY)
    people.deactivate_person(rt.acting_as(OPERATOR), email=NEW)  # held: kept as she is
    transitions.fire(rt, cycle=CYCLE, machine="cycle", trigger="cancel", reason="Merged")
    with rt.db.engine.begin() as conn:
        conn.execute(update(OutboxMessage).values(sent_at=clock.now()))
    return rt


def _counts(report: retention.PurgeReport) -> dict[tuple[str, str], int]:
    return {(s.kind.value, s.what): s.count for s in report.steps}


def test_nothing_is_purged_before_its_time(year: Runtime, clock: FakeClock) -> None:
    clock.advance(days=20)
    before = snapshot(year)
    report = retention.purge(year.acting_as(OPERATOR))
    assert report.total == 0, [s for s in report.steps if s.count]
    after = snapshot(year)
    assert after.pop("purge_log") and before.pop("purge_log") == []  # the run is logged
    assert after == before


def test_a_dry_run_counts_what_a_purge_then_does(year: Runtime, clock: FakeClock) -> None:
    clock.set(months_before(clock.now(), -73))  # six years and a month on
    operator = year.acting_as(OPERATOR)
    before = snapshot(year)
    dry = retention.purge(operator, dry_run=True)
    assert snapshot(year) == before, "a dry run changed something"
    counts = _counts(dry)
    assert counts[("review_text", "SEF versions")] == 2
    assert counts[("review_text", "write-ups")] == 1
    assert counts[("review_text", "visit plans")] >= 1
    assert counts[("review_text", "feedback")] == 1
    assert counts[("review_text", "action updates")] == 1
    assert counts[("former_staff", "people anonymised")] == 1  # the deputy; the head is held
    assert counts[("sent_messages", "sent e-mails")] > 0
    assert counts[("sign_in", "sign-in links")] == 1  # the deputy's; the held head's stays
    assert counts[("access_log", "access-log entries")] == 0  # held: hers
    assert dry.held_people == 1

    done = retention.purge(operator)
    assert _counts(done) == counts
    after = snapshot(year)
    for name in set(before) - CHANGED:
        assert after[name] == before[name], f"{name} changed"
    assert all(check.ok for check in history.verify(operator, cycle=CYCLE))

    logged = retention.purge_log(operator)
    assert {(r.kind, r.what): r.count for r in logged} == counts
    for r in logged:
        assert "@" not in r.what and "Rahman" not in r.what and "Lowe" not in r.what

    deputy = people.show_person(operator, email=f"anonymised-{_id(year, 'deputy')}@invalid")
    assert (deputy.person.name, deputy.person.notices) == (ANONYMOUS_NAME, ())
    with pytest.raises(NotFound):
        people.show_person(operator, email=DEPUTY)
    assert {c.new for c in deputy.changes if c.setting in ("name", "email")} <= {REMOVED}
    held = people.show_person(operator, email=NEW)
    assert held.person.name == "Aisha Rahman"

    with year.db.engine.connect() as conn:
        sef_rows = conn.execute(text_rows("selfevaluation", "enquiry_question, areas")).all()
        assert {r[0] for r in sef_rows} == {REMOVED}
        assert {str(r[1]) for r in sef_rows} <= {"[]"}
    again = retention.purge(operator)
    assert again.total == 0, [s for s in again.steps if s.count]


def text_rows(table: str, columns: str) -> Any:
    return text(f"SELECT {columns} FROM {table}")


def _id(rt: Runtime, role: str) -> int:
    """The id of the head or the deputy of HOST."""
    with rt.db.engine.connect() as conn:
        found = conn.execute(text_rows("person", "id, role, school_urn")).all()
    return next(i for i, r, urn in found if r == role and urn == HOST)


def test_a_held_cycle_keeps_its_text_until_released(year: Runtime, clock: FakeClock) -> None:
    operator = year.acting_as(OPERATOR)
    held = retention.hold(operator, subject_kind="cycle", subject=CYCLE, reason="Claim 7")
    assert held.subject == CYCLE
    clock.set(months_before(clock.now(), -80))
    kept = _counts(retention.purge(operator))
    assert all(n == 0 for (kind, _), n in kept.items() if kind == RecordKind.REVIEW_TEXT)
    assert [h.subject for h in retention.show_policy(operator).holds] == [NEW, CYCLE]
    retention.release(operator, subject_kind="cycle", subject=CYCLE)
    assert _counts(retention.purge(operator))[("review_text", "SEF versions")] == 2
    with pytest.raises(NotFound):
        retention.release(operator, subject_kind="cycle", subject=CYCLE)


def test_a_programme_sets_its_own_periods(year: Runtime, clock: FakeClock) -> None:
    operator = year.acting_as(OPERATOR)
    retention.set_period(operator, kind="sent_messages", months=1)
    shown = {p.kind: p for p in retention.show_policy(operator).periods}
    assert shown[RecordKind.SENT_MESSAGES].months == 1
    assert shown[RecordKind.SENT_MESSAGES].default_months == 12
    assert shown[RecordKind.ACCESS_LOG].set_by is None
    clock.advance(days=40)
    counts = _counts(retention.purge(operator, dry_run=True))
    assert counts[("sent_messages", "sent e-mails")] > 0
    assert counts[("review_text", "SEF versions")] == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda rt: retention.set_period(rt, kind="gossip", months=3), InvalidInput),
        (lambda rt: retention.set_period(rt, kind="drafts", months=0), InvalidInput),
        (lambda rt: retention.hold(rt, subject_kind="person", subject=NEW, reason=" "),
         InvalidInput),
        (lambda rt: retention.hold(rt, subject_kind="school", subject="1", reason="x"),
         InvalidInput),
        (lambda rt: retention.hold(rt, subject_kind="person", subject=NEW, reason="again"),
         InvalidInput),
        (lambda rt: retention.hold(rt, subject_kind="person", subject="no@x.example",
                                   reason="x"), NotFound),
    ],
    ids=["unknown-kind", "zero-months", "no-reason", "unknown-subject", "held-twice",
         "unknown-person"],
)  # fmt: skip
def test_bad_input_is_refused_and_changes_nothing(year: Runtime, call: Any, error: type) -> None:
    before = snapshot(year)
    with pytest.raises(error):
        call(year.acting_as(OPERATOR))
    assert snapshot(year) == before


def test_only_a_programme_admin_purges_or_holds(year: Runtime, clock: FakeClock) -> None:
    for who in (FACILITATOR, HEADS[HOST + 1]):
        rt = year.acting_as(who)
        for call in (
            lambda rt: retention.purge(rt, dry_run=True),
            lambda rt: retention.set_period(rt, kind="drafts", months=6),
            lambda rt: retention.hold(rt, subject_kind="cycle", subject=CYCLE, reason="x"),
        ):
            with pytest.raises(NotPermitted):
                call(rt)
        assert retention.show_policy(rt).holds == []  # the policy, not whose records are held


def test_once_released_a_leaver_is_anonymised_everywhere_but_history(
    year: Runtime, clock: FakeClock
) -> None:
    operator = year.acting_as(OPERATOR)
    retention.release(operator, subject_kind="person", subject=NEW)
    clock.set(months_before(clock.now(), -25))
    before = snapshot(year)
    counts = _counts(retention.purge(operator))
    assert counts[("former_staff", "people anonymised")] == 2  # the deputy and the head
    after = snapshot(year)
    assert after["transitionlog"] == before["transitionlog"]
    head = _id(year, "head")
    gone = f"anonymised-{head}@invalid"
    export = subject_access.export_person(operator, email=gone)
    assert export.person["name"] == ANONYMOUS_NAME and export.person["earlier_addresses"] == []
    sections = {s.key: s.rows for s in export.sections}
    assert [s["version"] for s in sections["sef_versions"]] == [1, 2]  # now by "gone"
    assert sections["history"] == []  # history keeps the address she acted under
    text = json.dumps(subject_access.to_json(export).decode())
    assert "Aisha" not in text and "northbrook.example" not in text


def test_a_purge_reads_in_a_fixed_number_of_statements(cycle_rt: Runtime, clock: FakeClock) -> None:
    """Nothing to purge, or a year of records past their periods: the same statements."""
    from sqlalchemy import event

    operator = cycle_rt.acting_as(OPERATOR)
    counted: list[str] = []

    def note(*args: Any) -> None:
        counted.append(args[2])

    def dry_run() -> int:
        counted.clear()
        event.listen(cycle_rt.db.engine, "before_cursor_execute", note)
        try:
            retention.purge(operator, dry_run=True)
        finally:
            event.remove(cycle_rt.db.engine, "before_cursor_execute", note)
        return len(counted)

    retention.hold(operator, subject_kind="person", subject=HEADS[HOST + 1], reason="A hold")
    dry_run()  # the workflow compiled once
    empty = dry_run()
    _build(cycle_rt, clock)
    people.deactivate_person(operator, email=DEPUTY)
    transitions.fire(cycle_rt, cycle=CYCLE, machine="cycle", trigger="cancel", reason="Test")
    clock.set(months_before(clock.now(), -80))
    report = retention.purge(operator, dry_run=True)
    assert report.total > 5
    assert dry_run() == empty


def _ik_rows(rt: Runtime) -> dict[str, list[Any]]:
    with rt.db.engine.connect() as conn:
        return {
            "practitioners": [
                p if isinstance(p, list) else json.loads(p)
                for (p,) in conn.execute(text_rows("ik_booking", "practitioners"))
            ],
            "questions": [q for (q,) in conn.execute(text_rows("ik_question", "text"))],
            "feedback": sorted(
                tuple(r)
                for r in conn.execute(
                    text_rows("ik_feedback", "kind, rating, comment, what_changed")
                )
            ),
        }


def test_a_purge_removes_inside_knowledge_text_past_its_period(
    rt: Runtime, clock: FakeClock
) -> None:
    """Two years after the visit day: the practitioners' names and addresses on bookings,
    agenda questions, feedback comments and what reflections say changed are removed; the
    offer as published, ratings and the transition log stay. A dry run counts the same."""
    ik_visit(rt)
    operator = rt.acting_as(OPERATOR)
    kind = RecordKind.KNOWLEDGE_VISITS.value
    clock.set(datetime(2028, 10, 13, 9, tzinfo=UTC))  # a day short of 24 months
    assert {w: n for (k, w), n in _counts(retention.purge(operator)).items() if k == kind} == {
        "practitioners named on bookings": 0,
        "questions for agendas": 0,
        "feedback and reflections": 0,
    }
    clock.set(datetime(2028, 10, 15, 9, tzinfo=UTC))
    before = snapshot(rt)
    dry = retention.purge(operator, dry_run=True)
    assert snapshot(rt) == before, "a dry run changed something"
    counts = {w: n for (k, w), n in _counts(dry).items() if k == kind}
    assert counts == {
        "practitioners named on bookings": 1,
        "questions for agendas": 1,
        "feedback and reflections": 3,
    }
    done = retention.purge(operator)
    assert _counts(done) == _counts(dry)
    after = snapshot(rt)
    for table in ("ik_offer", "ik_transition", "ik_nomination", "ik_programme"):
        assert after[table] == before[table], f"{table} changed"
    rows = _ik_rows(rt)
    assert rows["practitioners"] == [
        [
            {"name": REMOVED, "email": "", "role": "Year 6 teacher"},
            {"name": REMOVED, "email": "", "role": "English lead"},
        ]
    ]
    assert rows["questions"] == [REMOVED]
    assert rows["feedback"] == [
        ("host", 4, REMOVED, ""),
        ("reflection", None, REMOVED, REMOVED),
        ("visitor", 5, REMOVED, ""),
    ]
    assert retention.purge(operator).total == 0


def test_a_held_practitioner_keeps_her_inside_knowledge_records(
    rt: Runtime, clock: FakeClock
) -> None:
    ik_visit(rt)
    operator = rt.acting_as(OPERATOR)
    retention.hold(operator, subject_kind="person", subject=IK_TEACHER_NEW, reason="Complaint 7")
    clock.set(datetime(2029, 1, 1, 9, tzinfo=UTC))
    dry = retention.purge(operator, dry_run=True)
    done = retention.purge(operator)
    assert _counts(done) == _counts(dry)
    rows = _ik_rows(rt)
    assert rows["practitioners"][0][0]["email"] == IK_TEACHER  # named on the booking: kept
    assert rows["questions"] == ["How does Teacher B 710002 edit? Ask Hana Host"]
    assert rows["feedback"] == [
        ("host", 4, REMOVED, ""),  # the host's: not hers
        ("reflection", None, "With b710002@example.org", "Daily editing"),
        ("visitor", 5, "Thanks to Hana Host", ""),
    ]
    retention.release(operator, subject_kind="person", subject=IK_TEACHER_NEW)
    assert (
        _counts(retention.purge(operator))[
            (RecordKind.KNOWLEDGE_VISITS.value, "questions for agendas")
        ]
        == 1
    )
