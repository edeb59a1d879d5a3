"""The dashboard: every school of a cycle by phase, what is overdue or waiting and on whom,
and the year's figures; for a facilitator their clusters' cycles, for a programme admin or
lead a read-only view over every cluster of a year. Also one school's whole year.

The grid's columns are the cycle's per-school machines, read from its workflow; a cell is the
machine's state in words with a RAG status (done: a final state; not started: the initial
one; overdue: work owed past its due date, as the tick and My work judge it through
`_due_work.owed_work` and the overdue marks; in progress: anything else). What is waiting and
on whom is read from the workflow as My work reads it: in each school's state, the triggers
that are a person's work (`mywork._WORK`) and who the transition's `actors:` name.

Every read is set-based: a fixed number of statements whatever the number of schools or
clusters (tests/http/test_dashboard_statements.py counts them).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select

from review_engine.clock import to_london
from review_engine.core.domain import Rag
from review_engine.core.phases import STATE_WORDS, cycle_words, state_words
from review_engine.errors import NotFound
from review_engine.rules import policy
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services import _due_work as due_work
from review_engine.services._compiled import compiled_for
from review_engine.services._context import open_cycle
from review_engine.services._dashboard_read import (
    STATUSES,
    ActionLine,
    Cell,
    Column,
    Figures,
    Reader,
    SchoolRow,
    Waiting,
)
from review_engine.services._lookup import cycle_label
from review_engine.store.models import Cluster, Cycle, Person, School, TransitionLog
from review_engine.store.phase_tables import Feedback, SelfEvaluation, WriteUp

__all__ = [
    "STATE_WORDS",
    "STATUSES",
    "ActionLine",
    "Cell",
    "Column",
    "CycleOption",
    "Dashboard",
    "Figures",
    "Filters",
    "HistoryEntry",
    "PhaseYear",
    "SchoolRow",
    "SchoolYear",
    "Waiting",
    "csv_name",
    "dashboard",
    "is_programme_viewer",
    "school_year",
    "state_words",
    "to_csv",
]

PROGRAMME_ROLES = frozenset({"admin", "programme_lead"})


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the person chose: a cycle (facilitator), a year and a cluster (programme view),
    an LA, a phase (machine name), a state ("machine:state" or a status) and overdue only."""

    cycle: str | None = None
    year: str | None = None
    cluster: str | None = None
    la: str | None = None
    phase: str | None = None
    state: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class CycleOption:
    cycle: str
    cluster: str
    year: str
    phase: str


@dataclass(frozen=True)
class Dashboard:
    programme: bool
    heading: str
    as_of: date
    cycles: tuple[CycleOption, ...]  # a facilitator's cycles to choose from
    chosen: str | None  # the cycle shown (facilitator)
    years: tuple[str, ...]  # programme view: the years with cycles
    year: str | None
    clusters: tuple[str, ...]  # programme view: the clusters of the year
    las: tuple[tuple[str, str], ...]  # (code, name) of the schools shown
    columns: tuple[Column, ...]
    states: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (phase, ((value, words)...))
    filters: Filters
    total: int  # schools in scope before the phase/state/overdue filters
    rows: tuple[SchoolRow, ...]
    waiting: tuple[Waiting, ...]
    figures: Figures


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    words: str
    by: str
    reason: str


@dataclass(frozen=True)
class PhaseYear:
    column: Column
    cell: Cell
    history: tuple[HistoryEntry, ...]
    due: date | None


@dataclass(frozen=True)
class SchoolYear:
    cycle: str
    cluster: str
    year: str
    cycle_phase: str
    urn: int
    school: str
    la_name: str
    phases: tuple[PhaseYear, ...]
    sef_versions: tuple[tuple[int, datetime, str], ...]  # (version, submitted at, by)
    visit_date: date | None
    visit_held: date | None
    visit_slot: str
    visit_cancelled: bool
    visitors: tuple[tuple[str, bool], ...]  # (school, lead)
    visits_to: tuple[tuple[str, bool], ...]  # schools this one visits (school, lead)
    writeup_published: datetime | None
    actions: tuple[ActionLine, ...]
    feedback: tuple[tuple[str, str, int | None], ...]  # (from school, kind, usefulness)
    row: SchoolRow
    waiting: tuple[Waiting, ...]


# --- the dashboard -------------------------------------------------------------------------


def is_programme_viewer(actor: Actor) -> bool:
    return actor.admin or (actor.role is not None and actor.role.value in PROGRAMME_ROLES)


