"""Cycles: starting one for a cluster's year, its status, and the list of cycles."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlmodel import Session, col, select

from review_engine.core.domain import Rag
from review_engine.core.workflow import DEFAULT_WORKFLOW, MachineDef, WorkflowDef
from review_engine.errors import AlreadyExists, InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import feedback, plans
from review_engine.services._compiled import compiled_for
from review_engine.services._context import open_cycle
from review_engine.services._lookup import check_year, cycle_label, get_cluster
from review_engine.store.models import (
    Cluster,
    Cycle,
    Membership,
    Review,
    ReviewState,
    School,
    WorkflowSnapshot,
)
from review_engine.store.phase_tables import SupportAction
from review_engine.store.schedule_tables import OverdueMark
from review_engine.store.state_writer import NO_STATE, StateChange, append_history


@dataclass(frozen=True)
class CycleSummary:
    cycle: str
    cluster: str
    academic_year: str
    state: str
    workflow: str
    schools: int


@dataclass(frozen=True)
class SchoolStatus:
    urn: int
    name: str
    states: dict[str, str]


@dataclass(frozen=True)
class CycleStatus:
    cycle: str
    state: str
    workflow: str
    workflow_version: int
    workflow_hash: str
    machines: list[str]
    schools: list[SchoolStatus] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    missing_feedback: list[str] = field(default_factory=list)


def start_cycle(
    rt: Runtime, *, cluster: str, year: str, workflow: str | None = None
) -> CycleSummary:
    """Start a cycle for the cluster's current members; it records the exact workflow used."""
    check_year(year)
    definition = rt.catalog.get(workflow or DEFAULT_WORKFLOW)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        assert found.id is not None
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_cluster(actor, found.id, f"start a cycle for {found.name}")
        if found.archived_at is not None:  # an archived cluster starts no new cycle
            raise InvalidInput(f"cluster {found.name} is archived; an admin may restore it")
        label = cycle_label(found, year)
        taken = select(Cycle).where(Cycle.cluster_id == found.id, Cycle.academic_year == year)
        if session.exec(taken).first():
            raise AlreadyExists("cycle", label)
        urns = sorted(
            session.exec(
                select(Membership.school_urn).where(
                    Membership.cluster_id == found.id, col(Membership.left).is_(None)
                )
            ).all()
        )
        if not urns:
            raise InvalidInput(f"cluster {found.name} has no member schools; add some first")
        if session.get(WorkflowSnapshot, definition.hash) is None:
            session.add(
                WorkflowSnapshot(
                    hash=definition.hash,
                    name=definition.name,
                    version=definition.version,
                    source=definition.source,
                    created_at=now,
                )
            )
            session.flush()  # no ORM relationships, so order the inserts ourselves
        initial = definition.cycle_machine.initial
        cycle = Cycle(
            cluster_id=found.id,
            academic_year=year,
            workflow_name=definition.name,
            workflow_version=definition.version,
            workflow_hash=definition.hash,
            state=initial,
            started_at=now,
        )
        session.add(cycle)
        session.flush()
        assert cycle.id is not None
        _create_reviews(session, cycle.id, urns, definition.school_machines)
        plans.store_plan(session, cycle)
        first = StateChange(
            cycle_id=cycle.id,
            machine=definition.cycle_machine.name,
            trigger="start",
            from_state=NO_STATE,
            to_state=initial,
        )
        append_history(session, [first], actor=actor.name, at=now)
        return CycleSummary(label, found.name, year, initial, definition.name, len(urns))


def _create_reviews(
    session: Session, cycle_id: int, urns: list[int], machines: list[MachineDef]
) -> None:
    session.execute(insert(Review), [{"cycle_id": cycle_id, "school_urn": u} for u in urns])
    ids = session.exec(
        select(Review.id, Review.school_urn).where(Review.cycle_id == cycle_id)
    ).all()
    session.execute(
        insert(ReviewState),
        [
            {"review_id": rid, "machine": m.name, "state": m.initial}
            for rid, _ in ids
            for m in machines
        ],
    )


