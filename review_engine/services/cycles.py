"""Cycles: starting one for a cluster's year, its status, and the list of cycles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session, col, select

from review_engine.clock import as_utc, to_london
from review_engine.core import cycle_plan
from review_engine.core.domain import Rag
from review_engine.core.phases import Part
from review_engine.core.workflow import DEFAULT_WORKFLOW, MachineDef, WorkflowDef
from review_engine.errors import AlreadyExists, InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import feedback, plans
from review_engine.services._compiled import compiled_for
from review_engine.services._context import open_cycle
from review_engine.services._lookup import check_year, cycle_label, get_cluster, get_cycle
from review_engine.services.calendars import calendars_for
from review_engine.store.models import (
    Cluster,
    Cycle,
    Membership,
    Review,
    ReviewState,
    School,
    WorkflowSnapshot,
)
from review_engine.store.phase_tables import SelfEvaluation, SupportAction
from review_engine.store.schedule_tables import OverdueMark, PlanStep
from review_engine.store.state_writer import NO_STATE, StateChange, append_history


@dataclass(frozen=True)
class CycleSummary:
    cycle: str
    cluster: str
    academic_year: str
    state: str
    workflow: str
    schools: int
    number: int = 0  # the cycle's number: `review cycle status 3` means this cycle


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
    rt: Runtime,
    *,
    cluster: str,
    year: str,
    workflow: str | None = None,
    from_current_phase: bool = False,
) -> CycleSummary:
    """Start a cycle for the cluster's current members; it records the exact workflow used.

    Refused when no term calendar covers the cluster's schools for the year (the cycle would
    never move on). `from_current_phase`: when the plan's boundaries have already passed
    (starting mid-year), start in the phase the calendar says it is now and move deadlines
    that have passed to `MOVED_DEADLINE_SCHOOL_DAYS` school days from today, each recorded in
    history with its reason, instead of letting the next tick open every phase at once and
    mark that work overdue."""
    check_year(year)
    definition = rt.catalog.get(workflow or DEFAULT_WORKFLOW)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        found, actor, urns = _cluster_to_start(session, rt, cluster, year)
        assert found.id is not None
        label = cycle_label(found, year)
        preview = _preview(session, found.name, year, definition, urns, to_london(now).date())
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
        jump = from_current_phase and bool(preview.passed)
        cycle = Cycle(
            cluster_id=found.id,
            academic_year=year,
            workflow_name=definition.name,
            workflow_version=definition.version,
            workflow_hash=definition.hash,
            state=preview.current_phase if jump else initial,
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
        changes = [first]
        if jump:
            changes += _start_at_current_phase(session, cycle, definition, preview, label, now)
        append_history(session, changes, actor=actor.name, at=now)
        return CycleSummary(label, found.name, year, cycle.state, definition.name, len(urns))


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
        seen = policy.clusters_seen_by(session, policy.resolve_actor(session, rt.actor))
        if seen is not None:
            query = query.where(col(Cluster.id).in_(sorted(seen)))
        if cluster is not None:
            found = get_cluster(session, cluster)
            if seen is not None and found.id not in seen:
                raise NotFound("cluster", cluster, "see `review cluster list`")
            query = query.where(Cluster.name == found.name)
        return [
            CycleSummary(
                cycle_label(name, c.academic_year),
                name,
                c.academic_year,
                c.state,
                c.workflow_name,
                n,
                number=c.id or 0,
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


# --- starting a cycle: the checks shown before it starts --------------------------------------

MOVED_DEADLINE_SCHOOL_DAYS = 15  # a deadline already passed at the start: three school weeks on


@dataclass(frozen=True)
class PassedBoundary:
    """A boundary of the plan whose date had passed when the cycle starts."""

    trigger: str
    to_state: str
    due_on: date


@dataclass(frozen=True)
class MovedDeadline:
    """Per-school work whose deadline had passed: moved when starting at the current phase."""

    machine: str
    what: str
    was: date
    now: date


@dataclass(frozen=True)
class StartPreview:
    """What starting a cycle would do, shown before it starts (`review cycle start` prints
    the warnings; the web page asks to confirm them)."""

    cluster: str
    year: str
    workflow: str
    workflow_title: str
    schools: int
    calendar: str
    without_calendar: list[str]  # member schools that follow no imported calendar
    today: date
    initial_state: str
    current_phase: str  # the state the plan says the cycle is in today
    passed: list[PassedBoundary] = field(default_factory=list)
    moved: list[MovedDeadline] = field(default_factory=list)

    @property
    def mid_year(self) -> bool:
        return bool(self.passed)


@dataclass
class _StartReason:
    reason: str | None


def preview_start(
    rt: Runtime, *, cluster: str, year: str, workflow: str | None = None
) -> StartPreview:
    """What `start_cycle` would do: refused (as it would be) without a term calendar, else
    the schools without a calendar, the boundaries already passed and the deadlines that
    starting at the current phase would move. Changes nothing."""
    check_year(year)
    definition = rt.catalog.get(workflow or DEFAULT_WORKFLOW)
    with rt.db.transaction() as session:
        found, _, urns = _cluster_to_start(session, rt, cluster, year)
        return _preview(
            session, found.name, year, definition, urns, to_london(rt.clock.now()).date()
        )


def _cluster_to_start(
    session: Session, rt: Runtime, cluster: str, year: str
) -> tuple[Cluster, policy.Actor, list[int]]:
    """The cluster a cycle is to start for, who starts it, and its member schools: refused
    in one line unless the actor runs it, it is not archived, has members and no cycle for
    the year."""
    found = get_cluster(session, cluster)
    assert found.id is not None
    actor = policy.resolve_actor(session, rt.actor)
    policy.require_runs_cluster(actor, found.id, f"start a cycle for {found.name}")
    if found.archived_at is not None:  # an archived cluster starts no new cycle
        raise InvalidInput(f"cluster {found.name} is archived; an admin may restore it")
    taken = select(Cycle).where(Cycle.cluster_id == found.id, Cycle.academic_year == year)
    if session.exec(taken).first():
        raise AlreadyExists("cycle", cycle_label(found, year))
    urns = policy.current_members(session, found.id)
    if not urns:
        raise InvalidInput(f"cluster {found.name} has no member schools; add some first")
    return found, actor, urns


def no_calendar_message(cluster: str, year: str) -> str:
    return (
        f"no term calendar covers the schools of {cluster} for {year}: import one with "
        f"`review calendar import NAME FILE` (its {year} dates) and assign it with "
        "`review calendar assign NAME --la CODE`, then start the cycle"
    )


def _preview(
    session: Session,
    cluster: str,
    year: str,
    definition: WorkflowDef,
    urns: list[int],
    today: date,
) -> StartPreview:
    calendar = plans.cluster_calendar(session, urns, year)
    if calendar is None:
        raise InvalidInput(no_calendar_message(cluster, year))
    covered = calendars_for(session, urns, year)
    missing = sorted(set(urns) - set(covered))
    names = dict(
        session.exec(select(School.urn, School.name).where(col(School.urn).in_(missing))).all()
        if missing
        else []
    )
    steps = cycle_plan.plan(definition, calendar)
    machine = definition.cycle_machine
    state = machine.initial
    passed: list[PassedBoundary] = []
    for step in steps:
        if step.kind != "boundary" or step.due_on >= today:
            continue
        if machine.transition(state, step.trigger) is None:
            break
        passed.append(PassedBoundary(step.trigger, step.to_state, step.due_on))
        state = step.to_state
    moved: list[MovedDeadline] = []
    if passed:
        try:
            later = calendar.add_school_days(today, n=MOVED_DEADLINE_SCHOOL_DAYS)
        except InvalidInput:  # past the end of the calendar's year
            later = today + timedelta(days=21)
        moved = [
            MovedDeadline(s.trigger, definition.label(s.trigger), s.due_on, later)
            for s in steps
            if s.kind == "deadline" and s.due_on < today
        ]
    return StartPreview(
        cluster=cluster,
        year=year,
        workflow=definition.name,
        workflow_title=definition.title or definition.name,
        schools=len(urns),
        calendar=calendar.label,
        without_calendar=[f"{names.get(u, u)} ({u})" for u in missing],
        today=today,
        initial_state=machine.initial,
        current_phase=state,
        passed=passed,
        moved=moved,
    )


def _start_at_current_phase(
    session: Session,
    cycle: Cycle,
    definition: WorkflowDef,
    preview: StartPreview,
    label: str,
    now: datetime,
) -> list[StateChange]:
    """The boundaries already passed, applied at the start (the engine checks each), their
    plan steps marked applied, and the deadlines already passed moved; the history rows."""
    assert cycle.id is not None
    compiled = compiled_for(session, cycle)
    machine = definition.cycle_machine
    changes: list[StateChange] = []
    state = machine.initial
    day = f"{preview.today:%d %b %Y}"
    for b in preview.passed:
        reason = (
            f"started mid-year on {day} at the current phase: this boundary was due "
            f"{b.due_on:%d %b %Y}"
        )
        fired = compiled.fire(
            subject=label,
            machine=machine.name,
            trigger=b.trigger,
            state=state,
            ctx=_StartReason(reason),
        )
        changes.append(
            StateChange(
                cycle_id=cycle.id,
                machine=machine.name,
                trigger=b.trigger,
                from_state=fired.from_state,
                to_state=fired.to_state,
                reason=reason,
            )
        )
        state = fired.to_state
    session.flush()  # the plan steps just stored
    steps = session.exec(select(PlanStep).where(PlanStep.cycle_id == cycle.id)).all()
    boundaries = {(b.trigger, b.due_on) for b in preview.passed}
    moved = {m.machine: m for m in preview.moved}
    for step in steps:
        if step.kind == "boundary" and (step.trigger, step.due_on) in boundaries:
            step.applied_at = now
            session.add(step)
        elif step.kind == "deadline" and step.trigger in moved:
            # Marked applied so a re-plan (`review cycle plan --refresh`) keeps the new date.
            step.due_on, step.applied_at = moved[step.trigger].now, now
            session.add(step)
    changes += [
        StateChange(
            cycle_id=cycle.id,
            machine=machine.name,
            trigger="move_deadline",
            from_state=state,
            to_state=state,
            reason=(
                f"{m.what} deadline moved from {m.was:%d %b %Y} to {m.now:%d %b %Y}: "
                f"the cycle started on {day}, after it had passed"
            ),
        )
        for m in preview.moved
    ]
    return changes


# --- the facilitator's console in the browser --------------------------------------------------


@dataclass(frozen=True)
class ClusterCycles:
    """A cluster the acting person runs, with its cycles (newest first)."""

    cluster: str
    schools: int
    facilitated: bool  # the person facilitates it (an admin sees every cluster)
    cycles: list[CycleSummary] = field(default_factory=list)


def console(rt: Runtime) -> list[ClusterCycles]:
    """The clusters the acting person runs and their cycles: a facilitator's own, a programme
    admin's every one; anyone else is told there is no such page. Four queries."""
    from sqlalchemy import func

    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        if not (actor.admin or actor.facilitates):
            raise NotFound("page", "cycles")
        query = select(Cluster).order_by(col(Cluster.name))
        if not actor.admin:
            query = query.where(col(Cluster.id).in_(sorted(actor.facilitates)))
        found = list(session.exec(query).all())
        ids = [c.id for c in found]
        members = dict(
            session.exec(
                select(Membership.cluster_id, func.count())
                .where(col(Membership.cluster_id).in_(ids), col(Membership.left).is_(None))
                .group_by(col(Membership.cluster_id))
            ).all()
        )
        counts = (
            select(Review.cycle_id, func.count().label("n"))
            .group_by(col(Review.cycle_id))
            .subquery()
        )
        by_cluster: dict[int, list[CycleSummary]] = {}
        rows = session.exec(
            select(Cycle, counts.c.n)
            .join(counts, counts.c.cycle_id == Cycle.id)
            .where(col(Cycle.cluster_id).in_(ids))
            .order_by(col(Cycle.academic_year).desc())
        ).all()
        names = {c.id: c.name for c in found}
        for c, n in rows:
            name = names[c.cluster_id]
            by_cluster.setdefault(c.cluster_id, []).append(
                CycleSummary(
                    cycle_label(name, c.academic_year),
                    name,
                    c.academic_year,
                    c.state,
                    c.workflow_name,
                    n,
                )
            )
        return [
            ClusterCycles(
                c.name,
                members.get(c.id or 0, 0),
                c.id in actor.facilitates,
                by_cluster.get(c.id or 0, []),
            )
            for c in found
        ]


