"""Random bookings, cancellations, holds and resumptions on one visit offer against a real
database: places taken always equal the schools confirmed and never pass the offer's size;
nobody waits while a place is free; the offer is full exactly when its places are taken; a
refused step changes nothing; and each record's log, replayed, gives its stored state."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlmodel import col, select

from review_engine.config import Settings
from review_engine.core.domain import Role
from review_engine.errors import ReviewEngineError
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin, people
from review_engine.services.knowledge import bookings, offers
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkTransition
from review_engine.store.models import School
from review_engine.testing import FakeClock
from tests.integration.knowledge_helpers import build_world, head, make_offer, two

EXTRA = [730000 + n for n in range(4)]
SCHOOLS = [710002, 710003, 710004, 710005, *EXTRA]
_TEMPLATE: tuple[Path, int] | None = None


def _template() -> tuple[Path, int]:
    """A database with the world and one published offer of 3 places, built once."""
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="ik-stateful-"))
        s = Settings(database_url=f"sqlite:///{folder / 'template.sqlite'}", data_dir=folder)
        admin.init_database(s)
        rt = Runtime.open(s, clock=FakeClock(), actor=OPERATOR)
        w = build_world(rt)
        with rt.db.transaction() as session:
            for urn in EXTRA:
                session.add(
                    School(urn=urn, name=f"Extra {urn}", region="North West", phase="Primary")
                )
        for urn in EXTRA:
            people.add_person(rt, email=head(urn), name=f"H{urn}", role=Role.HEAD, school_urn=urn)
        offer = make_offer(w, schools=3)
        rt.db.engine.dispose()
        _TEMPLATE = (folder / "template.sqlite", offer.id)
    return _TEMPLATE


class RandomBookings(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        template, self.offer = _template()
        self.folder = Path(tempfile.mkdtemp(prefix="ik-example-"))
        shutil.copy(template, self.folder / "db.sqlite")
        s = Settings(database_url=f"sqlite:///{self.folder / 'db.sqlite'}", data_dir=self.folder)
        self.rt = Runtime.open(s, clock=FakeClock(), actor=OPERATOR)

    def snapshot(self) -> tuple[tuple[str, int, int], list[tuple[int, int, str]]]:
        with self.rt.db.transaction() as session:
            offer = session.get(IkOffer, self.offer)
            assert offer is not None
            rows = session.exec(
                select(IkBooking.id, IkBooking.school_urn, IkBooking.state)
                .where(IkBooking.offer_id == self.offer)
                .order_by(col(IkBooking.id))
            ).all()
            return (offer.state, offer.places_taken, offer.schools_max), [
                (i or 0, u, st_) for i, u, st_ in rows
            ]

    def attempt(self, step: object) -> None:
        before = self.snapshot()
        try:
            step()  # type: ignore[operator]
        except ReviewEngineError:
            assert self.snapshot() == before, "a refused step changed something"

    @rule(urn=st.sampled_from(SCHOOLS))
    def book(self, urn: int) -> None:
        self.attempt(
            lambda: bookings.book(
                self.rt.acting_as(head(urn)), offer=self.offer, practitioners=two(urn)
            )
        )

    @rule(pick=st.integers(min_value=0, max_value=20), by_host=st.booleans())
    def cancel(self, pick: int, by_host: bool) -> None:
        rows = self.snapshot()[1]
        if not rows:
            return
        booking, urn, _ = rows[pick % len(rows)]
        who = "head@oak.example.org" if by_host else head(urn)
        self.attempt(lambda: bookings.cancel(self.rt.acting_as(who), booking=booking))

    @rule()
    def hold(self) -> None:
        self.attempt(
            lambda: offers.hold(self.rt.acting_as("head@oak.example.org"), offer=self.offer)
        )

    @rule()
    def resume(self) -> None:
        self.attempt(
            lambda: offers.resume(self.rt.acting_as("head@oak.example.org"), offer=self.offer)
        )

    @invariant()
    def places_add_up(self) -> None:
        (state, taken, size), rows = self.snapshot()
        confirmed = sum(s == "confirmed" for _, _, s in rows)
        waiting = sum(s == "waitlisted" for _, _, s in rows)
        assert taken == confirmed <= size
        assert waiting == 0 or confirmed == size, "a school waits while a place is free"
        if state != "held":
            assert (state == "full") == (taken == size)
        active = [u for _, u, s in rows if s in ("confirmed", "waitlisted")]
        assert len(active) == len(set(active)), "a school holds two bookings"

    @invariant()
    def the_log_replays_to_the_state(self) -> None:
        (state, _, _), rows = self.snapshot()
        with self.rt.db.transaction() as session:
            log = session.exec(
                select(IkTransition)
                .where(IkTransition.offer_id == self.offer)
                .order_by(col(IkTransition.id))
            ).all()
        last: dict[tuple[str, int | None], str] = {}
        for r in log:
            key = (r.machine, r.booking_id)
            assert last.get(key, "") == r.from_state, "the log skips a state"
            last[key] = r.to_state
        assert last[("offer", None)] == state
        for booking, _, booked_state in rows:
            assert last[("booking", booking)] == booked_state

    def teardown(self) -> None:
        self.rt.db.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


RandomBookings.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_bookings = RandomBookings.TestCase