def cycle_status(rt: Runtime, *, cycle: str) -> CycleStatus:
    """Every visible school's state in every phase machine, what is overdue and what
    feedback is missing (a fixed number of queries, whatever the cycle's size)."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        found = ctx.cycle
        visible = policy.visible_schools(session, ctx.actor, found)
        compiled = compiled_for(session, found)
        machines = [m.name for m in compiled.definition.school_machines]
        query = (
            select(Review.school_urn, School.name, ReviewState.machine, ReviewState.state)
            .join(School, col(School.urn) == Review.school_urn)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(Review.cycle_id == found.id)
            .order_by(col(School.name), col(Review.school_urn))
        )
        if visible is not None:
            query = query.where(col(Review.school_urn).in_(visible))
        by_school: dict[int, SchoolStatus] = {}
        for urn, name, machine, state in session.exec(query).all():
            by_school.setdefault(urn, SchoolStatus(urn, name, {})).states[machine] = state
        names = {urn: s.name for urn, s in by_school.items()}
        done = _done_states(compiled.definition)
        marks = session.exec(
            select(OverdueMark)
            .where(OverdueMark.cycle_id == found.id)
            .order_by(col(OverdueMark.due_on))
        ).all()
        # A support action's mark ("action#N") is done once the action is complete: as the
        # cluster report and the dashboard count them.
        completed = {
            (urn, f"action#{number}")
            for urn, number in session.exec(
                select(Review.school_urn, SupportAction.number)
                .join(Review, col(Review.id) == SupportAction.review_id)
                .where(Review.cycle_id == found.id, SupportAction.rag == Rag.COMPLETE)
            )
        }
        overdue = [
            f"{names[m.school_urn]}: {m.item.replace('_', ' ')} was due {m.due_on:%d %b %Y}"
            for m in marks
            if m.school_urn in names
            and (m.school_urn, m.item) not in completed
            and by_school[m.school_urn].states.get(m.item) not in done.get(m.item, ())
        ]
        missing = [
            f"{names.get(f.from_urn, f.from_urn)}: {f.kind} feedback on the visit to "
            f"{names.get(f.host, f.host)} (due {f.due:%d %b %Y})"
            for f in feedback.missing(ctx, today=ctx.now.date())
            if visible is None or f.from_urn in visible
        ]
        return CycleStatus(
            cycle=ctx.label,
            state=found.state,
            workflow=found.workflow_name,
            workflow_version=found.workflow_version,
            workflow_hash=found.workflow_hash,
            machines=machines,
            schools=list(by_school.values()),
            overdue=overdue,
            missing_feedback=missing,
        )


def _done_states(definition: WorkflowDef) -> dict[str, frozenset[str]]:
    """States in which an overdue item counts as done (its mark is no longer shown): those
    its deadline names, else the machine's final states."""
    return {
        m.name: frozenset(definition.deadlines.get(m.name, {}).get("done") or m.final)
        for m in definition.school_machines
    }


def latest_cycle(rt: Runtime, *, cluster: str) -> str:
    """The reference of a cluster's most recent cycle."""
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        year = session.exec(
            select(Cycle.academic_year)
            .where(Cycle.cluster_id == found.id)
            .order_by(col(Cycle.academic_year).desc())
        ).first()
        if year is None:
            raise NotFound("cycle", f"for cluster {cluster}", "start one with `review cycle start`")
        return cycle_label(found, year)


def list_cycles(rt: Runtime, *, cluster: str | None = None) -> list[CycleSummary]:
    with rt.db.transaction() as session:
        from sqlalchemy import func

        counts = (
            select(Review.cycle_id, func.count().label("n"))
            .group_by(col(Review.cycle_id))
            .subquery()
        )
        query = (
            select(Cycle, Cluster.name, counts.c.n)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .join(counts, counts.c.cycle_id == Cycle.id)
            .order_by(Cluster.name, Cycle.academic_year)
        )
        if cluster is not None:
            query = query.where(Cluster.name == get_cluster(session, cluster).name)
        return [
            CycleSummary(
                cycle_label(name, c.academic_year),
                name,
                c.academic_year,
                c.state,
                c.workflow_name,
                n,
            )
            for c, name, n in session.exec(query)
        ]


def visible_cycles(rt: Runtime) -> list[CycleSummary]:
    """The cycles the acting person has a part in: those of the clusters they facilitate and
    those in which their school has a review (a programme admin, the operator and the
    scheduler: every cycle). Two queries; `schools` counts the cycle's member schools."""
    with rt.db.transaction() as session:
        from sqlalchemy import func, or_

        actor = policy.resolve_actor(session, rt.actor)
        counts = (
            select(Review.cycle_id, func.count().label("n"))
            .group_by(col(Review.cycle_id))
            .subquery()
        )
        query = (
            select(Cycle, Cluster.name, counts.c.n)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .join(counts, counts.c.cycle_id == Cycle.id)
            .order_by(Cluster.name, Cycle.academic_year)
        )
        if not (actor.admin or actor.system):
            mine = select(Review.cycle_id).where(Review.school_urn == actor.school_urn)
            query = query.where(
                or_(col(Cycle.cluster_id).in_(actor.facilitates), col(Cycle.id).in_(mine))
            )
        return [
            CycleSummary(
                cycle_label(name, c.academic_year),
                name,
                c.academic_year,
                c.state,
                c.workflow_name,
                n,
            )
            for c, name, n in session.exec(query)
        ]
