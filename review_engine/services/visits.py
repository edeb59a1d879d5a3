"""Visit plans: the host's focus and enquiry question, the date and half-day slot (checked
against the term calendars of the host and its visitors), the agenda, and completion."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlmodel import col, select

from review_engine.clock import to_london
from review_engine.core.calendar import common_open_days, is_bank_holiday
from review_engine.core.domain import Slot, VisitFocus
from review_engine.core.frameworks import Framework, get_framework
from review_engine.core.phases import Part, VisitState, VisitTrigger
from review_engine.core.relations import Relation
from review_engine.core.safe_text import NAME_MAX, check_day, check_name, check_text, check_urn
from review_engine.documents.invites import SLOT_TIMES
from review_engine.errors import FormRejected, InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._context import CycleContext, open_cycle
from review_engine.services.calendars import calendars_for
from review_engine.store.models import Review, TransitionLog
from review_engine.store.phase_tables import TriadPlace, VisitPlan


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
        if area is not None:
            area = framework_area(get_framework(ctx.cluster.framework), area)
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
        _check_slot_free(ctx, host, visitors, on, slot)
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
        items = [
            AgendaItem(agenda_time(i.time, plan.slot, f"agenda item {n}"), i.activity, i.who)
            for n, i in enumerate(items, start=1)
        ]
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


# --- the web pages ----------------------------------------------------------------------------

_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True)
class VisitPage:
    """Everything the visit page shows to one person, read in one transaction."""

    visit: VisitView
    areas: list[tuple[str, str]]  # the framework's areas: key, title
    may_plan: bool  # the host's staff or the facilitator, while the visit is to come
    is_host: bool
    is_facilitator: bool
    is_reviewer: bool
    is_lead: bool
    days: list[date]  # days every school of the triad is open, in the peer-review window
    window: tuple[date, date] | None
    today: date
    host_sef_submitted: bool
    cancel_reason: str | None


def _candidate_days(ctx: CycleContext, host: int, window: tuple[date, date] | None) -> list[date]:
    visitors = [p.visitor_urn for p in ctx.records.places(host)]
    today = to_london(ctx.now).date()
    if window is None:
        first_year = int(ctx.cycle.academic_year[:4])
        window = (date(first_year, 9, 1), date(first_year + 1, 7, 31))
    start, end = max(window[0], today), window[1]
    if start > end:
        return []
    calendars = calendars_for(ctx.session, [host, *visitors], ctx.cycle.academic_year)
    if calendars:
        return common_open_days(calendars.values(), start=start, end=end)
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5 and not is_bank_holiday(d)]


def visit_page(rt: Runtime, *, cycle: str, host: int) -> VisitPage:
    """The visit page of a host: for its staff, its reviewers and the facilitator; anyone
    else is told it was not found."""
    check_urn(host)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        machine = ctx.phase(Part.PEER_VISIT)
        review = _require_seen(ctx, host)
        relations = ctx.relations(host)
        planners = {
            a for t in machine.transitions if t.trigger == VisitTrigger.SCHEDULE for a in t.actors
        }
        state = ctx.state(host, Part.PEER_VISIT)
        window = _peer_review_window(ctx)
        view = _view(ctx, host)
        days = _candidate_days(ctx, host, window)
        if view.visit_date is not None and view.visit_date not in days:
            days = sorted([*days, view.visit_date])
        sef_part = ctx.definition.parts.get(Part.SELF_REVIEW)
        host_sef = bool(sef_part) and ctx.records.sef_versions(review) > 0
        reason = None
        if state == VisitState.CANCELLED:
            reason = session.exec(
                select(TransitionLog.reason)
                .where(
                    TransitionLog.cycle_id == ctx.cycle_id,
                    TransitionLog.school_urn == host,
                    TransitionLog.machine == machine.name,
                    TransitionLog.trigger == VisitTrigger.CANCEL,
                )
                .order_by(col(TransitionLog.id).desc())
                .limit(1)
            ).first()
        return VisitPage(
            visit=view,
            areas=[(a.key, a.title) for a in get_framework(ctx.cluster.framework).areas],
            may_plan=policy.allows(relations, planners)
            and state not in (VisitState.VISITED, VisitState.CANCELLED),
            is_host=Relation.SCHOOL in relations,
            is_facilitator=Relation.FACILITATOR in relations,
            is_reviewer=Relation.REVIEWER in relations,
            is_lead=Relation.LEAD_REVIEWER in relations,
            days=days,
            window=window,
            today=to_london(ctx.now).date(),
            host_sef_submitted=host_sef,
            cancel_reason=reason,
        )


def set_focus_form(
    rt: Runtime, *, cycle: str, host: int, focus: str, area: str, question: str
) -> VisitView:
    """The focus form: what the visit looks at, the area, the enquiry question; problems
    raise FormRejected keyed by field (focus, area, question)."""
    areas = _check_seen(rt, cycle, host)
    problems: dict[str, str] = {}
    chosen = next((f for f in VisitFocus if f.value == focus), None)
    if chosen is None:
        problems["focus"] = "choose what the visit will look at"
    if area and area not in areas:
        problems["area"] = "choose one of the framework's areas, or none"
    question = question.strip()
    if not question:
        problems["question"] = "write the enquiry question the visit should answer"
    else:
        try:
            check_text(question, "the enquiry question")
        except InvalidInput as exc:
            problems["question"] = exc.message
    if problems or chosen is None:
        raise FormRejected(problems, what="the focus")
    return set_focus(rt, cycle=cycle, host=host, focus=chosen, question=question, area=area or None)


def schedule_form(rt: Runtime, *, cycle: str, host: int, day: str, slot: str) -> VisitView:
    """The date form: a day (YYYY-MM-DD) and a half-day; problems (a day someone is closed
    included) raise FormRejected keyed by field (visit_date, slot)."""
    _check_seen(rt, cycle, host)
    problems: dict[str, str] = {}
    try:
        on: date | None = date.fromisoformat(day.strip())
    except ValueError:
        on = None
        problems["visit_date"] = "choose a day for the visit"
    chosen = next((s for s in Slot if s.value == slot), None)
    if chosen is None:
        problems["slot"] = "choose morning or afternoon"
    if problems or on is None or chosen is None:
        raise FormRejected(problems, what="the date")
    try:
        return schedule(rt, cycle=cycle, host=host, on=on, slot=chosen)
    except InvalidInput as exc:
        raise FormRejected({"visit_date": exc.message}, what="the date") from exc


def set_agenda_form(rt: Runtime, *, cycle: str, host: int, rows: list[dict[str, str]]) -> VisitView:
    """The agenda form: rows of time (HH:MM, inside the visit's half-day once it has one),
    activity and who; blank rows are left out. Each bad row raises one line, keyed
    ``agenda.<n>`` (its position, from 1), in FormRejected."""
    _check_seen(rt, cycle, host)
    view = show(rt, cycle=cycle, host=host)
    bounds = SLOT_TIMES.get(Slot(view.slot)) if view.slot else None
    problems: dict[str, str] = {}
    items: list[tuple[str, AgendaItem]] = []
    for n, row in enumerate(rows, start=1):
        at, activity, who = (row.get(k, "").strip() for k in ("time", "activity", "who"))
        if not (at or activity or who):
            continue
        match = _TIME.match(at)
        where = f"row {n}"
        if not at:
            problems[f"agenda.{n}"] = f"{where}: give a time as HH:MM, e.g. 09:15"
        elif match is None:
            problems[f"agenda.{n}"] = (
                f"{where}: {at!r} is not a time; write it as HH:MM, e.g. 09:15"
            )
        elif bounds and not (bounds[0] <= time(int(match[1]), int(match[2])) <= bounds[1]):
            problems[f"agenda.{n}"] = (
                f"{where}: {at} is outside the {view.slot} visit "
                f"({bounds[0]:%H:%M} to {bounds[1]:%H:%M})"
            )
        elif not activity:
            problems[f"agenda.{n}"] = f"{where}: say what happens at {at}"
        else:
            try:
                check_text(activity, f"{where} activity")
                check_text(who, f"{where} who", max_len=NAME_MAX)
            except InvalidInput as exc:
                problems[f"agenda.{n}"] = exc.message
                continue
            hhmm = f"{int(match[1]):02d}:{match[2]}"
            items.append((hhmm, AgendaItem(hhmm, activity, who)))
    if not problems and not items:
        problems["agenda"] = "add at least one row: a time and what happens"
    if len(items) > MAX_AGENDA:
        problems["agenda"] = f"an agenda has at most {MAX_AGENDA} rows"
    if problems:
        raise FormRejected(problems, what="the agenda")
    ordered = [item for _, item in sorted(items, key=lambda pair: pair[0])]
    return set_agenda(rt, cycle=cycle, host=host, items=ordered, host_staff=view.host_staff)


def complete_form(rt: Runtime, *, cycle: str, host: int) -> VisitView:
    """Record the visit as held (from its day on)."""
    _check_seen(rt, cycle, host)
    return complete(rt, cycle=cycle, host=host)


def cancel_form(rt: Runtime, *, cycle: str, host: int, reason: str) -> VisitView:
    """Cancel the visit; the reason is required and kept in its history."""
    _check_seen(rt, cycle, host)
    if not reason.strip():
        raise FormRejected({"reason": "say why the visit is cancelled"}, what="the cancellation")
    try:
        check_text(reason, "the reason")
    except InvalidInput as exc:
        raise FormRejected({"reason": exc.message}, what="the cancellation") from exc
    return cancel(rt, cycle=cycle, host=host, reason=reason.strip())


def _check_seen(rt: Runtime, cycle: str, host: int) -> set[str]:
    """Refuse, as not found, anyone who may not see the visit; the framework's area keys."""
    check_urn(host)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.PEER_VISIT)
        _require_seen(ctx, host)
        return {a.key for a in get_framework(ctx.cluster.framework).areas}


