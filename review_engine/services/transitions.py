"""Firing a trigger and persisting it: new state, version check and history row, one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from review_engine.core.domain import Scope
from review_engine.core.engine import CompiledWorkflow, Fired
from review_engine.core.workflow import MachineDef
from review_engine.errors import Conflict, InvalidInput, NotPermitted
from review_engine.rules import policy
from review_engine.rules.guards import GuardContext
from review_engine.runtime import Runtime
from review_engine.services._lookup import cycle_label, get_cycle, get_review
from review_engine.store.models import (
    Cluster,
    Cycle,
    Review,
    ReviewState,
    TransitionLog,
    WorkflowSnapshot,
)

_COMPILED: dict[str, CompiledWorkflow] = {}


def compiled_for(session: Session, cycle: Cycle) -> CompiledWorkflow:
    """The machines of the exact workflow the cycle started with (built once per hash)."""
    found = _COMPILED.get(cycle.workflow_hash)
    if found is None:
        from review_engine.core.workflow import parse

        snapshot = session.get(WorkflowSnapshot, cycle.workflow_hash)
        assert snapshot is not None, "every cycle references its workflow snapshot"
        found = _COMPILED[cycle.workflow_hash] = CompiledWorkflow(
            parse(snapshot.source, origin=f"{snapshot.name} v{snapshot.version}")
        )
    return found


def review_states(session: Session, review_id: int) -> dict[str, str]:
    rows = session.exec(select(ReviewState).where(ReviewState.review_id == review_id))
    return {r.machine: r.state for r in rows}


def apply_trigger(
    session: Session,
    *,
    cycle: Cycle,
    cluster: Cluster,
    machine: str,
    trigger: str,
    school_urn: int | None,
    actor: str,
    at: datetime,
    reason: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Fired:
    """Fire inside the caller's transaction; a concurrent writer makes this raise Conflict."""
    label = cycle_label(cluster, cycle.academic_year)
    compiled = compiled_for(session, cycle)
    mdef = compiled.definition.machine(machine)
    who = policy.resolve_actor(session, actor)
    assert cycle.id is not None
    if mdef.scope is Scope.CYCLE:
        if school_urn is not None:
            raise InvalidInput(f"machine {machine} is the cycle's own; drop --school")
        _check_actor(session, who, cycle, None, mdef, cycle.state, trigger, label)
        ctx = GuardContext(session, cycle, None, {}, actor, reason, options or {})
        fired = compiled.fire(
            subject=label, machine=machine, trigger=trigger, state=cycle.state, ctx=ctx
        )
        result = session.execute(
            update(Cycle)
            .where(col(Cycle.id) == cycle.id, col(Cycle.version) == cycle.version)
            .values(state=fired.to_state, version=cycle.version + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(label)
    else:
        if school_urn is None:
            raise InvalidInput(f"machine {machine} runs per school; give --school URN")
        final = compiled.definition.cycle_machine.final
        if cycle.state in final:
            raise InvalidInput(f"cycle {label} is {cycle.state}; nothing in it can change")
        review = get_review(session, cycle, school_urn, label)
        assert review.id is not None
        states = review_states(session, review.id)
        subject = f"{label} school {school_urn}"
        _check_actor(session, who, cycle, school_urn, mdef, states[machine], trigger, subject)
        ctx = GuardContext(session, cycle, review, states, actor, reason, options or {})
        fired = compiled.fire(
            subject=subject, machine=machine, trigger=trigger, state=states[machine], ctx=ctx
        )
        bumped = session.execute(
            update(Review)
            .where(col(Review.id) == review.id, col(Review.version) == review.version)
            .values(version=review.version + 1)
        )
        moved = session.execute(
            update(ReviewState)
            .where(
                col(ReviewState.review_id) == review.id,
                col(ReviewState.machine) == machine,
                col(ReviewState.state) == fired.from_state,
            )
            .values(state=fired.to_state)
        )
        if bumped.rowcount != 1 or moved.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(subject)
    session.add(
        TransitionLog(
            cycle_id=cycle.id,
            school_urn=school_urn,
            machine=machine,
            from_state=fired.from_state,
            to_state=fired.to_state,
            trigger=trigger,
            actor=actor,
            reason=reason,
            at=at,
        )
    )
    session.flush()
    return fired


def _check_actor(
    session: Session,
    actor: policy.Actor,
    cycle: Cycle,
    school_urn: int | None,
    mdef: MachineDef,
    state: str,
    trigger: str,
    subject: str,
) -> None:
    """Refuse a trigger the acting person may not fire (the workflow's `actors`)."""
    transition = mdef.by_state.get(state, {}).get(trigger)
    have = policy.relations(session, actor, cycle, school_urn)
    if transition is None:
        if not have:  # an outsider learns nothing about the state
            raise NotPermitted(
                actor.name, f"{trigger} {mdef.name} of {subject}", "you have no part in it"
            )
        return  # the engine explains what is allowed in this state
    policy.require(
        have, transition.actors, actor=actor, action=f"{trigger} {mdef.name} of {subject}"
    )


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
        found, cluster = get_cycle(session, cycle)
        return apply_trigger(
            session,
            cycle=found,
            cluster=cluster,
            machine=machine,
            trigger=trigger,
            school_urn=school_urn,
            actor=rt.actor,
            at=rt.clock.now(),
            reason=reason,
            options=options,
        )
