"""The notices events send (the catalogue is `core.notices`), built from what the event
changed and queued through the outbox (`_notice_queue`) in the transaction that makes the
change: a change rolled back sends nothing, and nothing is sent from inside it (`review outbox
send` and the scheduler send after commit). An event queued again (a command run twice, a tick
re-run) adds nothing: each person's row has a stable key.

`CycleContext.fire` and `fire_many` hand every transition they write to `after_fire`;
`services/actions` calls `action_assigned` and `action_updated`; a returned write-up drafted
again calls `writeup_redrafted`; sharing widened after publication calls `writeup_shared`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from review_engine.core.domain import Slot
from review_engine.core.notices import ON_TRIGGER, SUPPORT_PHASE, Event
from review_engine.core.phases import Part, VisitTrigger
from review_engine.documents.invites import SLOT_TIMES
from review_engine.rules import policy
from review_engine.services._notice_queue import CycleRef, Invite, Pending, queue
from review_engine.store.batch import chunks, in_
from review_engine.store.models import Cluster, Cycle, Review, ReviewState, School
from review_engine.store.phase_tables import ActionUpdate, SupportAction, WriteUp
from review_engine.store.state_writer import StateChange

if TYPE_CHECKING:
    from review_engine.services._context import CycleContext

__all__ = [
    "CycleRef",
    "Pending",
    "action_assigned",
    "action_updated",
    "after_fire",
    "plan_to_agree",
    "plans_awaiting",
    "queue",
    "writeup_redrafted",
    "writeup_shared",
]


# --- the events fired transitions send ---------------------------------------------------------


def after_fire(ctx: CycleContext, changes: Sequence[StateChange]) -> int:
    """Queue the notices of transitions just written (the hook of `CycleContext.fire` and
    `fire_many`): each change whose (part, trigger) is in the catalogue, and support opening
    (plans to agree). One call per batch, set-based."""
    pending: list[Pending] = []
    cycle = CycleRef.of(ctx.cluster.name, ctx.cycle.academic_year)
    by_machine = {m.name: m for m in ctx.definition.machines.values()}
    for change in changes:
        if change.school_urn is None:
            if change.to_state == SUPPORT_PHASE and change.from_state != SUPPORT_PHASE:
                pending += _plans_to_agree(ctx, cycle)
            continue
        machine = by_machine.get(change.machine)
        part = machine.part if machine is not None else None
        event = ON_TRIGGER.get((part, change.trigger)) if part is not None else None
        if event is not None:
            found = _BUILDERS[event](ctx, cycle, event, change)
            if found is not None:
                pending.append(found)
    return _queue_for(ctx, cycle, pending)


def _queue_for(ctx: CycleContext, cycle: CycleRef, pending: list[Pending]) -> int:
    if not pending:
        return 0
    names = ctx.records.school_names({u for p in pending for u in (p.urn, *p.to, *p.mentions)})
    return queue(
        ctx.session,
        pending,
        cycles={ctx.cycle_id: cycle},
        names=names,
        base_url=ctx.public_url,
        at=ctx.now,
    )


def _sef(ctx: CycleContext, cycle: CycleRef, event: Event, change: StateChange) -> Pending:
    urn = change.school_urn
    assert urn is not None
    page = cycle.school_page(urn, "sef")
    if event is Event.SEF_SUBMITTED:
        version = ctx.records.sef_versions(ctx.review(urn))
        return Pending(
            event,
            ctx.cycle_id,
            urn,
            f"v{version}",
            facilitator=ctx.cluster.facilitator_id,
            facts={"version": version},
            page=cycle.page("sefs"),
        )
    if event is Event.SEF_ACCEPTED:
        return Pending(event, ctx.cycle_id, urn, to=(urn,), page=page)
    version = ctx.records.sef_versions(ctx.review(urn))
    return Pending(
        event,
        ctx.cycle_id,
        urn,
        f"v{version}",
        to=(urn,),
        facts={"reason": change.reason or ""},
        page=page,
    )


def _triad(ctx: CycleContext, cycle: CycleRef, event: Event, change: StateChange) -> Pending:
    host = change.school_urn
    assert host is not None
    places = ctx.records.places(host)
    visitors = [p.visitor_urn for p in places]
    lead = next((p.visitor_urn for p in places if p.is_lead), None)
    others = [v for v in visitors if v != lead]
    return Pending(
        event,
        ctx.cycle_id,
        host,
        f"{lead}:" + ",".join(str(v) for v in sorted(visitors)),
        to=(host, *visitors),
        facts={
            "changed": change.trigger == VisitTrigger.REASSIGN_TRIAD,
            "lead": lead,
            "visitors": visitors,
            "co_reviewers": others,
        },
        page=cycle.school_page(host, "visit"),
    )


def _visit(ctx: CycleContext, cycle: CycleRef, event: Event, change: StateChange) -> Pending:
    host = change.school_urn
    assert host is not None
    plan = ctx.records.visit_plan(ctx.review(host))
    visitors = [p.visitor_urn for p in ctx.records.places(host)]
    dated = plan is not None and plan.visit_date is not None and plan.slot is not None
    invite = None
    facts: dict[str, Any] = {"reason": change.reason or "", "visit_date": None, "slot": None}
    if plan is not None and dated:
        assert plan.visit_date is not None and plan.slot is not None
        slot = Slot(plan.slot)
        start, end = SLOT_TIMES[slot]
        facts.update(visit_date=plan.visit_date, slot=slot, start=start, end=end)
        invite = Invite(
            ctx.school(host),
            plan.visit_date,
            slot,
            plan.sequence,
            cancelled=event is Event.VISIT_CANCELLED,
        )
    return Pending(
        event,
        ctx.cycle_id,
        host,
        "" if event is Event.VISIT_CANCELLED else f"s{plan.sequence if plan else 0}",
        to=(host, *visitors),
        facts=facts,
        page=cycle.school_page(host, "visit"),
        invite=invite,
        organiser=ctx.cluster.facilitator_id,
    )


def _writeup(
    ctx: CycleContext, cycle: CycleRef, event: Event, change: StateChange
) -> Pending | None:
    host = change.school_urn
    assert host is not None
    row = ctx.records.writeup(ctx.review(host))
    if row is None:
        return None
    places = ctx.records.places(host)
    lead = next((p.visitor_urn for p in places if p.is_lead), row.lead_urn)
    page = cycle.school_page(host, "write-up")
    facts: dict[str, Any] = {"version": row.version, "lead": lead, "by_school": None}
    # Every reviewer is named: the write-up the command shows next names them (read once).
    mentions = tuple(p.visitor_urn for p in places)
    if event is Event.WRITEUP_TO_AGREE:
        co = tuple(p.visitor_urn for p in places if not p.is_lead)
        return Pending(
            event,
            ctx.cycle_id,
            host,
            f"v{row.version}",
            co,
            facts=facts,
            page=page,
            mentions=mentions,
        )
    if event is Event.WRITEUP_TO_AGREE_HOST:
        return Pending(
            event,
            ctx.cycle_id,
            host,
            f"v{row.version}",
            (host,),
            facts=facts,
            page=page,
            mentions=mentions,
        )
    if event is Event.WRITEUP_RETURNED:
        said = f"{ctx.actor.name}\n{change.reason or ''}".encode()
        mine = ctx.actor.school_urn
        facts.update(reason=change.reason or "", by_school=mine)
        return Pending(
            event,
            ctx.cycle_id,
            host,
            f"v{row.version}:{hashlib.sha256(said).hexdigest()[:12]}",
            (lead,),
            facts=facts,
            page=page,
            mentions=(*mentions, *((mine,) if mine is not None else ())),
        )
    # published: every school the sharing reaches but the host, which chose it
    members = (
        policy.current_members(ctx.session, ctx.cluster.id or 0) if row.sharing == "cluster" else []
    )
    readers = policy.writeup_readers(row, [p.visitor_urn for p in places], members) - {host}
    return _shared(ctx.cycle_id, host, cycle, sorted(readers), row, "")


def _shared(
    cycle_id: int, host: int, cycle: CycleRef, schools: list[int], row: WriteUp, occasion: str
) -> Pending:
    return Pending(
        Event.WRITEUP_SHARED,
        cycle_id,
        host,
        occasion,
        tuple(schools),
        facts={"sharing": row.sharing or ""},
        page=cycle.school_page(host, "write-up"),
    )


def _plans_to_agree(ctx: CycleContext, cycle: CycleRef) -> list[Pending]:
    support = ctx.definition.parts.get(Part.SUPPORT)
    if support is None:
        return []
    urns = plans_awaiting(ctx.session, {ctx.cycle_id: (support.name, support.initial)})
    return [plan_to_agree(ctx.cycle_id, urn, cycle) for _, urn in urns]


def plans_awaiting(
    session: Session, cycles: Mapping[int, tuple[str, str]]
) -> list[tuple[int, int]]:
    """(cycle, school) of support plans still in their first state, in cycles given with
    their support machine's name and first state (one query per machine)."""
    found: list[tuple[int, int]] = []
    by_machine: dict[tuple[str, str], list[int]] = {}
    for cycle_id, key in cycles.items():
        by_machine.setdefault(key, []).append(cycle_id)
    conn = session.connection()
    for (machine, first), ids in by_machine.items():
        for chunk in chunks(sorted(ids)):
            found += [
                (c, u)
                for c, u in conn.execute(
                    select(Review.cycle_id, Review.school_urn)
                    .join(ReviewState, col(ReviewState.review_id) == Review.id)
                    .join(Cycle, col(Cycle.id) == Review.cycle_id)
                    .where(
                        in_(session, Review.cycle_id, chunk),
                        Cycle.state == SUPPORT_PHASE,
                        ReviewState.machine == machine,
                        ReviewState.state == first,
                    )
                )
            ]
    return found


