"""Visit reminders: 7 days and 1 day before a scheduled visit, to the host and each visiting
school, with the visit's calendar invite attached; moved visits are reminded again, held
visits are not."""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Calendar
from sqlmodel import col, select

from review_engine.core.domain import Slot
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import Runtime
from review_engine.services import outbox, visits
from review_engine.services.tick import tick
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.integration.phase_helpers import CYCLE, HEADS, plan_visit, set_rotation_triads
from tests.integration.test_outbox_smtp import Mailbox, smtp  # noqa: F401 - the fixture

URNS = sorted(HEADS)
HOST = URNS[0]
VISIT = date(2026, 11, 17)  # a Tuesday in Autumn 2


def _visit_messages(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.item).startswith("visit@"))
                .order_by(col(OutboxMessage.id))
            )
        )


def _tick_on(rt: Runtime, clock: FakeClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC))
    tick(rt.acting_as("scheduler"))


def test_host_and_visitors_are_reminded_with_the_invite(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    plan_visit(cycle_rt, CYCLE, HOST, VISIT)
    _tick_on(cycle_rt, clock, date(2026, 11, 9))  # 8 days before: nothing yet
    assert _visit_messages(cycle_rt) == []
    _tick_on(cycle_rt, clock, date(2026, 11, 10))
    _tick_on(cycle_rt, clock, date(2026, 11, 10))  # twice on one day: still once each
    week = _visit_messages(cycle_rt)
    assert sorted(m.recipient for m in week) == sorted(HEADS[u] for u in [HOST, *by_host[HOST]])
    first = week[0]
    assert first.subject.startswith(
        "Reminder: the peer review visit to Northbrook Primary School is due 17 Nov 2026"
    )
    assert first.attachment_name == "visit-Northbrook-Primary-School-990101.ics"
    assert first.attachment is not None
    event = Calendar.from_ical(first.attachment).walk("VEVENT")[0]
    assert event.decoded("dtstart").date() == VISIT
    assert str(event["summary"]) == "Peer review visit: Northbrook Primary School"
    _tick_on(cycle_rt, clock, date(2026, 11, 16))
    assert len(_visit_messages(cycle_rt)) == 8  # and the day-before reminders


def test_a_moved_visit_is_reminded_again_and_stale_reminders_are_dropped(
    cycle_rt: Runtime,
    clock: FakeClock,
    smtp: tuple[Mailbox, object],  # noqa: F811
) -> None:
    set_rotation_triads(cycle_rt, CYCLE, URNS)
    plan_visit(cycle_rt, CYCLE, HOST, VISIT)
    _tick_on(cycle_rt, clock, date(2026, 11, 10))
    moved = date(2026, 11, 19)
    visits.schedule(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, on=moved, slot=Slot.AFTERNOON
    )
    _tick_on(cycle_rt, clock, date(2026, 11, 12))
    messages = _visit_messages(cycle_rt)
    assert len(messages) == 8  # four for the old date, four for the new
    mailbox, settings = smtp
    outbox.send_outbox(cycle_rt.acting_as(SCHEDULER), smtp=settings)  # type: ignore[arg-type]
    statuses = {m.message_id: m for m in outbox.list_outbox(cycle_rt)}
    visit_rows = [statuses[m.message_id] for m in messages]
    assert sorted(r.status for r in visit_rows) == ["dropped"] * 4 + ["sent"] * 4
    about_visits = [
        m for m in mailbox.received if str(m["Subject"]).startswith("Reminder: the peer review")
    ]
    assert len(about_visits) == 4
    arrived = about_visits[0]
    [attachment] = list(arrived.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart").date() == moved
    assert int(event["sequence"]) == 1
