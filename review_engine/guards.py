"""Guards named by workflow files, resolved from one registry.

A guard looks at the record a trigger is fired on and returns None to allow the transition,
or a sentence saying why not (which becomes a GuardRejected error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from review_engine.models import Cycle, Review


@dataclass
class GuardContext:
    """What a guard may look at: the cycle, the school's review and its phase states."""

    session: Session
    cycle: Cycle
    review: Review | None
    states: Mapping[str, str]
    actor: str
    reason: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


Guard = Callable[[GuardContext], str | None]
GUARDS: dict[str, Guard] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a guard under the name workflow files use."""

    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        return fn

    return register


@guard("visit_happened")
def _visit_happened(ctx: GuardContext) -> str | None:
    state = ctx.states.get("peer_visit")
    if state != "visited":
        return f"the visit has not happened yet (peer visit is {state})"
    return None