def facilitated_cycle(rt: Runtime, *, cycle: str, admin_reads: bool = False) -> CycleSummary:
    """The cycle, for its cluster's facilitator (and, with `admin_reads`, a programme admin);
    anyone else is told it was not found, exactly as for a cycle that does not exist."""
    from sqlalchemy import func

    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        try:
            found, cluster = get_cycle(session, cycle)
        except InvalidInput:
            raise NotFound("cycle", cycle) from None
        assert cluster.id is not None
        if not (policy.is_facilitator(actor, cluster.id) or (admin_reads and actor.admin)):
            raise NotFound("cycle", cycle)
        schools = session.exec(
            select(func.count()).select_from(Review).where(Review.cycle_id == found.id)
        ).one()
        return CycleSummary(
            cycle_label(cluster, found.academic_year),
            cluster.name,
            found.academic_year,
            found.state,
            found.workflow_name,
            int(schools),
        )


@dataclass(frozen=True)
class SefRow:
    """One school's self-evaluation as the facilitator sees it in the list to decide."""

    urn: int
    school: str
    state: str
    version: int | None
    submitted_at: datetime | None
    overdue_since: date | None


def sef_overview(rt: Runtime, *, cycle: str) -> tuple[str, list[SefRow]]:
    """Every school's self-review state, latest SEF version and overdue mark, for the
    cycle's facilitator (anyone else: not found). A fixed number of queries."""
    from sqlalchemy import func

    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        if not policy.is_facilitator(ctx.actor, ctx.cycle.cluster_id):
            raise NotFound("cycle", cycle)
        machine = ctx.phase(Part.SELF_REVIEW).name
        latest = (
            select(
                SelfEvaluation.review_id,
                func.max(SelfEvaluation.version).label("version"),
            )
            .group_by(col(SelfEvaluation.review_id))
            .subquery()
        )
        rows = session.exec(
            select(Review.school_urn, School.name, ReviewState.state, latest.c.version)
            .join(School, col(School.urn) == Review.school_urn)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .outerjoin(latest, latest.c.review_id == Review.id)
            .where(Review.cycle_id == ctx.cycle_id, ReviewState.machine == machine)
            .order_by(col(School.name), col(Review.school_urn))
        ).all()
        when = dict(
            session.exec(
                select(Review.school_urn, SelfEvaluation.submitted_at)
                .join(SelfEvaluation, col(SelfEvaluation.review_id) == Review.id)
                .join(
                    latest,
                    (latest.c.review_id == SelfEvaluation.review_id)
                    & (latest.c.version == SelfEvaluation.version),
                )
                .where(Review.cycle_id == ctx.cycle_id)
            ).all()
        )
        marks: dict[int, date] = dict(
            session.exec(
                select(OverdueMark.school_urn, col(OverdueMark.due_on)).where(
                    OverdueMark.cycle_id == ctx.cycle_id, OverdueMark.item == machine
                )
            ).all()
        )
        done = _done_states(ctx.definition).get(machine, frozenset())
        return ctx.label, [
            SefRow(
                urn=urn,
                school=name,
                state=state,
                version=version,
                submitted_at=as_utc(when[urn]) if urn in when else None,
                overdue_since=marks.get(urn) if state not in done else None,
            )
            for urn, name, state, version in rows
        ]


# --- moving the cycle itself on, from the console ---------------------------------------------


@dataclass(frozen=True)
class PhaseMove:
    """A move of the cycle's own machine the acting person may make now."""

    trigger: str
    to_state: str
    needs_reason: bool


def phase_moves(rt: Runtime, *, cycle: str) -> list[PhaseMove]:
    """What the acting person may do to the cycle itself now (open the next phase before its
    date, close, cancel), read from the workflow file's `actors:` for the cycle machine."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        have = ctx.relations(None)
        machine = ctx.definition.cycle_machine
        moves = []
        for trigger, transition in machine.by_state[ctx.cycle.state].items():
            if have & set(transition.actors):
                moves.append(PhaseMove(trigger, transition.dest, transition.requires_reason))
        return moves


def move_cycle(rt: Runtime, *, cycle: str, trigger: str, reason: str | None = None) -> str:
    """Fire one of the cycle machine's triggers as the acting person (the workflow's actors
    and guards decide, as for `review trigger`); the cycle's new state."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        fired = ctx.fire(ctx.definition.cycle_machine.name, trigger, None, reason=reason)
        return fired.to_state
