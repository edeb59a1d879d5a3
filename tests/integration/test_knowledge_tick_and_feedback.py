"""Inside Knowledge with the rest of the service: the scheduler's tick runs its reconcile
(reminders queued once, a dry run changing nothing), and a school that booked reads its own
feedback on an offer before the visit, while others still learn nothing of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from review_engine.errors import NotFound
from review_engine.runtime import Runtime
from review_engine.services.knowledge import bookings, feedback
from review_engine.services.tick import tick
from review_engine.store.schedule_tables import OutboxMessage
from tests.integration.knowledge_helpers import (
    HOST,
    VISITORS,
    World,
    build_world,
    head,
    make_offer,
    two,
)

A, B, C, D = VISITORS
WEEK_BEFORE = datetime(2026, 10, 7, 9, tzinfo=UTC)  # the offer's visit is on 14 Oct 2026


@pytest.fixture
def w(rt: Runtime) -> World:
    return build_world(rt)


def _notices(rt: Runtime) -> list[tuple[str | None, str]]:
    with rt.db.transaction() as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [(m.notice, m.recipient) for m in rows]


def test_a_scheduler_tick_queues_the_visit_reminder_once(w: World) -> None:
    offer = make_offer(w)
    bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    scheduler = w.rt.acting_as("scheduler")
    before = _notices(w.rt)

    rehearsed = tick(scheduler, now=WEEK_BEFORE, dry_run=True)
    assert rehearsed.visit_notices > 0
    assert _notices(w.rt) == before  # a dry run changes nothing
    assert tick(scheduler).visit_notices == 0  # a week earlier: nothing due yet

    w.rt.clock.set(WEEK_BEFORE)  # type: ignore[attr-defined]
    report = tick(scheduler)
    reminders = [n for n in _notices(w.rt) if n[0] == "ik_reminder"]
    assert (head(A)) in {to for _, to in reminders}
    assert report.visit_notices == rehearsed.visit_notices == len(_notices(w.rt)) - len(before)
    assert f"Inside Knowledge: 0 past offers closed, {report.visit_notices} reminders" in str(
        report
    )
    again = tick(scheduler)
    assert (again.offers_closed, again.visit_notices) == (0, 0)
    assert "Inside Knowledge" not in str(again)
    assert len(_notices(w.rt)) == len(before) + report.visit_notices


def test_a_tick_after_the_visit_day_closes_the_offer(w: World) -> None:
    offer = make_offer(w)
    bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    w.rt.clock.set(datetime(2026, 10, 16, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    report = tick(w.rt.acting_as("scheduler"))
    assert report.offers_closed == 1
    assert "Inside Knowledge: 1 past offers closed" in str(report)
    feedback_due = [to for notice, to in _notices(w.rt) if notice == "ik_feedback_due"]
    assert head(A) in feedback_due


def test_a_booked_school_reads_its_own_feedback_before_the_visit(w: World) -> None:
    offer = make_offer(w, schools=1)
    confirmed = bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    waiting = bookings.book(w.visitor(B), offer=offer.id, practitioners=two(B))
    assert (confirmed.state, waiting.state) == ("confirmed", "waitlisted")
    assert feedback.list_feedback(w.visitor(A), offer=offer.id) == []
    assert feedback.list_feedback(w.visitor(B), offer=offer.id) == []
    assert feedback.list_feedback(w.host, offer=offer.id) == []
    for outsider in (w.visitor(C), w.rt.acting_as("web"), w.officer):
        with pytest.raises(NotFound):
            feedback.list_feedback(outsider, offer=offer.id)


def test_a_visiting_school_reads_its_own_feedback_only(w: World) -> None:
    offer = make_offer(w)
    bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    bookings.book(w.visitor(B), offer=offer.id, practitioners=two(B))
    w.rt.clock.set(datetime(2026, 10, 14, 13, tzinfo=UTC))  # type: ignore[attr-defined]
    feedback.give(w.visitor(A), offer=offer.id, rating=5, comment="Practical")
    feedback.give(w.host, offer=offer.id, rating=4, comment="Good questions")
    assert [f.comment for f in feedback.list_feedback(w.visitor(A), offer=offer.id)] == [
        "Practical"
    ]
    assert feedback.list_feedback(w.visitor(B), offer=offer.id) == []
    assert len(feedback.list_feedback(w.host, offer=offer.id)) == 2
    with pytest.raises(NotFound):
        feedback.list_feedback(w.visitor(D), offer=offer.id)
    assert HOST not in {f.school_urn for f in feedback.list_feedback(w.visitor(A), offer=offer.id)}
