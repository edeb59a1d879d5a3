"""Visit offers: a host makes them, publishes, holds, resumes, closes or cancels them."""

from __future__ import annotations

from datetime import date

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import OfferDetail, OfferView


def create_offer(
    rt: Runtime,
    *,
    programme: str,
    topic: str,
    title: str,
    summary: str,
    visit_date: date,
    slot: str,
    schools: int,
    practitioners: int,
    booking_deadline: date,
    phases: str = "",
    host: int | None = None,
) -> OfferView:
    """A draft offer by an approved host for a topic (host staff, or an admin naming `host`)."""
    raise NotImplementedError


def publish(rt: Runtime, *, offer: int) -> OfferView:
    """Put a draft offer in the prospectus (host or admin)."""
    raise NotImplementedError


def hold(rt: Runtime, *, offer: int, reason: str = "") -> OfferView:
    """Take an offer out of the prospectus for now (host or admin); bookings stay."""
    raise NotImplementedError


def resume(rt: Runtime, *, offer: int) -> OfferView:
    """Put a held offer back (full again at once if every place is taken)."""
    raise NotImplementedError


def close(rt: Runtime, *, offer: int) -> OfferView:
    """Close an offer once its visit day has come (host, admin, or the reminders' tick)."""
    raise NotImplementedError


def cancel(rt: Runtime, *, offer: int, reason: str) -> OfferView:
    """Cancel an offer before its day; every booking on it is cancelled and told (host, admin)."""
    raise NotImplementedError


def show_offer(rt: Runtime, *, offer: int) -> OfferDetail:
    """One offer as the actor may see it (anyone for a listed offer; a draft, held or
    cancelled offer only for its host and admins: NotFound for others)."""
    raise NotImplementedError


def host_offers(rt: Runtime, *, school: int | None = None) -> list[OfferView]:
    """Every offer a host school made (its staff, or an admin naming `school`)."""
    raise NotImplementedError
