"""Feedback on the day (visiting schools and the host) and the visitor's later reflection
on what it changed in its practice."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import FeedbackDue, FeedbackView


def give(
    rt: Runtime,
    *,
    offer: int,
    rating: int,
    comment: str = "",
    school: int | None = None,
) -> FeedbackView:
    """Feedback on the day: from an attending school (kind visitor) or the host (kind host)."""
    raise NotImplementedError


def reflect(
    rt: Runtime,
    *,
    offer: int,
    changed_practice: bool,
    what_changed: str = "",
    comment: str = "",
    school: int | None = None,
) -> FeedbackView:
    """An attending school's reflection, from the programme's reflection weeks after the visit
    on (what it changed is needed when it says it changed its practice)."""
    raise NotImplementedError


def list_feedback(rt: Runtime, *, offer: int) -> list[FeedbackView]:
    """Feedback on an offer (host, admin; a visiting school sees its own)."""
    raise NotImplementedError


def due(rt: Runtime, *, school: int | None = None) -> list[FeedbackDue]:
    """Feedback and reflections a school owes (its staff, or an admin naming `school`)."""
    raise NotImplementedError
