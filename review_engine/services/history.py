"""The append-only history of a cycle: who changed what, when, from what to what, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from review_engine.clock import as_utc
from review_engine.core.phases import Part
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._lookup import get_cycle
from review_engine.store.models import School, TransitionLog


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    school_urn: int | None
    school: str | None
    machine: str
    from_state: str
    to_state: str
    trigger: str
    actor: str
    reason: str | None


def history(rt: Runtime, *, cycle: str, school_urn: int | None = None) -> list[HistoryEntry]:
    """History rows of a cycle in the order they were written, optionally for one school."""
    with rt.db.transaction() as session:
        found, _ = get_cycle(session, cycle)
        actor = policy.resolve_actor(session, rt.actor)
        visible = policy.visible_schools(session, actor, found)
        query = (
            select(TransitionLog, School.name)
            .outerjoin(School, col(School.urn) == TransitionLog.school_urn)
            .where(TransitionLog.cycle_id == found.id)
            .order_by(col(TransitionLog.id))
        )
        if school_urn is not None:
            query = query.where(TransitionLog.school_urn == school_urn)
        if visible is not None:
            query = query.where(
                col(TransitionLog.school_urn).is_(None) | col(TransitionLog.school_urn).in_(visible)
            )
            # Support follow-up is the school's own business (and its facilitator's).
            support = compiled_for(session, found).definition.parts.get(Part.SUPPORT)
            if support is not None:
                query = query.where(
                    (col(TransitionLog.machine) != support.name)
                    | (col(TransitionLog.school_urn) == actor.school_urn)
                )
        return [
            HistoryEntry(
                at=as_utc(log.at),
                school_urn=log.school_urn,
                school=name,
                machine=log.machine,
                from_state=log.from_state,
                to_state=log.to_state,
                trigger=log.trigger,
                actor=log.actor,
                reason=log.reason,
            )
            for log, name in session.exec(query)
        ]