def dashboard(rt: Runtime, *, filters: Filters | None = None) -> Dashboard:
    """The dashboard the acting person may see: a facilitator's chosen cycle, or for a
    programme admin or lead every cluster's cycle of a year. Anyone else: not found."""
    filters = filters or Filters()
    today = to_london(rt.clock.now()).date()
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        programme = is_programme_viewer(actor)
        if not programme and not actor.facilitates:
            raise NotFound("page", "/dashboard")
        options: list[CycleOption] = []
        years: list[str] = []
        year: str | None = None
        chosen: str | None = None
        if programme:
            years = sorted(
                set(session.exec(select(Cycle.academic_year).distinct()).all()), reverse=True
            )
            year = filters.year if filters.year in years else (years[0] if years else None)
            rows = session.exec(
                select(Cycle, Cluster)
                .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
                .where(Cycle.academic_year == (year or ""))
                .order_by(col(Cluster.name))
            ).all()
        else:
            rows = session.exec(
                select(Cycle, Cluster)
                .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
                .where(col(Cycle.cluster_id).in_(actor.facilitates))
                .order_by(col(Cycle.academic_year).desc(), col(Cluster.name))
            ).all()
            options = [
                CycleOption(
                    cycle_label(cl, c.academic_year),
                    cl.name,
                    c.academic_year,
                    cycle_words(c.state),
                )
                for c, cl in rows
            ]
            labels = [o.cycle for o in options]
            if filters.cycle is not None and filters.cycle not in labels:
                raise NotFound("cycle", filters.cycle, "see your cycles on the dashboard")
            if filters.cycle is None and rows:
                # The most recent cycle still running, else the most recent.
                open_first = sorted(
                    range(len(rows)),
                    key=lambda i: (
                        rows[i][0].state
                        in compiled_for(session, rows[i][0]).definition.cycle_machine.final
                    ),
                )
                chosen = labels[open_first[0]]
            else:
                chosen = filters.cycle
            rows = [r for r, label in zip(rows, labels, strict=True) if label == chosen]
        clusters = tuple(cl.name for _, cl in rows) if programme else ()
        if programme and filters.cluster:
            rows = [r for r in rows if r[1].name == filters.cluster]
        reader = Reader(session, actor, list(rows), today)
        everything = reader.school_rows()
    scoped = [
        r
        for r in everything
        if not filters.la or r.la_code == filters.la or r.la_name == filters.la
    ]
    shown = [r for r in scoped if _matches(r, filters)]
    shown_urns = {(r.cycle, r.urn) for r in shown}
    waiting = [w for w in reader.waiting() if (w.cycle, w.urn) in shown_urns]
    waiting.sort(key=lambda w: (not w.overdue, w.due or date.max, w.cluster, w.school, w.what))
    if programme:
        heading = f"Programme dashboard, {year}" if year else "Programme dashboard"
    else:
        heading = f"Dashboard: {chosen.replace('/', ', ')}" if chosen else "Dashboard"
    las = sorted({(r.la_code, r.la_name or r.la_code) for r in everything if r.la_code})
    return Dashboard(
        programme=programme,
        heading=heading,
        as_of=today,
        cycles=tuple(options),
        chosen=chosen,
        years=tuple(years),
        year=year,
        clusters=clusters,
        las=tuple(las),
        columns=tuple(reader.columns),
        states=reader.state_options(),
        filters=filters,
        total=len(scoped),
        rows=tuple(shown),
        waiting=tuple(waiting),
        figures=reader.figures(scoped, programme),
    )


def _matches(row: SchoolRow, f: Filters) -> bool:
    cells = [c for c in row.cells if not f.phase or c.machine == f.phase]
    if f.overdue and not any(c.overdue for c in cells):
        return False
    if f.state:
        if f.state in STATUSES:
            return any(c.status == f.state for c in cells)
        machine, _, state = f.state.partition(":")
        return any(c.machine == machine and c.state == state for c in row.cells)
    return True


# --- CSV ------------------------------------------------------------------------------------


def csv_name(view: Dashboard) -> str:
    """dashboard-<cluster or programme>-<year>.csv, safe as a file name."""
    if view.programme:
        scope = view.filters.cluster or "programme"
        year = view.year or ""
    else:
        scope, _, year = (view.chosen or "cluster/").rpartition("/")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{scope}-{year}").strip("-").lower()
    return f"dashboard-{slug or 'empty'}.csv"


