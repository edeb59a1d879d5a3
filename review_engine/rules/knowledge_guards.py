"""The guards behind the names in a programme workflow (`core.knowledge.KnowledgeGuard`).

Each takes the `KnowledgeGuardInput` the service built for one trigger (the programme, the
offer, the booking and its school as read under the offer's lock, whether the host is approved
for the topic, today) and returns why not, or None. They read nothing from the database, so a
guard cannot see a state the service did not lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from review_engine.core.knowledge import (
    KnowledgeGuard,
    OfferState,
    RegionRule,
    fits_phases,
    may_book_region,
    phases_words,
    split_phases,
)
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme
from review_engine.store.models import School


@dataclass
class KnowledgeGuardInput:
    programme: IkProgramme
    offer: IkOffer
    today: date
    booking: IkBooking | None = None
    school: School | None = None  # the booking's school
    host_approved: bool = False
    reason: str | None = None


def _offer_complete(c: KnowledgeGuardInput) -> str | None:
    o = c.offer
    if not o.title.strip() or not o.summary.strip():
        return "the offer needs a title and what visitors will see"
    if o.visit_date <= c.today:
        return f"its visit date {o.visit_date:%d %b %Y} has passed; make a new offer"
    if o.booking_deadline < c.today:
        return f"its booking deadline {o.booking_deadline:%d %b %Y} has passed"
    if o.booking_deadline >= o.visit_date:
        return "its booking deadline must come before the visit"
    if o.schools_max < 1 or o.practitioners_per_school < 1:
        return "the offer needs at least one place"
    return None


def _host_approved(c: KnowledgeGuardInput) -> str | None:
    if c.host_approved:
        return None
    return "the host school is not an approved host for this topic (its nomination is not approved)"


def _place_left(c: KnowledgeGuardInput) -> str | None:
    if c.offer.places_taken < c.offer.schools_max:
        return None
    return f"all {c.offer.schools_max} places are taken"


def _no_place_left(c: KnowledgeGuardInput) -> str | None:
    left = c.offer.schools_max - c.offer.places_taken
    return None if left <= 0 else f"{left} place{'s' if left != 1 else ''} left"


def _booking_open(c: KnowledgeGuardInput) -> str | None:
    o = c.offer
    if o.state not in (OfferState.PUBLISHED, OfferState.FULL):
        return "the offer is not open for booking"
    if c.today > o.booking_deadline:
        return f"bookings closed on {o.booking_deadline:%d %b %Y}"
    return None


def _school_eligible(c: KnowledgeGuardInput) -> str | None:
    s = c.school
    if s is None:
        return "no school named"
    if s.urn == c.offer.host_urn:
        return "a host cannot book its own visit"
    if s.is_closed:
        return f"{s.name} is closed"
    if not may_book_region(c.programme.region_rule, s.region, c.offer.region):
        where = s.region or "no region on record"
        return (
            f"{s.name} is in {where}; this programme's visits are for schools in the host's "
            f"own region ({c.offer.region or 'unknown'})"
            if c.programme.region_rule == RegionRule.OWN_REGION
            else f"{s.name} may not book here"
        )
    phases = split_phases(c.offer.phases)
    if not fits_phases(s.phase, phases):
        what = s.phase or "of no known phase"
        return f"this visit suits {phases_words(phases)} schools; {s.name} is {what}"
    return None


def _before_visit_day(c: KnowledgeGuardInput) -> str | None:
    if c.today < c.offer.visit_date:
        return None
    return f"the visit day ({c.offer.visit_date:%d %b %Y}) has come"


def _visit_day_reached(c: KnowledgeGuardInput) -> str | None:
    if c.today >= c.offer.visit_date:
        return None
    return f"the visit is not until {c.offer.visit_date:%d %b %Y}"


KNOWLEDGE_GUARDS: Mapping[str, Callable[[KnowledgeGuardInput], str | None]] = {
    KnowledgeGuard.OFFER_COMPLETE: _offer_complete,
    KnowledgeGuard.HOST_APPROVED: _host_approved,
    KnowledgeGuard.PLACE_LEFT: _place_left,
    KnowledgeGuard.NO_PLACE_LEFT: _no_place_left,
    KnowledgeGuard.BOOKING_OPEN: _booking_open,
    KnowledgeGuard.SCHOOL_ELIGIBLE: _school_eligible,
    KnowledgeGuard.BEFORE_VISIT_DAY: _before_visit_day,
    KnowledgeGuard.VISIT_DAY_REACHED: _visit_day_reached,
}
assert set(KNOWLEDGE_GUARDS) == {g.value for g in KnowledgeGuard}
