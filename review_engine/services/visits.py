"""Visit plans: the host's focus and enquiry question, the date and half-day slot (checked
against the term calendars of the host and its visitors), the agenda, and completion."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from review_engine.clock import to_london
from review_engine.core.domain import Slot, VisitFocus
from review_engine.core.phases import Part, VisitState, VisitTrigger
from review_engine.core.safe_text import NAME_MAX, check_day, check_name, check_text, check_urn
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services._context import CycleContext, open_cycle
from review_engine.services.calendars import calendars_for
from review_engine.store.phase_tables import VisitPlan


@dataclass(frozen=True)
class AgendaItem:
    time: str
    activity: str
    who: str


@dataclass(frozen=True)
class VisitView:
    cycle: str
    host: int
    host_name: str
    state: str
    focus: str | None
    focus_area: str | None
    enquiry_question: str | None
    visit_date: date | None
    slot: str | None
    agenda: list[AgendaItem]
    host_staff: list[str]
    visitors: list[str]
    lead: str | None
    sequence: int
    warnings: list[str] = field(default_factory=list)


MAX_AGENDA = 100


def _plan(ctx: CycleContext, host: int) -> VisitPlan:
    review = ctx.review(host)
    plan = ctx.records.visit_plan(review)
    if plan is None:
        assert review.id is not None
        plan = VisitPlan(review_id=review.id)
        ctx.records.note_visit_plan(plan)
    return plan


def set_focus(
    rt: Runtime,
    *,
    cycle: str,
    host: int,
    focus: VisitFocus,
    question: str,
    area: str | None = None,
) -> VisitView:
    """The host decides what its visit looks at, and the question it asks."""
    check_urn(host)
    check_text(question, "enquiry question")
    if area is not None:
        check_name(area, "focus area")
    question = question.strip()
    if not question:
        raise InvalidInput("the enquiry question is empty (e.g. 'To what extent ...?')")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        ctx.require_actor_of(
            Part.PEER_VISIT, VisitTrigger.AGREE_FOCUS, host, f"set the focus of the visit to {host}"
        )
        state = ctx.state(host, Part.PEER_VISIT)
        if state in (VisitState.VISITED, VisitState.CANCELLED):
            raise InvalidInput(f"{ctx.label} school {host}: the visit is {state}")
        plan = _plan(ctx, host)
        plan.focus, plan.enquiry_question, plan.focus_area = focus.value, question, area
        session.add(plan)
        session.flush()
        if state == VisitState.TRIAD_ASSIGNED:
            ctx.fire(Part.PEER_VISIT, VisitTrigger.AGREE_FOCUS, host)
        return _view(ctx, host)


def schedule(rt: Runtime, *, cycle: str, host: int, on: date, slot: Slot) -> VisitView:
    """Date the visit; a day the host or a visitor is closed is refused with the reason."""
    check_urn(host)
    check_day(on, "visit date")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        ctx.require_actor_of(
            Part.PEER_VISIT, VisitTrigger.SCHEDULE, host, f"schedule the visit to {host}"
        )
        visitors = [p.visitor_urn for p in ctx.records.places(host)]
        warnings = _check_date(ctx, host, visitors, on)
        state = ctx.state(host, Part.PEER_VISIT)
        plan = _plan(ctx, host)
        plan.visit_date, plan.slot = on, slot.value
        if state == VisitState.SCHEDULED:
            plan.sequence += 1
        session.add(plan)
        session.flush()
        trigger = (
            VisitTrigger.RESCHEDULE if state == VisitState.SCHEDULED else VisitTrigger.SCHEDULE
        )
        ctx.fire(Part.PEER_VISIT, trigger, host)
        view = _view(ctx, host)
        return VisitView(**{**view.__dict__, "warnings": warnings})


def _check_date(ctx: CycleContext, host: int, visitors: list[int], on: date) -> list[str]:
    first_year = int(ctx.cycle.academic_year[:4])
    check_day(on, "visit date", low=date(first_year - 1, 9, 1), high=date(first_year + 2, 8, 31))
    if on.weekday() >= 5:
        raise InvalidInput(f"{on:%A %d %B %Y} is a weekend")
    calendars = calendars_for(ctx.session, [host, *visitors], ctx.cycle.academic_year)
    names = ctx.records.school_names({host, *visitors})
    for urn in [host, *visitors]:
        calendar = calendars.get(urn)
        if calendar is None:
            continue
        closure = calendar.closure_on(on)
        if closure is not None:
            raise InvalidInput(
                f"{names.get(urn, urn)} is closed on {on:%a %d %b %Y} ({closure.label})"
            )
        if calendar.half_term_of(on) is None:
            raise InvalidInput(f"{names.get(urn, urn)} is on holiday on {on:%a %d %b %Y}")
    warnings = []
    window = _peer_review_window(ctx)
    if window and not (window[0] <= on <= window[1]):
        warnings.append(
            f"{on:%d %b %Y} is outside the cycle's peer-review window "
            f"({window[0]:%d %b} to {window[1]:%d %b %Y})"
        )
    return warnings


def _peer_review_window(ctx: CycleContext) -> tuple[date, date] | None:
    from review_engine.store.schedule_tables import PlanStep

    steps = ctx.session.exec(
        select(PlanStep).where(PlanStep.cycle_id == ctx.cycle_id, PlanStep.kind == "boundary")
    ).all()
    opens = next((s.due_on for s in steps if s.to_state == "peer_review"), None)
    closes = next((s.due_on for s in steps if s.from_state == "peer_review"), None)
    if opens and closes:
        return opens, closes
    return None


def set_agenda(
    rt: Runtime, *, cycle: str, host: int, items: list[AgendaItem], host_staff: list[str]
) -> VisitView:
    """The outline agenda agreed in advance: time, activity, who; and host staff taking part."""
    check_urn(host)
    if len(items) > MAX_AGENDA or len(host_staff) > MAX_AGENDA:
        raise InvalidInput(f"an agenda has at most {MAX_AGENDA} items and {MAX_AGENDA} staff")
    for n, item in enumerate(items, start=1):
        check_text(item.time, f"agenda item {n} time", max_len=NAME_MAX, multiline=False)
        check_text(item.activity, f"agenda item {n} activity")
        check_text(item.who, f"agenda item {n} who", max_len=NAME_MAX)
    for n, person in enumerate(host_staff, start=1):
        check_name(person, f"host staff {n}")
    if not items:
        raise InvalidInput("an agenda needs at least one item (TIME|ACTIVITY|WHO)")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        ctx.require_actor_of(
            Part.PEER_VISIT, VisitTrigger.SCHEDULE, host, f"set the agenda of the visit to {host}"
        )
        plan = _plan(ctx, host)
        plan.agenda = [vars(i) for i in items]
        plan.host_staff = host_staff
        session.add(plan)
        return _view(ctx, host)


def complete(rt: Runtime, *, cycle: str, host: int, on: date | None = None) -> VisitView:
    """The visit happened."""
    check_urn(host)
    if on is not None:
        check_day(on, "visit day")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        ctx.require_actor_of(  # before its date is shown
            Part.PEER_VISIT, VisitTrigger.COMPLETE, host, f"record the visit to {host}"
        )
        plan = _plan(ctx, host)
        plan.visited_on = on or plan.visit_date or to_london(ctx.now).date()
        session.add(plan)
        session.flush()
        ctx.fire(Part.PEER_VISIT, VisitTrigger.COMPLETE, host)  # not before the day (a guard)
        return _view(ctx, host)


def cancel(rt: Runtime, *, cycle: str, host: int, reason: str) -> VisitView:
    check_urn(host)
    check_text(reason, "reason")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        ctx.require_actor_of(
            Part.PEER_VISIT, VisitTrigger.CANCEL, host, f"cancel the visit to {host}"
        )
        plan = _plan(ctx, host)
        plan.cancelled = True
        plan.sequence += 1
        session.add(plan)
        session.flush()
        ctx.fire(Part.PEER_VISIT, VisitTrigger.CANCEL, host, reason=reason)
        return _view(ctx, host)


def show(rt: Runtime, *, cycle: str, host: int) -> VisitView:
    """A visit plan, for the host, its reviewers and the facilitator."""
    check_urn(host)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        ctx.require_visible(host, "the visit plan")
        return _view(ctx, host)


def _view(ctx: CycleContext, host: int) -> VisitView:
    plan = _plan(ctx, host)
    places = ctx.records.places(host)
    names = ctx.records.school_names({host, *(p.visitor_urn for p in places)})
    lead = next((p.visitor_urn for p in places if p.is_lead), None)
    return VisitView(
        cycle=ctx.label,
        host=host,
        host_name=names.get(host, str(host)),
        state=ctx.state(host, Part.PEER_VISIT),
        focus=plan.focus,
        focus_area=plan.focus_area,
        enquiry_question=plan.enquiry_question,
        visit_date=plan.visit_date,
        slot=plan.slot,
        agenda=[AgendaItem(**i) for i in plan.agenda],
        host_staff=list(plan.host_staff),
        visitors=[names.get(p.visitor_urn, str(p.visitor_urn)) for p in places],
        lead=names.get(lead) if lead else None,
        sequence=plan.sequence,
    )
