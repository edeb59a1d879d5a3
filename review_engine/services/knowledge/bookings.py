"""Bookings: a school books places for named practitioners; capacity is never oversold; a
cancellation offers the freed place to the first school on the waiting list."""

from __future__ import annotations

from collections.abc import Sequence

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import BookingView, Practitioner


def book(
    rt: Runtime,
    *,
    offer: int,
    practitioners: Sequence[Practitioner],
    questions: str = "",
    school: int | None = None,
) -> BookingView:
    """Book the acting person's school (or, for an admin, `school`) on an offer: confirmed
    while places last, else on the waiting list, in order."""
    raise NotImplementedError


def cancel(rt: Runtime, *, booking: int, reason: str = "") -> BookingView:
    """Cancel a booking (its school, the host or an admin); a freed place goes to the first
    school on the waiting list, which is confirmed and told."""
    raise NotImplementedError


def mark(rt: Runtime, *, booking: int, attended: bool) -> BookingView:
    """Record on or after the visit day whether a confirmed school came (host or admin)."""
    raise NotImplementedError


def show_booking(rt: Runtime, *, booking: int) -> BookingView:
    """One booking (its school, the host, an admin; NotFound for anyone else)."""
    raise NotImplementedError


def school_bookings(rt: Runtime, *, school: int | None = None) -> list[BookingView]:
    """A school's bookings, soonest visit first (its staff, or an admin naming `school`)."""
    raise NotImplementedError


def offer_bookings(rt: Runtime, *, offer: int) -> list[BookingView]:
    """Every booking on an offer, confirmed then waiting in order (host or admin)."""
    raise NotImplementedError
