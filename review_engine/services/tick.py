"""The reconcile behind `review tick` and the scheduler: apply every cycle boundary that has
passed and was not applied (in order, once), mark late per-school work overdue, and queue
reminders; then Inside Knowledge's reconcile (`services.knowledge.reminders.tick`: past offers
closed, visit, feedback and reflection reminders queued) in the same transaction, at the same
instant. Idempotent: a second run on the same day changes nothing.

Set-based: a fixed number of queries whatever the number of cycles. On PostgreSQL the active
cycles are locked FOR UPDATE SKIP LOCKED, so ticks running at once on several machines each
take a disjoint share and every boundary is applied exactly once; on SQLite the transaction
takes the write lock up front (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from review_engine.clock import to_london
from review_engine.core.engine import CompiledWorkflow
from review_engine.core.relations import Relation
from review_engine.core.workflow import MachineDef
from review_engine.errors import NotPermitted, TransitionError
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import _due_work as due_work
from review_engine.services._compiled import compiled_for
from review_engine.services._due_work import OpenCycle
from review_engine.services._lookup import cycle_label
from review_engine.services.admin import REHEARSAL
from review_engine.services.digests import queue_digests
from review_engine.services.knowledge import reminders as knowledge_reminders
from review_engine.store.batch import chunks, in_, table_of
from review_engine.store.models import Cluster, Cycle, DatabaseSetting
from review_engine.store.schedule_tables import PlanStep
from review_engine.store.state_writer import StateChange, write_changes


@dataclass
class _Boundary:
    """What a boundary gives the engine's guards (which only read it): the reason it is
    applied. One per due date, shared by every cycle whose boundary falls on it."""

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
    digests: int = 0  # daily and weekly digests queued (services/digests)
    offers_closed: int = 0  # Inside Knowledge offers closed, their visit day past
    visit_notices: int = 0  # Inside Knowledge reminders queued (visit, feedback, reflection)

    def __str__(self) -> str:
        verb = "would apply" if self.dry_run else "applied"
        digests = f", {self.digests} digests" if self.digests else ""
        knowledge = (
            f"; Inside Knowledge: {self.offers_closed} past offers closed, "
            f"{self.visit_notices} reminders queued"
            if self.offers_closed or self.visit_notices
            else ""
        )
        return (
            f"{verb} {self.boundaries} boundaries, marked {self.overdue} items overdue, "
            f"queued {self.reminders} reminders{digests} ({self.cycles_seen} open cycles)"
            f"{knowledge}"
        )


def tick(rt: Runtime, *, now: datetime | None = None, dry_run: bool = False) -> TickReport:
    """Reconcile every open cycle with the calendar as of `now` (default: the clock).

    Run by the scheduler, a programme admin or the operator, who is named in the history of
    every change it makes. Pretending another time (`now`) changes nothing except on a
    database made for rehearsal (`review init --rehearsal`): elsewhere only with `dry_run`."""
    at = now or rt.clock.now()
    today = to_london(at).date()
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_the_schedule(actor, "run the tick")
        real_database = now is not None and session.get(DatabaseSetting, REHEARSAL) is None
        if real_database and not dry_run:
            raise NotPermitted(
                actor.name,
                f"run the tick as of {to_london(at):%d %b %Y %H:%M}",
                "only a rehearsal database (review init --rehearsal) may pretend another time; "
                "rehearse it here with --dry-run",
            )
        cycles, labels = _lock_open_cycles(session)
        changes: list[str] = []
        boundaries = _apply_boundaries(session, cycles, labels, today, at, changes, actor.name)
        owed = due_work.owed_work(session, cycles, today)
        overdue = due_work.mark_overdue(session, owed, labels, today, at, changes, actor.name)
        reminders = due_work.queue_reminders(
            session, owed, cycles, labels, today, at, base_url=rt.settings.public_url
        )
        digests = queue_digests(session, at, base_url=rt.settings.public_url)
        knowledge = knowledge_reminders.reconcile(
            session, actor, at, base_url=rt.settings.public_url
        )
        report = TickReport(
            at, dry_run, len(cycles), boundaries, overdue, reminders, changes,
            digests=digests.daily + digests.weekly,
            offers_closed=knowledge.closed, visit_notices=knowledge.queued,
        )  # fmt: skip
        if dry_run:
            session.rollback()
        return report


def _lock_open_cycles(session: Session) -> tuple[dict[int, OpenCycle], dict[int, str]]:
    """The open cycles (locked on PostgreSQL, skipping any another tick holds) and their
    labels, in one query after one for the final states of the workflows in use."""
    conn = session.connection()
    finals: set[str] = set()
    for row in conn.execute(select(Cycle.workflow_hash).distinct()).all():
        finals |= compiled_for(session, row).definition.cycle_machine.final
    # Core rows kept as small tuples, not ORM objects: 5,000 cycles load in a few milliseconds.
    query = (
        select(  # type: ignore[call-overload]
            Cycle.id,
            Cycle.cluster_id,
            Cycle.academic_year,
            Cycle.workflow_hash,
            Cycle.state,
            Cluster.name,
        )
        .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
        .where(col(Cycle.state).not_in(finals))
        .order_by(col(Cycle.id))
    )
    if conn.dialect.name == "postgresql":  # lock the cycles only, not their clusters
        query = query.with_for_update(skip_locked=True, of=table_of(Cycle))
    cycles: dict[int, OpenCycle] = {}
    labels: dict[int, str] = {}
    rows = chain.from_iterable(conn.execute(query).partitions(500))  # fetchmany, not fetchone
    for cycle_id, cluster_id, year, workflow_hash, state, name in rows:
        cycles[cycle_id] = OpenCycle(cycle_id, cluster_id, year, workflow_hash, state)
        labels[cycle_id] = cycle_label(name, year)
    return cycles, labels


def _pending_steps(
    session: Session, cycles: dict[int, OpenCycle], today: date
) -> Iterator[tuple[int, list[Any]]]:
    """Each open cycle with passed, unapplied boundaries, with those boundaries in plan order
    as (id, cycle id, trigger, from, to, due date) rows; yielded cycle by cycle as the rows
    arrive, so 5,000 cycles' rows are not all held at once."""
    conn = session.connection()
    for chunk in chunks(list(cycles)):
        rows = conn.execute(
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
        )
        for cycle_id, steps in groupby(chain.from_iterable(rows.partitions(500)), itemgetter(1)):
            yield cycle_id, list(steps)


