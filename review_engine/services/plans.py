"""Cycle plans: the dated boundaries and deadlines of a cycle, from its cluster's calendar."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from review_engine.clock import as_utc
from review_engine.core import cycle_plan
from review_engine.core.calendar import TermCalendar
from review_engine.core.phases import Part, SupportTrigger
from review_engine.core.relations import Relation
from review_engine.core.safe_text import NAME_MAX, check_text, check_urn
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._context import open_cycle
from review_engine.services.calendars import calendars_for
from review_engine.store.models import Cycle, Review
from review_engine.store.schedule_tables import PlanStep


@dataclass(frozen=True)
class PlanRow:
    kind: str
    what: str
    from_state: str
    to_state: str
    due_on: date
    applied_at: datetime | None


@dataclass(frozen=True)
class PlanView:
    cycle: str
    calendar: str | None
    steps: list[PlanRow]


def cluster_calendar(session: Session, urns: list[int], year: str) -> TermCalendar | None:
    """The calendar most of the schools follow (the cycle's dates come from it)."""
    calendars = calendars_for(session, urns, year)
    if not calendars:
        return None
    counts = Counter(c.name for c in calendars.values())
    name = min(counts, key=lambda n: (-counts[n], n))
    return next(c for c in calendars.values() if c.name == name)


def store_plan(session: Session, cycle: Cycle) -> TermCalendar | None:
    """(Re)compute the cycle's unapplied plan steps; returns the calendar used, if any."""
    urns = list(session.exec(select(Review.school_urn).where(Review.cycle_id == cycle.id)).all())
    calendar = cluster_calendar(session, urns, cycle.academic_year)
    assert cycle.id is not None
    applied = {
        s.position
        for s in session.exec(
            select(PlanStep).where(
                PlanStep.cycle_id == cycle.id, col(PlanStep.applied_at).is_not(None)
            )
        )
    }
    session.execute(
        delete(PlanStep).where(
            col(PlanStep.cycle_id) == cycle.id, col(PlanStep.applied_at).is_(None)
        )
    )
    if calendar is None:
        return None
    definition = compiled_for(session, cycle).definition
    session.add_all(
        PlanStep(
            cycle_id=cycle.id,
            position=s.position,
            kind=s.kind,
            trigger=s.trigger,
            from_state=s.from_state,
            to_state=s.to_state,
            due_on=s.due_on,
        )
        for s in cycle_plan.plan(definition, calendar)
        if s.position not in applied
    )
    return calendar


def show_plan(rt: Runtime, *, cycle: str, refresh: bool = False) -> PlanView:
    """The cycle's plan; `refresh` recomputes the steps not yet applied (after a calendar
    is imported or changed)."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        calendar = None
        if refresh:
            ctx.require(None, {Relation.FACILITATOR}, f"re-plan {ctx.label}")
            calendar = store_plan(session, ctx.cycle)
            session.flush()
        steps = session.exec(
            select(PlanStep)
            .where(PlanStep.cycle_id == ctx.cycle_id)
            .order_by(col(PlanStep.due_on), col(PlanStep.position))
        ).all()
        if calendar is None:
            urns = list(
                session.exec(select(Review.school_urn).where(Review.cycle_id == ctx.cycle_id)).all()
            )
            calendar = cluster_calendar(session, urns, ctx.cycle.academic_year)
        return PlanView(
            cycle=ctx.label,
            calendar=calendar.label if calendar else None,
            steps=[
                PlanRow(
                    s.kind,
                    s.trigger,
                    s.from_state,
                    s.to_state,
                    s.due_on,
                    as_utc(s.applied_at) if s.applied_at else None,
                )
                for s in steps
            ],
        )


# --- a school's support plan, step by step (the support machine) ------------------------------

SUPPORT_STEPS = ("agree_plan", "start", "review_impact", "close")


def move_support_plan(
    rt: Runtime, *, cycle: str, urn: int, step: str, what_changed: str | None = None
) -> str:
    """Move the school's support plan on one step (agreed, started, impact reviewed, closed)
    as the acting person; the impact review says what changed, kept with the step in history.
    Who may, and when, is the workflow's (a plan closes only when its actions are complete)."""
    check_urn(urn)
    check_text(step, "step", max_len=NAME_MAX, multiline=False)
    if step not in SUPPORT_STEPS:
        raise InvalidInput(f"a support plan step is one of: {', '.join(SUPPORT_STEPS)}")
    note = (what_changed or "").strip() or None
    if note is not None:
        check_text(note, "what changed")
    if step == SupportTrigger.REVIEW_IMPACT and note is None:
        raise InvalidInput("say what changed for pupils and staff as a result of the support")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.fire(Part.SUPPORT, step, urn, reason=note)
        return ctx.state(urn, Part.SUPPORT)
