"""The reconcile behind `review tick` and the scheduler: apply every cycle boundary that has
passed and was not applied (in order, once), mark late per-school work overdue, and queue
reminders. Idempotent: a second run on the same day changes nothing.

Set-based: a fixed number of queries whatever the number of cycles. On PostgreSQL the active
cycles are locked FOR UPDATE SKIP LOCKED, so ticks running at once on several machines each
take a disjoint share and every boundary is applied exactly once; on SQLite the transaction
takes the write lock up front (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from review_engine.clock import to_london
from review_engine.core.relations import Relation
from review_engine.errors import TransitionError
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import _due_work as due_work
from review_engine.services._compiled import compiled_for
from review_engine.services._due_work import SYSTEM_ACTOR, OpenCycle
from review_engine.services._lookup import cycle_label
from review_engine.store.batch import chunks, in_
from review_engine.store.models import Cluster, Cycle
from review_engine.store.schedule_tables import PlanStep
from review_engine.store.state_writer import StateChange, write_changes


@dataclass
class _Boundary:
    """What a boundary gives the engine's guards: the reason it is applied."""

    reason: str | None


@dataclass(frozen=True)
class TickReport:
    at: datetime
    dry_run: bool
    cycles_seen: int
    boundaries: int
    overdue: int
    reminders: int
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        verb = "would apply" if self.dry_run else "applied"
        return (
            f"{verb} {self.boundaries} boundaries, marked {self.overdue} items overdue, "
            f"queued {self.reminders} reminders ({self.cycles_seen} open cycles)"
        )


def tick(rt: Runtime, *, now: datetime | None = None, dry_run: bool = False) -> TickReport:
    """Reconcile every open cycle with the calendar as of `now` (default: the clock)."""
    at = now or rt.clock.now()
    today = to_london(at).date()
    with rt.db.transaction() as session:
        cycles = _lock_open_cycles(session)
        labels = _labels(session, cycles)
        changes: list[str] = []
        boundaries = _apply_boundaries(session, cycles, labels, today, at, changes)
        owed = due_work.owed_work(session, cycles, today)
        overdue = due_work.mark_overdue(session, owed, labels, today, at, changes)
        reminders = due_work.queue_reminders(session, owed, cycles, labels, today, at)
        report = TickReport(at, dry_run, len(cycles), boundaries, overdue, reminders, changes)
        if dry_run:
            session.rollback()
        return report


def _lock_open_cycles(session: Session) -> dict[int, OpenCycle]:
    hashes = session.exec(select(Cycle.workflow_hash).distinct()).all()
    finals: set[str] = set()
    for h in hashes:
        probe = session.exec(select(Cycle).where(Cycle.workflow_hash == h).limit(1)).first()
        assert probe is not None
        finals |= compiled_for(session, probe).definition.cycle_machine.final
    # Plain rows, not ORM objects: 5,000 cycles load in a fraction of the time.
    query = (
        select(  # type: ignore[call-overload]
            Cycle.id, Cycle.cluster_id, Cycle.academic_year, Cycle.workflow_hash, Cycle.state
        )
        .where(col(Cycle.state).not_in(finals))
        .order_by(col(Cycle.id))
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return {c.id: c for c in session.exec(query)}


def _labels(session: Session, cycles: dict[int, OpenCycle]) -> dict[int, str]:
    ids = {c.cluster_id for c in cycles.values()}
    names: dict[int, str] = {}
    for chunk in chunks(list(ids)):
        for cluster_id, name in session.exec(
            select(Cluster.id, Cluster.name).where(in_(session, Cluster.id, chunk))
        ):
            names[cluster_id or 0] = name
    return {cid: cycle_label(names[c.cluster_id], c.academic_year) for cid, c in cycles.items()}


def _apply_boundaries(
    session: Session,
    cycles: dict[int, OpenCycle],
    labels: dict[int, str],
    today: date,
    at: datetime,
    changes_text: list[str],
) -> int:
    """Apply passed boundaries in order, several per cycle if the machine was off; each goes
    through the engine (as the scheduler, a system actor) and the one state writer."""
    steps: dict[int, list[Any]] = defaultdict(list)
    for chunk in chunks(list(cycles)):
        rows: Sequence[Any] = session.exec(
            select(  # type: ignore[call-overload]
                PlanStep.id,
                PlanStep.cycle_id,
                PlanStep.trigger,
                PlanStep.from_state,
                PlanStep.to_state,
                PlanStep.due_on,
            )
            .where(
                in_(session, PlanStep.cycle_id, chunk),
                col(PlanStep.applied_at).is_(None),
                PlanStep.kind == "boundary",
                PlanStep.due_on <= today,
            )
            .order_by(col(PlanStep.cycle_id), col(PlanStep.position))
        ).all()
        for step in rows:
            steps[step.cycle_id].append(step)
    changes: list[StateChange] = []
    done_steps: list[int] = []
    system = {Relation.SYSTEM}
    for cycle_id, pending in steps.items():
        cycle = cycles[cycle_id]
        compiled = compiled_for(session, cycle)
        machine = compiled.definition.cycle_machine
        state = cycle.state
        for step in pending:
            assert step.id is not None
            done_steps.append(step.id)
            reason = f"boundary due {step.due_on:%d %b %Y}"
            transition = machine.transition(state, step.trigger)
            if (
                state != step.from_state
                or transition is None
                or not policy.allows(system, transition.actors)
            ):
                changes_text.append(
                    f"{labels[cycle_id]}: {step.trigger} skipped, the cycle is {state}"
                )
                continue
            try:  # the same engine call as every other trigger: state, reason, guards
                fired = compiled.fire(
                    subject=labels[cycle_id],
                    machine=machine.name,
                    trigger=step.trigger,
                    state=state,
                    ctx=_Boundary(reason),
                )
            except TransitionError as refused:
                changes_text.append(f"{labels[cycle_id]}: {step.trigger} skipped: {refused}")
                continue
            changes.append(
                StateChange(
                    cycle_id=cycle_id,
                    machine=machine.name,
                    trigger=step.trigger,
                    from_state=fired.from_state,
                    to_state=fired.to_state,
                    reason=reason,
                )
            )
            changes_text.append(
                f"{labels[cycle_id]}: {state} -> {fired.to_state} "
                f"({step.trigger}, due {step.due_on:%d %b %Y})"
            )
            state = fired.to_state
    write_changes(session, changes, actor=SYSTEM_ACTOR, at=at)
    for chunk in chunks(done_steps):
        session.execute(
            update(PlanStep)
            .where(in_(session, PlanStep.id, chunk))
            .values(applied_at=at)
            .execution_options(synchronize_session=False)
        )
    applied = len(changes)
    return applied