def plan_to_agree(cycle_id: int, urn: int, cycle: CycleRef) -> Pending:
    return Pending(
        Event.PLAN_TO_AGREE,
        cycle_id,
        urn,
        to=(urn,),
        page=cycle.school_page(urn, "support"),
    )


_BUILDERS = {
    Event.SEF_SUBMITTED: _sef,
    Event.SEF_ACCEPTED: _sef,
    Event.SEF_RETURNED: _sef,
    Event.TRIAD_ASSIGNED: _triad,
    Event.VISIT_DATED: _visit,
    Event.VISIT_MOVED: _visit,
    Event.VISIT_CANCELLED: _visit,
    Event.WRITEUP_TO_AGREE: _writeup,
    Event.WRITEUP_TO_AGREE_HOST: _writeup,
    Event.WRITEUP_RETURNED: _writeup,
    Event.WRITEUP_SHARED: _writeup,
}


# --- events that are not transitions -----------------------------------------------------------


def action_assigned(ctx: CycleContext, urn: int, action: SupportAction) -> int:
    """A school named as the supporting school of a new action hears of it."""
    if action.supporting_urn is None:
        return 0
    cycle = CycleRef.of(ctx.cluster.name, ctx.cycle.academic_year)
    return _queue_for(ctx, cycle, [_action(Event.ACTION_ASSIGNED, ctx, cycle, urn, action)])