def _require_seen(ctx: CycleContext, host: int) -> Review:
    """The host's review, if the actor may see its visit; else exactly what a school that is
    not in the cycle answers (a hidden record must look like one that does not exist)."""
    review = ctx.review(host)
    try:
        ctx.require_visible(host, "the visit plan")
    except NotPermitted:
        raise NotFound("school", host, f"it is not part of cycle {ctx.label}") from None
    return review


def agenda_time(at: str, slot: str | None, where: str) -> str:
    """An agenda time as HH:MM, checked as the agenda form checks it (a time of day, inside
    the visit's half-day once it has one); InvalidInput in one line otherwise."""
    match = _TIME.match(at.strip())
    if match is None:
        raise InvalidInput(f"{where}: {at!r} is not a time; write it as HH:MM, e.g. 09:15")
    hhmm = f"{int(match[1]):02d}:{match[2]}"
    bounds = SLOT_TIMES.get(Slot(slot)) if slot in set(Slot) else None
    if bounds and not (bounds[0] <= time(int(match[1]), int(match[2])) <= bounds[1]):
        raise InvalidInput(
            f"{where}: {hhmm} is outside the {slot} visit ({bounds[0]:%H:%M} to {bounds[1]:%H:%M})"
        )
    return hhmm


def framework_area(framework: Framework, given: str) -> str:
    """The key of the framework area a person named by key or title (any case); anything
    else is refused in one line listing the areas."""
    wanted = " ".join(given.replace("_", " ").split()).casefold()
    for area in framework.areas:
        if wanted in (area.key.replace("_", " ").casefold(), area.title.casefold()):
            return area.key
    known = ", ".join(f"{a.key} ({a.title})" for a in framework.areas)
    raise InvalidInput(f"focus area {given!r} is not an area of {framework.name}; one of: {known}")