def to_csv(view: Dashboard) -> str:
    """The grid's figures, one row per school shown: each phase's state in words and its
    overdue flag, actions by RAG, visits given and received, feedback."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    phases = [c.label for c in view.columns]
    writer.writerow(
        [
            "Cluster",
            "Year",
            "URN",
            "School",
            "LA",
            *(h for p in phases for h in (p, f"{p} status", f"{p} overdue")),
            "Actions red",
            "Actions amber",
            "Actions green",
            "Actions complete",
            "Actions overdue",
            "Visits given",
            "Visits received",
            "Feedback responses",
            "Feedback mean usefulness",
        ]
    )
    for r in view.rows:
        by_machine = {c.machine: c for c in r.cells}
        cells: list[str] = []
        for column in view.columns:
            cell = by_machine.get(column.machine)
            if cell is None:
                cells += ["", "", ""]
            else:
                cells += [cell.words, cell.status_words, "yes" if cell.overdue else "no"]
        writer.writerow(
            [
                r.cluster,
                r.year,
                r.urn,
                _safe_cell(r.school),
                _safe_cell(r.la_name or r.la_code),
                *cells,
                r.actions.get(Rag.RED, 0),
                r.actions.get(Rag.AMBER, 0),
                r.actions.get(Rag.GREEN, 0),
                r.actions.get(Rag.COMPLETE, 0),
                r.actions_overdue,
                r.visits_given,
                r.visits_received,
                r.feedback_count,
                "" if r.feedback_mean is None else f"{r.feedback_mean:.1f}",
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A spreadsheet must not read a name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- one school's year -----------------------------------------------------------------------


def school_year(rt: Runtime, *, cycle: str, urn: int) -> SchoolYear:
    """One school's whole year in a cycle: each phase's state and dates, SEF versions, the
    visit, the write-up, actions with RAG and feedback. For the school's own staff, the
    cluster's facilitator and programme admins or leads; anyone else: not found, as for a
    school that is not in the cycle."""
    today = to_london(rt.clock.now()).date()
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        actor = ctx.actor
        missing = NotFound("school", urn, f"it is not part of cycle {ctx.label}")
        allowed = (
            is_programme_viewer(actor)
            or policy.is_facilitator(actor, ctx.cluster.id or 0)
            or (actor.school_urn == urn and actor.school_urn is not None)
        )
        if not allowed:
            raise missing
        review = ctx.records.review(urn)
        if review is None:
            raise missing
        reader = Reader(session, actor, [(ctx.cycle, ctx.cluster)], today, only=urn)
        row = next((r for r in reader.school_rows() if r.urn == urn), None)
        if row is None:
            raise missing
        history = session.exec(
            select(TransitionLog)
            .where(TransitionLog.cycle_id == ctx.cycle_id, TransitionLog.school_urn == urn)
            .order_by(col(TransitionLog.id))
        ).all()
        actors = {h.actor for h in history}
        names = dict(
            session.exec(
                select(Person.email, Person.name).where(col(Person.email).in_(actors))
            ).all()
        )
        versions = session.exec(
            select(SelfEvaluation.version, SelfEvaluation.submitted_at, SelfEvaluation.submitted_by)
            .where(SelfEvaluation.review_id == review.id)
            .order_by(col(SelfEvaluation.version))
        ).all()
        names.update(
            session.exec(
                select(Person.email, Person.name).where(
                    col(Person.email).in_({v[2] for v in versions})
                )
            ).all()
        )
        published = session.exec(
            select(WriteUp.published_at).where(WriteUp.review_id == review.id)
        ).first()
        feedback = session.exec(
            select(School.name, Feedback.kind, Feedback.usefulness)
            .join(School, col(School.urn) == Feedback.from_urn)
            .where(Feedback.review_id == review.id)
            .order_by(col(Feedback.id))
        ).all()
        definition = reader.definitions[ctx.cycle_id]
        waiting = [w for w in reader.waiting() if w.urn == urn]
        phases = []
        for column, cell in zip(reader.columns, row.cells, strict=True):
            machine = definition.machines[column.machine]
            entries = tuple(
                HistoryEntry(
                    h.at,
                    "Marked overdue"
                    if h.trigger == "mark_overdue"
                    else state_words(machine.part, h.to_state),
                    _who(names.get(h.actor, h.actor)),
                    h.reason or "",
                )
                for h in history
                if h.machine == column.machine
            )
            due = reader.due.get((ctx.cycle_id, urn, column.machine))
            phases.append(PhaseYear(column, cell, entries, due))
        plan = reader.plans.get((ctx.cycle_id, urn))
        school_names = reader.names
        return SchoolYear(
            cycle=ctx.label,
            cluster=ctx.cluster.name,
            year=ctx.cycle.academic_year,
            cycle_phase=cycle_words(ctx.cycle.state),
            urn=urn,
            school=row.school,
            la_name=row.la_name,
            phases=tuple(phases),
            sef_versions=tuple((v, at, _who(names.get(by, by))) for v, at, by in versions),
            visit_date=plan[0] if plan else None,
            visit_held=plan[1] if plan else None,
            visit_slot=(plan[2] or "") if plan else "",
            visit_cancelled=bool(plan[3]) if plan else False,
            visitors=tuple(
                (school_names.get(v, str(v)), lead)
                for v, lead in reader.places.get((ctx.cycle_id, urn), [])
            ),
            visits_to=tuple(
                (school_names.get(host, str(host)), lead)
                for (c, host), visitors in sorted(reader.places.items())
                for v, lead in visitors
                if c == ctx.cycle_id and v == urn
            ),
            writeup_published=published,
            actions=tuple(reader.action_lines(ctx.cycle_id, urn)),
            feedback=tuple((n, k, u) for n, k, u in feedback),
            row=row,
            waiting=tuple(waiting),
        )


def _who(name: str) -> str:
    return "the scheduler" if name == due_work.SYSTEM_ACTOR else name
