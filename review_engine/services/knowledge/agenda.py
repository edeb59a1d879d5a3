"""The outline agenda: visiting schools propose questions, the host publishes the agenda,
each confirmed school acknowledges it."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import AgendaView, BookingView, QuestionView


def propose(rt: Runtime, *, booking: int, text: str) -> QuestionView:
    """A question or item for the agenda from a booked school (its staff, or an admin)."""
    raise NotImplementedError


def publish_agenda(rt: Runtime, *, offer: int, text: str) -> AgendaView:
    """Publish (or republish) the outline agenda; confirmed schools are told (host, admin)."""
    raise NotImplementedError


def acknowledge(rt: Runtime, *, booking: int) -> BookingView:
    """A confirmed school acknowledges the agenda as now published (its staff, an admin)."""
    raise NotImplementedError


def show_agenda(rt: Runtime, *, offer: int) -> AgendaView:
    """The agenda with its proposed questions (host, admin, booked schools; NotFound else)."""
    raise NotImplementedError
