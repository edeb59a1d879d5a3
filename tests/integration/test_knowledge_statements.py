"""A fixed number of statements however big the offer or the programme: booking, cancelling
(with the waiting list moving), an offer's page for its host, a school's bookings, the quality
report and the tick issue as many statements with many records as with few."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from review_engine.core.domain import Role
from review_engine.runtime import Runtime
from review_engine.services import people
from review_engine.services.knowledge import bookings, offers, reminders, report
from review_engine.store.models import School
from tests.integration.knowledge_helpers import World, build_world, head, make_offer, two

MANY = [740000 + n for n in range(14)]


@pytest.fixture
def w(rt: Runtime) -> World:
    world = build_world(rt)
    with rt.db.transaction() as session:
        for urn in MANY:
            session.add(School(urn=urn, name=f"School {urn}", region="North West", phase="Primary"))
    for urn in MANY:
        people.add_person(
            rt.acting_as("operator"), email=head(urn), name=f"H{urn}", role=Role.HEAD,
            school_urn=urn,
        )  # fmt: skip
    return world


@contextmanager
def counted(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


def statements(rt: Runtime, call: Callable[[], object]) -> int:
    with counted(rt) as seen:
        call()
    return len(seen)


def test_statements_do_not_grow_with_the_records(w: World) -> None:
    small = make_offer(w, schools=2, title="Small")
    large = make_offer(w, schools=10, title="Large", on=date(2026, 10, 15))
    bookings.book(w.visitor(MANY[0]), offer=small.id, practitioners=two(MANY[0]))
    for urn in MANY[1:10]:  # nine of ten places taken
        bookings.book(w.visitor(urn), offer=large.id, practitioners=two(urn))

    def book(offer: int, urn: int) -> int:
        return statements(
            w.rt, lambda: bookings.book(w.visitor(urn), offer=offer, practitioners=two(urn))
        )

    assert book(small.id, 710002) == book(large.id, 710003)  # the last place: the offer fills
    for urn in MANY[10:12]:  # two schools already waiting for the large one
        bookings.book(w.visitor(urn), offer=large.id, practitioners=two(urn))
    assert book(small.id, 710004) == book(large.id, 710005)  # joining the waiting list

    few = bookings.offer_bookings(w.host, offer=small.id)
    lots = bookings.offer_bookings(w.host, offer=large.id)
    first_small = next(b for b in few if b.state == "confirmed")
    first_large = next(b for b in lots if b.state == "confirmed")
    cancel_small = statements(
        w.rt,
        lambda: bookings.cancel(
            w.rt.acting_as(head(first_small.school_urn)), booking=first_small.id
        ),
    )
    cancel_large = statements(
        w.rt,
        lambda: bookings.cancel(
            w.rt.acting_as(head(first_large.school_urn)), booking=first_large.id
        ),
    )
    assert cancel_small == cancel_large  # each gives its place to the first school waiting

    # Each offer with schools confirmed and waiting (the small one 2 and 1, the large 10 and 2).
    bookings.book(w.visitor(MANY[12]), offer=small.id, practitioners=two(MANY[12]))
    page = [
        statements(w.rt, lambda o=o: offers.show_offer(w.host, offer=o))
        for o in (small.id, large.id)
    ]
    assert page[0] == page[1]
    bookings.book(w.visitor(710005), offer=small.id, practitioners=two(710005))
    listed = [  # one booking against two
        statements(w.rt, lambda u=u: bookings.school_bookings(w.visitor(u)))
        for u in (MANY[12], 710005)
    ]
    assert listed[0] == listed[1]

    w.rt.clock.set(datetime(2026, 10, 20, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    first_tick = statements(w.rt, lambda: reminders.tick(w.admin))
    again = statements(w.rt, lambda: reminders.tick(w.admin))
    # Closing both offers, taking the waiting off their lists, queueing every reminder due:
    # a bounded number of statements (set-based), and fewer once nothing is left to do.
    assert again < first_tick <= 30
    one = statements(w.rt, lambda: report.quality_report(w.admin))
    make_offer(w, title="Third", on=date(2026, 11, 12), deadline=date(2026, 11, 2), publish=True)
    assert statements(w.rt, lambda: report.quality_report(w.admin)) == one
