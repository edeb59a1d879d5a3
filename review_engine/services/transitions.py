"""`review trigger`: fire one raw trigger on a cycle or a school's phase machine.

It goes through the same `CycleContext.fire` as every phase command, so the workflow's
`actors:` and guards apply exactly as they do there: a raw trigger cannot skip a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from review_engine.core.engine import Fired
from review_engine.runtime import Runtime
from review_engine.services._context import open_cycle


def fire(
    rt: Runtime,
    *,
    cycle: str,
    machine: str,
    trigger: str,
    school_urn: int | None = None,
    reason: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Fired:
    """Fire one trigger on a cycle (or one school's phase machine) as the acting person."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        return ctx.fire(machine, trigger, school_urn, reason=reason, options=options)
