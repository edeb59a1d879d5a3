"""The reconcile behind `review tick` and the scheduler: apply every cycle boundary that has
passed and was not applied (in order, once), mark late per-school work overdue, and queue
reminders. Idempotent: a second run on the same day changes nothing.

Set-based: a fixed number of queries whatever the number of cycles. On PostgreSQL the active
cycles are locked FOR UPDATE SKIP LOCKED, so ticks running at once on several machines each
take a disjoint share and every boundary is applied exactly once; on SQLite the transaction
takes the write lock up front (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, any_, bindparam, func, insert, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from review_engine import cycle_plan
from review_engine.clock import to_london
from review_engine.documents import environment
from review_engine.domain import HalfTerm, Rag, Role
from review_engine.errors import Conflict
from review_engine.models import Cluster, Cycle, Person, Review, ReviewState, TransitionLog
from review_engine.phase_tables import SupportAction, TriadPlace, VisitPlan
from review_engine.runtime import Runtime
from review_engine.schedule_tables import OutboxMessage, OverdueMark, PlanStep
from review_engine.services.calendars import calendars_for
from review_engine.services.lookup import cycle_label
from review_engine.services.transitions import compiled_for

SYSTEM_ACTOR = "scheduler"
OVERDUE_REMINDERS = 4  # on the day after the due date, then weekly, at most this many
FIRST_REMINDER_DAYS = 7  # the first reminder goes this many days before the due date
_CHUNK = 5_000
# An open cycle as the tick reads it: a row of (id, cluster_id, academic_year, workflow_hash,
# state). compiled_for only reads its workflow_hash.
OpenCycle = Any
_MESSAGE_NS = uuid.UUID("6f1c1d2e-8b0a-4c39-9a64-4b4c6f7e2a10")


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


@dataclass(frozen=True)
class _Owed:
    cycle_id: int
    urn: int
    item: str  # machine name, or "action#N"
    machine: str
    state: str
    due: date
    notify_urn: int


def tick(rt: Runtime, *, now: datetime | None = None, dry_run: bool = False) -> TickReport:
    """Reconcile every open cycle with the calendar as of `now` (default: the clock)."""
    at = now or rt.clock.now()
    today = to_london(at).date()
    with rt.db.transaction() as session:
        cycles = _lock_open_cycles(session)
        labels = _labels(session, cycles)
        changes: list[str] = []
        boundaries = _apply_boundaries(session, cycles, labels, today, at, changes)
        owed = _owed(session, cycles, today)
        overdue = _mark_overdue(session, owed, cycles, labels, today, at, changes)
        reminders = _queue_reminders(session, owed, labels, today, at)
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
    for chunk in _chunks(list(ids)):
        for cluster_id, name in session.exec(
            select(Cluster.id, Cluster.name).where(_in(session, Cluster.id, chunk))
        ):
            names[cluster_id or 0] = name
    return {cid: cycle_label(names[c.cluster_id], c.academic_year) for cid, c in cycles.items()}


def _apply_boundaries(
    session: Session,
    cycles: dict[int, OpenCycle],
    labels: dict[int, str],
    today: date,
    at: datetime,
    changes: list[str],
) -> int:
    """Apply passed boundaries in order, several per cycle if the machine was off."""
    steps: dict[int, list[Any]] = defaultdict(list)
    for chunk in _chunks(list(cycles)):
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
                _in(session, PlanStep.cycle_id, chunk),
                col(PlanStep.applied_at).is_(None),
                PlanStep.kind == "boundary",
                PlanStep.due_on <= today,
            )
            .order_by(col(PlanStep.cycle_id), col(PlanStep.position))
        ).all()
        for step in rows:
            steps[step.cycle_id].append(step)
    moves: dict[tuple[str, str], list[int]] = defaultdict(list)
    history: list[dict[str, Any]] = []
    done_steps: list[int] = []
    applied = 0
    for cycle_id, pending in steps.items():
        cycle = cycles[cycle_id]
        definition = compiled_for(session, cycle).definition.cycle_machine
        start = state = cycle.state
        for step in pending:
            transition = definition.by_state.get(state, {}).get(step.trigger)
            if state == step.from_state and transition is not None and not transition.guards:
                history.append(
                    {
                        "cycle_id": cycle_id,
                        "school_urn": None,
                        "machine": definition.name,
                        "from_state": state,
                        "to_state": step.to_state,
                        "trigger": step.trigger,
                        "actor": SYSTEM_ACTOR,
                        "reason": f"boundary due {step.due_on:%d %b %Y}",
                        "at": at,
                    }
                )
                changes.append(
                    f"{labels[cycle_id]}: {state} -> {step.to_state} "
                    f"({step.trigger}, due {step.due_on:%d %b %Y})"
                )
                state = step.to_state
                applied += 1
            else:
                changes.append(f"{labels[cycle_id]}: {step.trigger} skipped, the cycle is {state}")
            assert step.id is not None
            done_steps.append(step.id)
        if state != start:
            moves[(start, state)].append(cycle_id)
    for (start, end), ids in moves.items():
        for chunk in _chunks(ids):
            result = session.execute(
                update(Cycle)
                .where(_in(session, Cycle.id, chunk), col(Cycle.state) == start)
                .values(state=end, version=Cycle.version + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != len(chunk):  # type: ignore[attr-defined]
                raise Conflict("cycles being advanced", "changed by another process")
    for chunk in _chunks(done_steps):
        session.execute(
            update(PlanStep)
            .where(_in(session, PlanStep.id, chunk))
            .values(applied_at=at)
            .execution_options(synchronize_session=False)
        )
    if history:
        session.connection().execute(insert(_table(TransitionLog)), history)
    return applied


def _owed(session: Session, cycles: dict[int, OpenCycle], today: date) -> list[_Owed]:
    """Per-school work with a due date that is not done yet (four queries in all). Deadlines
    too far ahead for a reminder are left out, and per-school states are read only for the
    cycles that have something due, visited or in support."""
    owed: list[_Owed] = []
    if not cycles:
        return owed
    ids = list(cycles)
    horizon = today + timedelta(days=FIRST_REMINDER_DAYS)
    fixed: list[Any] = []
    visits: list[Any] = []
    actions: list[Any] = []
    for chunk in _chunks(ids):
        fixed += session.exec(
            select(PlanStep.cycle_id, PlanStep.trigger, PlanStep.due_on).where(  # type: ignore[call-overload]
                _in(session, PlanStep.cycle_id, chunk),
                PlanStep.kind == "deadline",
                PlanStep.due_on <= horizon,
            )
        ).all()
        visits += session.exec(
            select(
                Review.cycle_id,
                Review.school_urn,
                col(VisitPlan.visited_on),
                col(VisitPlan.visit_date),
            )
            .join(Review, col(Review.id) == VisitPlan.review_id)
            .where(_in(session, Review.cycle_id, chunk))
        ).all()
        actions += session.exec(
            select(SupportAction, Review.cycle_id, Review.school_urn)
            .join(Review, col(Review.id) == SupportAction.review_id)
            .where(_in(session, Review.cycle_id, chunk), SupportAction.rag != Rag.COMPLETE)
        ).all()
    needed = {s.cycle_id for s in fixed} | {v[0] for v in visits} | {a[1] for a in actions}
    states: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
    for chunk in _chunks(sorted(needed)):
        for cycle_id, urn, machine, state in session.exec(
            select(Review.cycle_id, Review.school_urn, ReviewState.machine, ReviewState.state)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(_in(session, Review.cycle_id, chunk))
        ):
            states[(cycle_id, machine)][urn] = state
    for step in fixed:
        spec = compiled_for(session, cycles[step.cycle_id]).definition.deadlines.get(step.trigger)
        done = set((spec or {}).get("done", ()))
        for urn, state in states[(step.cycle_id, step.trigger)].items():
            if state not in done:
                owed.append(
                    _Owed(step.cycle_id, urn, step.trigger, step.trigger, state, step.due_on, urn)
                )
    owed += _owed_writeups(session, cycles, states, visits)
    owed += _owed_actions(session, cycles, actions, states)
    return owed


def _owed_writeups(
    session: Session,
    cycles: dict[int, OpenCycle],
    states: dict[tuple[int, str], dict[int, str]],
    planned_visits: list[Any],
) -> list[_Owed]:
    visits: list[tuple[int, int, date]] = []
    for cycle_id, urn, visited_on, planned in planned_visits:
        day = visited_on or planned
        if day is not None and states[(cycle_id, "peer_visit")].get(urn) == "visited":
            visits.append((cycle_id, urn, day))
    if not visits:
        return []
    leads: dict[tuple[int, int], int] = {}
    for chunk in _chunks(list({c for c, _, _ in visits})):
        for t in session.exec(
            select(TriadPlace).where(
                _in(session, TriadPlace.cycle_id, chunk), col(TriadPlace.is_lead).is_(True)
            )
        ):
            leads[(t.cycle_id, t.host_urn)] = t.visitor_urn
    years = defaultdict(set)
    for cycle_id, urn, _ in visits:
        years[cycles[cycle_id].academic_year].add(urn)
    calendars = {y: calendars_for(session, urns, y) for y, urns in years.items()}
    owed = []
    for cycle_id, urn, day in visits:
        spec = compiled_for(session, cycles[cycle_id]).definition.deadlines.get("write_up")
        if not spec or "school_days_after_visit" not in spec:
            continue
        state = states[(cycle_id, "write_up")].get(urn, "")
        if state in set(spec.get("done", ())):
            continue
        calendar = calendars[cycles[cycle_id].academic_year].get(urn)
        due = cycle_plan.due_after_visit(calendar, day, int(spec["school_days_after_visit"]))
        owed.append(
            _Owed(
                cycle_id, urn, "write_up", "write_up", state, due, leads.get((cycle_id, urn), urn)
            )
        )
    return owed


def _owed_actions(
    session: Session,
    cycles: dict[int, OpenCycle],
    actions: list[Any],
    states: dict[tuple[int, str], dict[int, str]],
) -> list[_Owed]:
    rows: list[SupportAction] = [a for a, _, _ in actions]
    review_of = {a.review_id: (cycle_id, urn) for a, cycle_id, urn in actions}
    by_year: dict[str, set[int]] = defaultdict(set)
    for a in rows:
        cycle_id, urn = review_of[a.review_id]
        by_year[cycles[cycle_id].academic_year].add(urn)
    calendars = {
        y: calendars_for(session, urns, y)
        for y, urns in by_year.items()
        if any(a.due_half_term for a in rows)
    }
    owed = []
    for a in rows:
        cycle_id, urn = review_of[a.review_id]
        due = a.due_date
        if due is None and a.due_half_term:
            calendar = calendars.get(cycles[cycle_id].academic_year, {}).get(urn)
            due = calendar.end_of(HalfTerm(a.due_half_term)) if calendar else None
        if due is not None:
            state = states[(cycle_id, "support")].get(urn, "")
            owed.append(_Owed(cycle_id, urn, f"action#{a.number}", "support", state, due, urn))
    return owed


def _mark_overdue(
    session: Session,
    owed: list[_Owed],
    cycles: dict[int, OpenCycle],
    labels: dict[int, str],
    today: date,
    at: datetime,
    changes: list[str],
) -> int:
    late = [o for o in owed if o.due < today]
    if not late:
        return 0
    marked: set[tuple[int, int, str]] = set()
    for chunk in _chunks(list({o.cycle_id for o in late})):
        marked |= {
            (m.cycle_id, m.school_urn, m.item)
            for m in session.exec(
                select(OverdueMark).where(_in(session, OverdueMark.cycle_id, chunk))
            )
        }
    new = [o for o in late if (o.cycle_id, o.urn, o.item) not in marked]
    if not new:
        return 0
    _insert_ignore(
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
    session.connection().execute(
        insert(_table(TransitionLog)),  # Core executemany, not the ORM's bulk insert
        [
            {
                "cycle_id": o.cycle_id,
                "school_urn": o.urn,
                "machine": o.machine,
                "from_state": o.state,
                "to_state": o.state,
                "trigger": "mark_overdue",
                "actor": SYSTEM_ACTOR,
                "reason": f"{o.item.replace('_', ' ')} was due {o.due:%d %b %Y}",
                "at": at,
            }
            for o in new
        ],
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


def _queue_reminders(
    session: Session, owed: list[_Owed], labels: dict[int, str], today: date, at: datetime
) -> int:
    wanted = [(o, k) for o in owed if (k := reminder_kind(o.due, today)) is not None]
    if not wanted:
        return 0
    keys = {f"{o.cycle_id}:{o.urn}:{o.item}:{k}": (o, k) for o, k in wanted}
    sent: set[str] = set()
    for chunk in _chunks(list(keys)):
        sent |= set(
            session.exec(
                select(OutboxMessage.dedupe_key).where(
                    _in(session, OutboxMessage.dedupe_key, chunk)
                )
            ).all()
        )
    todo = {key: v for key, v in keys.items() if key not in sent}
    if not todo:
        return 0
    recipients = _recipients(session, {o.notify_urn for o, _ in todo.values()})
    template = environment().get_template("email/reminder.txt.j2")
    rows = []
    for key, (o, kind) in todo.items():
        to = recipients.get(o.notify_urn)
        if not to:
            continue
        subject, body = _message(template, labels[o.cycle_id], o, kind, today)
        rows.append(
            {
                "message_id": str(uuid.uuid5(_MESSAGE_NS, key)),
                "dedupe_key": key,
                "recipient": to,
                "subject": subject,
                "body": body,
                "cycle_id": o.cycle_id,
                "school_urn": o.urn,
                "item": o.item,
                "created_at": at,
                "attempts": 0,
            }
        )
    _insert_ignore(session, OutboxMessage, rows)
    return len(rows)


def _message(template: Any, label: str, o: _Owed, kind: str, today: date) -> tuple[str, str]:
    what = {
        "self_review": "your self-evaluation (SEF)",
        "write_up": f"the WWW/EBI write-up for school {o.urn}",
    }.get(o.item, f"support action {o.item.removeprefix('action')}")
    overdue = kind.startswith("overdue")
    subject = (
        f"Overdue: {what} ({label})"
        if overdue
        else f"Reminder: {what} is due {o.due:%d %b %Y} ({label})"
    )
    body = template.render(
        cycle=label, what=what, due=o.due, overdue=overdue, days=abs((o.due - today).days)
    )
    return subject, body


def _recipients(session: Session, urns: set[int]) -> dict[int, str]:
    """One address per school: its head teacher, else another member of its staff."""
    found: dict[int, tuple[int, str]] = {}
    rank = {Role.HEAD: 0, Role.DEPUTY: 1, Role.SENIOR_LEADER: 2}
    for chunk in _chunks(list(urns)):
        for person in session.exec(select(Person).where(_in(session, Person.school_urn, chunk))):
            assert person.school_urn is not None
            score = rank.get(Role(person.role), 9)
            if person.school_urn not in found or score < found[person.school_urn][0]:
                found[person.school_urn] = (score, person.email)
    return {urn: email for urn, (_, email) in found.items()}


def _insert_ignore(session: Session, table: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping any a concurrent tick already wrote (unique keys)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    session.connection().execute(maker(_table(table)).on_conflict_do_nothing(), list(rows))


def _in(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` sent as one bound parameter (an array on PostgreSQL, a JSON array
    read by json_each on SQLite): thousands of ids cost no more to compile and send than one."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(listed.c.value))


def _table(model: type[Any]) -> Table:
    """A model's Core table: executemany without the ORM's bulk-insert bookkeeping."""
    table: Table = model.__table__
    return table


def _chunks(items: Sequence[Any] | Iterable[Any]) -> Iterable[list[Any]]:
    items = list(items)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