def _apply_boundaries(
    session: Session,
    cycles: dict[int, OpenCycle],
    labels: dict[int, str],
    today: date,
    at: datetime,
    changes_text: list[str],
    actor: str,
) -> int:
    """Apply passed boundaries in order, several per cycle if the machine was off; each goes
    through the engine (with the schedule's authority, which the transition's `actors:` must
    give `system`) and the one state writer, in `actor`'s name."""
    changes: list[StateChange] = []
    done_steps: list[int] = []
    system = {Relation.SYSTEM}
    # Looked up once per workflow, per (workflow, state, trigger) and per date, not per row.
    workflows: dict[str, tuple[CompiledWorkflow, MachineDef]] = {}
    may_fire: dict[tuple[str, str, str], bool] = {}
    dates: dict[date, tuple[str, _Boundary]] = {}
    for cycle_id, pending in _pending_steps(session, cycles, today):
        cycle = cycles[cycle_id]
        workflow_hash = cycle.workflow_hash
        found = workflows.get(workflow_hash)
        if found is None:
            compiled = compiled_for(session, cycle)
            found = workflows[workflow_hash] = (compiled, compiled.definition.cycle_machine)
        compiled, machine = found
        label = labels[cycle_id]
        state = cycle.state
        for step_id, _, trigger, from_state, _, due_on in pending:
            done_steps.append(step_id)
            found_date = dates.get(due_on)
            if found_date is None:
                due = f"{due_on:%d %b %Y}"
                found_date = dates[due_on] = (due, _Boundary(f"boundary due {due}"))
            due, ctx = found_date
            key = (workflow_hash, state, trigger)
            allowed = may_fire.get(key)
            if allowed is None:
                transition = machine.transition(state, trigger)
                allowed = may_fire[key] = transition is not None and policy.allows(
                    system, transition.actors
                )
            if state != from_state or not allowed:
                changes_text.append(f"{label}: {trigger} skipped, the cycle is {state}")
                continue
            try:  # the same engine call as every other trigger: state, reason, guards
                fired = compiled.fire(
                    subject=label, machine=machine.name, trigger=trigger, state=state, ctx=ctx
                )
            except TransitionError as refused:
                changes_text.append(f"{label}: {trigger} skipped: {refused}")
                continue
            changes.append(
                StateChange(
                    cycle_id=cycle_id,
                    machine=machine.name,
                    trigger=trigger,
                    from_state=fired.from_state,
                    to_state=fired.to_state,
                    reason=ctx.reason,
                )
            )
            changes_text.append(f"{label}: {state} -> {fired.to_state} ({trigger}, due {due})")
            state = fired.to_state
    write_changes(session, changes, actor=actor, at=at)
    steps_table = table_of(PlanStep)
    for chunk in chunks(done_steps):
        session.connection().execute(
            update(steps_table).where(in_(session, steps_table.c.id, chunk)).values(applied_at=at)
        )
    return len(changes)
