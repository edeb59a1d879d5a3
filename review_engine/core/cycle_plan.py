"""A cycle's dated plan: the workflow's boundaries and deadlines, put on a term calendar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from review_engine.core.calendar import TermCalendar, resolve_boundary
from review_engine.core.workflow import WorkflowDef
from review_engine.errors import InvalidInput


@dataclass(frozen=True)
class DatedStep:
    position: int
    kind: str  # "boundary" or "deadline"
    trigger: str  # the cycle trigger, or the machine whose work is due
    from_state: str
    to_state: str
    due_on: date


def boundary_date(calendar: TermCalendar, spec: Mapping[str, Any]) -> date:
    """A date from a workflow spec; `after: true` means the calendar day after."""
    after = bool(spec.get("after"))
    day = resolve_boundary(calendar, spec={k: v for k, v in spec.items() if k != "after"})
    return day + timedelta(days=1) if after else day


def plan(definition: WorkflowDef, calendar: TermCalendar) -> list[DatedStep]:
    """Every boundary of the cycle, and every fixed-date deadline, dated on this calendar."""
    steps = [
        DatedStep(n, "boundary", b.trigger, b.from_state, b.to_state, boundary_date(calendar, b.at))
        for n, b in enumerate(definition.plan, start=1)
    ]
    position = len(steps)
    for machine, spec in definition.deadlines.items():
        if "school_days_after_visit" in spec:
            continue  # relative to each visit: worked out by the tick
        position += 1
        when = {k: v for k, v in spec.items() if k != "done"}
        steps.append(
            DatedStep(position, "deadline", machine, "", "", boundary_date(calendar, when))
        )
    return steps


def due_after_visit(calendar: TermCalendar | None, visited: date, days: int) -> date:
    """N school days after a visit (calendar days when no term calendar is known)."""
    if calendar is None:
        return visited + timedelta(days=days)
    try:
        return calendar.add_school_days(visited, n=days)
    except InvalidInput:  # past the end of the calendar's year
        return visited + timedelta(days=days)