def _check_slot_free(
    ctx: CycleContext, host: int, visitors: list[int], on: date, slot: Slot
) -> None:
    """A school cannot be in two visits at once: no visitor of this visit (nor the host) may
    be hosting or visiting another visit of the cycle dated the same day and slot. Two
    queries, whatever the size of the cluster."""
    busy = {host, *visitors}
    others = dict(
        ctx.session.exec(
            select(Review.school_urn, VisitPlan.id)
            .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
            .where(
                Review.cycle_id == ctx.cycle_id,
                Review.school_urn != host,
                VisitPlan.visit_date == on,
                VisitPlan.slot == slot.value,
            )
        ).all()
    )
    if not others:
        return
    states = {urn: ctx.state(urn, Part.PEER_VISIT) for urn in others}
    others = {u: i for u, i in others.items() if states[u] != VisitState.CANCELLED}
    taken: dict[int, set[int]] = {u: {u} for u in others}
    for place in ctx.session.exec(
        select(TriadPlace).where(
            TriadPlace.cycle_id == ctx.cycle_id, col(TriadPlace.host_urn).in_(list(others))
        )
    ):
        taken[place.host_urn].add(place.visitor_urn)
    for other in sorted(others):
        clash = sorted(busy & taken[other])
        if clash:
            names = ctx.records.school_names({*clash, other})
            there = names.get(other, str(other))
            visiting = [names.get(u, str(u)) for u in clash if u != other]
            said = []
            if visiting:
                verb = "is" if len(visiting) == 1 else "are"
                said.append(f"{', '.join(visiting)} {verb} already on the visit to {there}")
            if other in clash:
                said.append(f"{there} hosts its own visit")
            raise InvalidInput(
                f"on {on:%a %d %b %Y} ({slot.value}) {'; '.join(said)}; choose another day or slot"
            )
