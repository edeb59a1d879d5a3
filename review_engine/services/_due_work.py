"""Per-school work with a due date: what is owed, marking it overdue, and queuing reminders
(including visit reminders carrying the calendar invite). Set-based, for the tick."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from review_engine.core import cycle_plan
from review_engine.core.domain import HalfTerm, NoticeKind, Rag
from review_engine.core.notices import Event
from review_engine.core.phases import Part, VisitState
from review_engine.core.workflow import WorkflowDef
from review_engine.documents import environment
from review_engine.services import notices
from review_engine.services._compiled import compiled_for
from review_engine.services._notice_queue import queued
from review_engine.services._recipients import recipients
from review_engine.services._visit_reminders import VISIT_ITEM, invites_for, owed_visits
from review_engine.services.calendars import calendars_for
from review_engine.services.feedback import REFLECTION_WEEKS
from review_engine.store.batch import chunks, in_, insert_ignore
from review_engine.store.models import Review, ReviewState, School
from review_engine.store.phase_tables import Feedback, SupportAction, TriadPlace, VisitPlan
from review_engine.store.schedule_tables import OutboxMessage, OverdueMark, PlanStep
from review_engine.store.state_writer import StateChange, append_history

SYSTEM_ACTOR = "scheduler"
OVERDUE_REMINDERS = 4  # on the day after the due date, then weekly, at most this many
FIRST_REMINDER_DAYS = 7  # the first reminder goes this many days before the due date
FEEDBACK_DAYS = 7  # feedback on a visit is due this many days after it (asked the day after)
_MESSAGE_NS = uuid.UUID("6f1c1d2e-8b0a-4c39-9a64-4b4c6f7e2a10")


class OpenCycle(NamedTuple):
    """An open cycle as the tick reads it (compiled_for reads its workflow_hash)."""

    id: int
    cluster_id: int
    academic_year: str
    workflow_hash: str
    state: str


@dataclass(frozen=True)
class Owed:
    cycle_id: int
    urn: int
    item: str  # machine name, or "action#N"
    machine: str
    state: str
    due: date
    notify_urn: int
    part: Part | None = None  # the phase-contract part the machine plays, if any
    label: str = ""  # the machine in words, from the workflow file
    # Set for work that is an event notice of its own (feedback or a reflection on a visit):
    # worded by that event's template, never marked overdue.
    event: Event | None = None
    visit_day: date | None = None


def _definitions(session: Session, cycles: dict[int, OpenCycle]) -> dict[str, WorkflowDef]:
    """The workflow of each hash the cycles follow: looked up once per workflow, not per cycle."""
    return {
        h: compiled_for(session, cycle).definition
        for h, cycle in {c.workflow_hash: c for c in cycles.values()}.items()
    }


def owed_work(session: Session, cycles: dict[int, OpenCycle], today: date) -> list[Owed]:
    """Per-school work with a due date that is not done yet (four queries in all). Deadlines
    too far ahead for a reminder are left out, and per-school states are read only for the
    cycles that have something due, visited or in support."""
    owed: list[Owed] = []
    if not cycles:
        return owed
    conn = session.connection()  # Core rows: no ORM objects to build
    definitions = _definitions(session, cycles)
    ids = list(cycles)
    horizon = today + timedelta(days=FIRST_REMINDER_DAYS)
    fixed: list[Any] = []
    visits: list[Any] = []
    actions: list[Any] = []
    for chunk in chunks(ids):
        fixed += conn.execute(
            select(PlanStep.cycle_id, PlanStep.trigger, PlanStep.due_on).where(  # type: ignore[call-overload]
                in_(session, PlanStep.cycle_id, chunk),
                PlanStep.kind == "deadline",
                PlanStep.due_on <= horizon,
            )
        ).all()
        visits += conn.execute(
            select(
                Review.cycle_id,
                Review.school_urn,
                col(VisitPlan.visited_on),
                col(VisitPlan.visit_date),
            )
            .join(Review, col(Review.id) == VisitPlan.review_id)
            .where(in_(session, Review.cycle_id, chunk))
        ).all()
        actions += conn.execute(
            select(  # type: ignore[call-overload]
                SupportAction.number,
                SupportAction.due_date,
                SupportAction.due_half_term,
                Review.cycle_id,
                Review.school_urn,
            )
            .join(Review, col(Review.id) == SupportAction.review_id)
            .where(in_(session, Review.cycle_id, chunk), SupportAction.rag != Rag.COMPLETE)
        ).all()
    needed = {s.cycle_id for s in fixed} | {v[0] for v in visits} | {a[3] for a in actions}
    states: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
    for chunk in chunks(sorted(needed)):
        rows = conn.execute(
            select(Review.cycle_id, Review.school_urn, ReviewState.machine, ReviewState.state)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(in_(session, Review.cycle_id, chunk))
        )
        for cycle_id, urn, machine, state in chain.from_iterable(rows.partitions(1000)):
            states[(cycle_id, machine)][urn] = state
    for step in fixed:
        definition = definitions[cycles[step.cycle_id].workflow_hash]
        spec = definition.deadlines.get(step.trigger)
        done = set((spec or {}).get("done", ()))
        mdef = definition.machines.get(step.trigger)
        part, label = (mdef.part if mdef else None), definition.label(step.trigger)
        for urn, state in states[(step.cycle_id, step.trigger)].items():
            if state not in done:
                owed.append(
                    Owed(
                        step.cycle_id,
                        urn,
                        step.trigger,
                        step.trigger,
                        state,
                        step.due_on,
                        urn,
                        part,
                        label,
                    )
                )
    owed += _owed_writeups(session, cycles, definitions, states, visits)
    owed += _owed_feedback(session, cycles, definitions, states, visits, today)
    owed += _owed_actions(session, cycles, definitions, actions, states)
    # The visit machine of each workflow that has one, and the cycles that follow each.
    visit_machine = {
        h: d.parts[Part.PEER_VISIT].name
        for h, d in definitions.items()
        if Part.PEER_VISIT in d.parts
    }
    visiting: dict[str, list[int]] = defaultdict(list)
    for cycle_id, cycle in cycles.items():
        if (visits_by := visit_machine.get(cycle.workflow_hash)) is not None:
            visiting[visits_by].append(cycle_id)
    owed += [
        Owed(
            cycle_id,
            host,
            f"{VISIT_ITEM}{urn}",
            visit_machine[cycles[cycle_id].workflow_hash],
            VisitState.SCHEDULED,
            day,
            urn,
            Part.PEER_VISIT,
        )
        for cycle_id, host, urn, day in owed_visits(session, visiting, today, horizon)
    ]
    return owed


def _owed_writeups(
    session: Session,
    cycles: dict[int, OpenCycle],
    definitions: dict[str, WorkflowDef],
    states: dict[tuple[int, str], dict[int, str]],
    planned_visits: list[Any],
) -> list[Owed]:
    visits: list[tuple[int, int, date]] = []
    for cycle_id, urn, visited_on, planned in planned_visits:
        day = visited_on or planned
        parts = definitions[cycles[cycle_id].workflow_hash].parts
        if Part.PEER_VISIT not in parts or Part.WRITE_UP not in parts:
            continue
        visit_state = states[(cycle_id, parts[Part.PEER_VISIT].name)].get(urn)
        if day is not None and visit_state == VisitState.VISITED:
            visits.append((cycle_id, urn, day))
    if not visits:
        return []
    leads: dict[tuple[int, int], int] = {}
    for chunk in chunks(list({c for c, _, _ in visits})):
        for t in session.exec(
            select(TriadPlace).where(
                in_(session, TriadPlace.cycle_id, chunk), col(TriadPlace.is_lead).is_(True)
            )
        ):
            leads[(t.cycle_id, t.host_urn)] = t.visitor_urn
    years = defaultdict(set)
    for cycle_id, urn, _ in visits:
        years[cycles[cycle_id].academic_year].add(urn)
    calendars = {y: calendars_for(session, urns, y) for y, urns in years.items()}
    owed = []
    for cycle_id, urn, day in visits:
        definition = definitions[cycles[cycle_id].workflow_hash]
        machine = definition.parts[Part.WRITE_UP]
        spec = definition.deadlines.get(machine.name)
        if not spec or "school_days_after_visit" not in spec:
            continue
        state = states[(cycle_id, machine.name)].get(urn, "")
        if state in set(spec.get("done", ())):
            continue
        calendar = calendars[cycles[cycle_id].academic_year].get(urn)
        due = cycle_plan.due_after_visit(calendar, day, int(spec["school_days_after_visit"]))
        lead = leads.get((cycle_id, urn), urn)
        owed.append(
            Owed(cycle_id, urn, machine.name, machine.name, state, due, lead, Part.WRITE_UP)
        )
    return owed


def _owed_feedback(
    session: Session,
    cycles: dict[int, OpenCycle],
    definitions: dict[str, WorkflowDef],
    states: dict[tuple[int, str], dict[int, str]],
    planned_visits: list[Any],
    today: date,
) -> list[Owed]:
    """Feedback on visits held: each school's on the day after the visit (due a week after
    it), and each visiting school's reflection (due six weeks after), while not given and a
    reminder is owed (two queries, only when some visit is held)."""
    held: list[tuple[int, int, date, str]] = []
    for cycle_id, urn, visited_on, planned in planned_visits:
        day = visited_on or planned
        visit = definitions[cycles[cycle_id].workflow_hash].parts.get(Part.PEER_VISIT)
        if day is None or visit is None or day >= today:
            continue
        if states[(cycle_id, visit.name)].get(urn) == VisitState.VISITED:
            held.append((cycle_id, urn, day, visit.name))
    if not held:
        return []
    conn = session.connection()
    ids = sorted({c for c, _, _, _ in held})
    visitors: dict[tuple[int, int], list[int]] = defaultdict(list)
    given: set[tuple[int, int, int, str]] = set()
    for chunk in chunks(ids):
        for cycle_id, host, visitor in conn.execute(
            select(TriadPlace.cycle_id, TriadPlace.host_urn, TriadPlace.visitor_urn).where(
                in_(session, TriadPlace.cycle_id, chunk)
            )
        ):
            visitors[(cycle_id, host)].append(visitor)
        given.update(
            conn.execute(
                select(Review.cycle_id, Review.school_urn, Feedback.from_urn, Feedback.kind)
                .join(Review, col(Review.id) == Feedback.review_id)
                .where(in_(session, Review.cycle_id, chunk))
            ).all()
        )
    owed = []
    for cycle_id, host, day, machine in held:
        schools = sorted(visitors[(cycle_id, host)])
        for kind, event, due, who in (
            (
                "immediate",
                Event.FEEDBACK_DUE,
                day + timedelta(days=FEEDBACK_DAYS),
                [host, *schools],
            ),
            ("reflection", Event.REFLECTION_DUE, day + timedelta(weeks=REFLECTION_WEEKS), schools),
        ):
            if reminder_kind(due, today) is None:
                continue
            owed += [
                Owed(
                    cycle_id,
                    host,
                    f"{kind}@{urn}",
                    machine,
                    VisitState.VISITED,
                    due,
                    urn,
                    event=event,
                    visit_day=day,
                )
                for urn in who
                if (cycle_id, host, urn, kind) not in given
            ]
    return owed


def _owed_actions(
    session: Session,
    cycles: dict[int, OpenCycle],
    definitions: dict[str, WorkflowDef],
    actions: list[Any],
    states: dict[tuple[int, str], dict[int, str]],
) -> list[Owed]:
    """`actions`: (number, due date, due half term, cycle, school) of open support actions."""
    by_year: dict[str, set[int]] = defaultdict(set)
    for _, _, _, cycle_id, urn in actions:
        by_year[cycles[cycle_id].academic_year].add(urn)
    calendars = {
        y: calendars_for(session, urns, y)
        for y, urns in by_year.items()
        if any(a.due_half_term for a in actions)
    }
    owed = []
    for number, due, due_half_term, cycle_id, urn in actions:
        if due is None and due_half_term:
            calendar = calendars.get(cycles[cycle_id].academic_year, {}).get(urn)
            due = calendar.end_of(HalfTerm(due_half_term)) if calendar else None
        support = definitions[cycles[cycle_id].workflow_hash].parts.get(Part.SUPPORT)
        if due is not None and support is not None:
            state = states[(cycle_id, support.name)].get(urn, "")
            if state in support.final:  # a closed plan owes nothing more
                continue
            owed.append(
                Owed(
                    cycle_id,
                    urn,
                    f"action#{number}",
                    support.name,
                    state,
                    due,
                    urn,
                    Part.SUPPORT,
                )
            )
    return owed


def mark_overdue(
    session: Session,
    owed: list[Owed],
    labels: dict[int, str],
    today: date,
    at: datetime,
    changes: list[str],
    actor: str = SYSTEM_ACTOR,
) -> int:
    late = [o for o in owed if o.due < today and o.part is not Part.PEER_VISIT and o.event is None]
    if not late:
        return 0
    conn = session.connection()
    marked: set[tuple[int, int, str]] = set()
    for chunk in chunks(list({o.cycle_id for o in late})):
        rows = conn.execute(
            select(OverdueMark.cycle_id, OverdueMark.school_urn, OverdueMark.item).where(
                in_(session, OverdueMark.cycle_id, chunk)
            )
        )
        marked.update((cycle_id, urn, item) for cycle_id, urn, item in rows)
    new = [o for o in late if (o.cycle_id, o.urn, o.item) not in marked]
    if not new:
        return 0
    insert_ignore(
        session,
        OverdueMark,
        [
            {
                "cycle_id": o.cycle_id,
                "school_urn": o.urn,
                "item": o.item,
                "due_on": o.due,
                "marked_at": at,
            }
            for o in new
        ],
    )
    append_history(  # history rows, chained, in one executemany
        session,
        [
            StateChange(
                cycle_id=o.cycle_id,
                machine=o.machine,
                trigger="mark_overdue",
                from_state=o.state,
                to_state=o.state,
                school_urn=o.urn,
                reason=f"{o.item.replace('_', ' ')} was due {o.due:%d %b %Y}",
            )
            for o in new
        ],
        actor=actor,
        at=at,
    )
    changes += [
        f"{labels[o.cycle_id]}: school {o.urn} {o.item} overdue (due {o.due:%d %b %Y})" for o in new
    ]
    return len(new)


def reminder_kind(due: date, today: date) -> str | None:
    """Which reminder is owed today: 7 days and 1 day before, then weekly once overdue."""
    days = (due - today).days
    if days < 0:
        week = (-days - 1) // 7
        return f"overdue-{week}" if week < OVERDUE_REMINDERS else None
    if days <= 1:
        return "due-1"
    if days <= FIRST_REMINDER_DAYS:
        return f"due-{FIRST_REMINDER_DAYS}"
    return None


def queue_reminders(
    session: Session,
    owed: list[Owed],
    cycles: dict[int, OpenCycle],
    labels: dict[int, str],
    today: date,
    at: datetime,
    base_url: str | None = None,
) -> int:
    """Queue the reminders owed today, the feedback and reflections due, and the support
    plans still to agree in cycles whose support has opened (each once per person)."""
    wanted = [
        (o, k)
        for o in owed
        if (k := reminder_kind(o.due, today)) is not None
        and not (o.part is Part.PEER_VISIT and k.startswith("overdue"))
    ]
    refs = {c: notices.CycleRef.of(*labels[c].rsplit("/", 1)) for c in cycles}
    plans = _plans_to_agree(session, cycles, refs)
    names = _school_names(
        session, {u for o, _ in wanted for u in (o.urn, o.notify_urn)} | {p.urn for p in plans}
    )
    # Feedback and reflections due are counted with the reminders; plans to agree are not.
    events = notices.queue(
        session,
        _due_notices(wanted, refs),
        cycles=refs,
        names=names,
        base_url=base_url,
        at=at,
        skip_known=True,
    )
    notices.queue(
        session, plans, cycles=refs, names=names, base_url=base_url, at=at, skip_known=True
    )
    wanted = [(o, k) for o, k in wanted if o.event is None]
    if not wanted:
        return events
    # A visit's reminders follow its date: a rescheduled visit is reminded again. Each person
    # who takes the notice has their own key (the reason's key, then ">" and their address);
    # a reason queued under its bare key (before people chose their notices) is done.
    reasons = {
        f"{o.cycle_id}:{o.urn}:{o.item}:"
        + (f"{o.due}:" if o.part is Part.PEER_VISIT else "")
        + k: (o, k)
        for o, k in wanted
    }
    takers = recipients(session, {o.notify_urn for o, _ in reasons.values()})
    keys = {
        f"{reason}>{to.email}": (reason, o, k, to)
        for reason, (o, k) in reasons.items()
        for to in takers.get((o.notify_urn, notice_kind(o.part)), ())
    }
    sent = queued(session, [*reasons, *keys])
    todo = {
        key: (o, k, to)
        for key, (reason, o, k, to) in keys.items()
        if key not in sent and reason not in sent
    }
    if not todo:
        return events
    cycles_seen = {o.cycle_id for o, _, _ in todo.values()}
    attached = invites_for(
        session,
        {(o.cycle_id, o.urn) for o, _, _ in todo.values() if o.part is Part.PEER_VISIT},
        {c: cycles[c] for c in cycles_seen},
        at,
        {  # the people reminded of visits are the invite's attendees
            urn: [(to.email, to.name) for to in people]
            for (urn, kind), people in takers.items()
            if kind is NoticeKind.VISITS
        },
    )
    template = environment().get_template("email/reminder.txt.j2")
    rows = []
    for key, (o, kind, to) in todo.items():
        subject, body = _message(template, refs[o.cycle_id].words, o, kind, today, names)
        rows.append(
            {
                "message_id": str(uuid.uuid5(_MESSAGE_NS, key)),
                "dedupe_key": key,
                "recipient": to.email,
                "subject": subject,
                "body": body,
                "cycle_id": o.cycle_id,
                "school_urn": o.urn,
                "item": o.item,
                "created_at": at,
                "attempts": 0,
                "attachment_name": attached.get((o.cycle_id, o.urn), (None, None))[0],
                "attachment": attached.get((o.cycle_id, o.urn), (None, None))[1],
                "notice": "reminder",
                "held_for_digest": to.digest,
            }
        )
    insert_ignore(session, OutboxMessage, rows)
    return events + len(rows)


def _school_names(session: Session, urns: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    conn = session.connection()
    for chunk in chunks(sorted(urns)):
        rows = conn.execute(select(School.urn, School.name).where(in_(session, School.urn, chunk)))
        names.update((urn, name) for urn, name in rows)
    return names


def _due_notices(
    wanted: list[tuple[Owed, str]], refs: dict[int, notices.CycleRef]
) -> list[notices.Pending]:
    """Feedback and reflections due (or overdue), as their events' notices: one per school
    and reminder, the key naming the school that owes it and which reminder this is."""
    return [
        notices.Pending(
            o.event,
            o.cycle_id,
            o.urn,
            f"{o.notify_urn}:{k}",
            (o.notify_urn,),
            facts={
                "due": o.due,
                "visit_day": o.visit_day,
                "overdue": k.startswith("overdue"),
            },
            page=refs[o.cycle_id].school_page(o.urn, "feedback"),
        )
        for o, k in wanted
        if o.event is not None
    ]


def _plans_to_agree(
    session: Session, cycles: dict[int, OpenCycle], refs: dict[int, notices.CycleRef]
) -> list[notices.Pending]:
    """Support plans still to agree in cycles whose support has opened (read afresh: the
    tick may just have opened it)."""
    machines = {}
    for cycle_id, cycle in cycles.items():
        support = compiled_for(session, cycle).definition.parts.get(Part.SUPPORT)
        if support is not None:
            machines[cycle_id] = (support.name, support.initial)
    return [
        notices.plan_to_agree(cycle_id, urn, refs[cycle_id])
        for cycle_id, urn in notices.plans_awaiting(session, machines)
    ]


def _message(
    template: Any, cycle: str, o: Owed, kind: str, today: date, names: dict[int, str]
) -> tuple[str, str]:
    school = names.get(o.urn, f"school {o.urn}")
    words: dict[Part | None, str] = {
        Part.SELF_REVIEW: "your self-evaluation (SEF)",
        Part.WRITE_UP: f"the WWW/EBI write-up of the visit to {school}",
        Part.PEER_VISIT: f"the peer review visit to {school}",
        Part.SUPPORT: f"support action {o.item.removeprefix('action#')} of {school}",
    }
    what = words.get(o.part, f"your {o.label or o.machine.replace('_', ' ')}")
    overdue = kind.startswith("overdue")
    subject = (
        f"Overdue: {what} ({cycle})"
        if overdue
        else f"Reminder: {what} is due {o.due:%d %b %Y} ({cycle})"
    )
    body = template.render(
        cycle=cycle, what=what, due=o.due, overdue=overdue, days=abs((o.due - today).days)
    )
    return subject, body


_NOTICE_OF_PART = {
    Part.SELF_REVIEW: NoticeKind.REMINDERS,
    Part.PEER_VISIT: NoticeKind.VISITS,
    Part.WRITE_UP: NoticeKind.WRITEUPS,
    Part.SUPPORT: NoticeKind.SUPPORT,
}


def notice_kind(part: Part | None) -> NoticeKind:
    """The kind of notice a reminder about this part is (other dated work: a reminder)."""
    return _NOTICE_OF_PART.get(part, NoticeKind.REMINDERS) if part else NoticeKind.REMINDERS
