"""The outline agenda of a half-day visit, in the times of its slot (morning or afternoon)."""

from __future__ import annotations

from datetime import time

from review_engine.core.domain import Slot
from review_engine.documents.context import AgendaItem

#: (start, end, activity, who) of a usual half-day visit, per slot; inside invites.SLOT_TIMES.
_OUTLINES: dict[Slot, tuple[tuple[time, time, str, str], ...]] = {
    Slot.MORNING: (
        (time(9, 0), time(9, 30), "Welcome and context from the head", "Head"),
        (time(9, 30), time(10, 45), "Learning walk", "Head with the visiting heads"),
        (time(10, 45), time(11, 45), "Interviews with leaders and pupils", "Visiting heads"),
        (time(11, 45), time(12, 10), "Reviewers confer", "Visiting heads"),
        (time(12, 10), time(12, 30), "Feedback to the head", "Visiting heads"),
    ),
    Slot.AFTERNOON: (
        (time(13, 0), time(13, 20), "Welcome and context from the head", "Head"),
        (time(13, 20), time(14, 30), "Learning walk", "Head with the visiting heads"),
        (time(14, 30), time(15, 15), "Interviews with leaders and pupils", "Visiting heads"),
        (time(15, 15), time(15, 40), "Reviewers confer", "Visiting heads"),
        (time(15, 40), time(16, 0), "Feedback to the head", "Visiting heads"),
    ),
}


def outline(slot: Slot) -> tuple[AgendaItem, ...]:
    """The usual outline agenda for a visit in slot: an afternoon visit starts at 13:00."""
    return tuple(AgendaItem(a, what, who, b) for a, b, what, who in _OUTLINES[Slot(slot)])
