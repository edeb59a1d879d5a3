"""Fifty schools book the last three places of one visit at the same moment, each in its own
thread and session: exactly three are confirmed, the other forty-seven wait in the order they
came, and the offer is full. On PostgreSQL (the offer row locked FOR UPDATE) and SQLite
(writers one at a time under BEGIN IMMEDIATE); the PostgreSQL run skips without a server."""

from __future__ import annotations

import threading

from sqlmodel import col, select

from review_engine.core.domain import Role
from review_engine.errors import ReviewEngineError
from review_engine.runtime import Runtime
from review_engine.services.knowledge import bookings, offers
from review_engine.services.knowledge.views import BookingView
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkTransition
from review_engine.store.models import Person, School
from tests.integration.knowledge_helpers import VISITORS, build_world, make_offer, two

RACERS = 50


def _racing_schools(rt: Runtime) -> list[str]:
    """Fifty more North West primaries, each with a head (written directly: set-up only)."""
    heads = []
    with rt.db.transaction() as session:
        for i in range(RACERS):
            urn = 720000 + i
            session.add(
                School(
                    urn=urn,
                    name=f"Racer {i:02d} Primary",
                    region="North West",
                    phase="Primary",
                    easting=380000 + i * 100,
                    northing=395000,
                    status="Open",
                )
            )
            heads.append(f"head@racer{i}.example.org")
        session.flush()
        for i, email in enumerate(heads):
            session.add(
                Person(email=email, name=f"Head {i}", role=Role.HEAD.value, school_urn=720000 + i)
            )
    return heads


def test_fifty_schools_race_for_the_last_three_places(rt: Runtime) -> None:
    w = build_world(rt)
    offer = make_offer(w, schools=5)
    for urn in VISITORS[:2]:  # two places gone: three left
        bookings.book(w.visitor(urn), offer=offer.id, practitioners=two(urn))
    heads = _racing_schools(rt)
    barrier = threading.Barrier(RACERS)
    results: dict[str, BookingView | ReviewEngineError] = {}
    lock = threading.Lock()

    def race(email: str, urn: int) -> None:
        barrier.wait()
        try:
            done: BookingView | ReviewEngineError = bookings.book(
                rt.acting_as(email), offer=offer.id, practitioners=two(urn)
            )
        except ReviewEngineError as exc:
            done = exc
        with lock:
            results[email] = done

    threads = [
        threading.Thread(target=race, args=(email, 720000 + i)) for i, email in enumerate(heads)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results.values() if isinstance(r, ReviewEngineError)]
    assert errors == []
    views = [r for r in results.values() if isinstance(r, BookingView)]
    confirmed = sorted(v.id for v in views if v.state == "confirmed")
    waiting = sorted((v for v in views if v.state == "waitlisted"), key=lambda v: v.id)
    assert len(confirmed) == 3
    assert len(waiting) == RACERS - 3
    # In order: the places went to the first three through the lock, and each school waiting
    # was told its place in the queue as it joined (1, 2, 3...), in the order it came.
    assert max(confirmed) < waiting[0].id
    assert [v.waitlist_position for v in waiting] == list(range(1, RACERS - 2))

    with rt.db.transaction() as session:
        row = session.get(IkOffer, offer.id)
        assert row is not None
        assert (row.places_taken, row.state) == (5, "full")
        states = session.exec(select(IkBooking.state).where(IkBooking.offer_id == offer.id)).all()
        assert sorted(states).count("confirmed") == 5
        logged = session.exec(
            select(IkTransition.trigger).where(
                IkTransition.offer_id == offer.id,
                col(IkTransition.machine) == "booking",
                col(IkTransition.trigger).in_(("confirm", "waitlist")),
            )
        ).all()
        assert logged.count("confirm") == 5 and logged.count("waitlist") == RACERS - 3
    shown = offers.show_offer(w.host, offer=offer.id)
    assert shown.offer.places_left == 0 and shown.offer.waiting == RACERS - 3
    queue = [b for b in shown.bookings if b.state == "waitlisted"]
    assert [b.id for b in queue] == [v.id for v in waiting]
