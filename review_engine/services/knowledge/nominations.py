"""Nominations of host schools for a topic, and the admin's approval or decline."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import NominationView


def nominate(
    rt: Runtime, *, programme: str, topic: str, school: int, reason: str
) -> NominationView:
    """Nominate a school for a topic (a stakeholder of the programme or an admin)."""
    raise NotImplementedError


def approve(rt: Runtime, *, nomination: int, note: str = "") -> NominationView:
    """Approve a pending nomination: the school may then offer visits in the topic (admin)."""
    raise NotImplementedError


def decline(rt: Runtime, *, nomination: int, note: str) -> NominationView:
    """Decline a pending nomination, saying why (admin)."""
    raise NotImplementedError


def list_nominations(
    rt: Runtime, *, programme: str | None = None, status: str | None = None
) -> list[NominationView]:
    """Nominations the actor may see: an admin all; a stakeholder theirs; a school its own."""
    raise NotImplementedError
