"""What a signed-in person has to do in Inside Knowledge (a page's "my visits")."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import MyInsideKnowledge


def my_inside_knowledge(rt: Runtime, *, programme: str | None = None) -> MyInsideKnowledge:
    """The acting person's school's offers and bookings, feedback it owes, the topics it may
    offer; for an admin, nominations to decide. NotPermitted for nobody (not signed in)."""
    raise NotImplementedError