def action_updated(ctx: CycleContext, urn: int, action: SupportAction, update: ActionUpdate) -> int:
    """The supporting school hears of the school's update to an action it supports; the
    school hears of a note its supporting school adds."""
    if action.supporting_urn is None:
        return 0
    by_supporter = (
        ctx.actor.school_urn is not None and ctx.actor.school_urn == action.supporting_urn
    )
    event = Event.ACTION_NOTE if by_supporter else Event.ACTION_UPDATED
    cycle = CycleRef.of(ctx.cluster.name, ctx.cycle.academic_year)
    return _queue_for(
        ctx, cycle, [_action(event, ctx, cycle, urn, action, update, f"u{update.id}")]
    )


def _action(
    event: Event,
    ctx: CycleContext,
    cycle: CycleRef,
    urn: int,
    action: SupportAction,
    update: ActionUpdate | None = None,
    occasion: str = "",
) -> Pending:
    assert action.supporting_urn is not None
    to = urn if event is Event.ACTION_NOTE else action.supporting_urn
    return Pending(
        event,
        ctx.cycle_id,
        urn,
        f"#{action.number}:{action.supporting_urn}" + (f":{occasion}" if occasion else ""),
        (to,),
        facts={
            "number": action.number,
            "title": action.title,
            "owner": action.owner,
            "criteria": action.success_criteria,
            "due": action.due_date,
            "due_half_term": action.due_half_term or "",
            "rag": (update.rag if update else action.rag),
            "note": update.note if update else "",
            "supporter": action.supporting_urn,
        },
        page=cycle.school_page(urn, "support"),
        mentions=(action.supporting_urn,),
    )


def writeup_redrafted(ctx: CycleContext, host: int) -> int:
    """The co-reviewers hear that a returned write-up has been drafted again (no transition
    marks a redraft: call it after storing the new version). Once per version."""
    machine = ctx.definition.parts.get(Part.WRITE_UP)
    if machine is None:
        return 0
    state = ctx.state(host, Part.WRITE_UP)
    change = StateChange(ctx.cycle_id, machine.name, "draft", state, state, school_urn=host)
    cycle = CycleRef.of(ctx.cluster.name, ctx.cycle.academic_year)
    found = _writeup(ctx, cycle, Event.WRITEUP_TO_AGREE, change)
    return _queue_for(ctx, cycle, [found] if found is not None else [])


def writeup_shared(
    session: Session,
    *,
    cycle_id: int,
    host: int,
    schools: Iterable[int],
    at: datetime,
    base_url: str | None,
    occasion: str = "",
) -> int:
    """Tell the people of `schools` that the host's published write-up is now shared with
    them (for sharing widened after publication). `occasion` tells a later widening to the
    same school from an earlier one (e.g. the sharing change's id); without it each school is
    told once."""
    wanted = sorted(set(schools) - {host})
    if not wanted:
        return 0
    found = session.exec(
        select(Cluster.name, Cycle.academic_year, WriteUp)
        .join(Cycle, col(Cycle.cluster_id) == Cluster.id)
        .join(Review, col(Review.cycle_id) == Cycle.id)
        .join(WriteUp, col(WriteUp.review_id) == Review.id)
        .where(Cycle.id == cycle_id, Review.school_urn == host)
    ).first()
    if found is None:
        return 0
    cluster, year, row = found
    cycle = CycleRef.of(cluster, year)
    names = dict(
        session.exec(
            select(School.urn, School.name).where(in_(session, School.urn, [host, *wanted]))
        ).all()
    )
    return queue(
        session,
        [_shared(cycle_id, host, cycle, wanted, row, occasion)],
        cycles={cycle_id: cycle},
        names=names,
        base_url=base_url,
        at=at,
    )
