"""What the dashboard reads, and what it makes of it: the rows of some cycles, read
set-based once (a fixed number of statements whatever their size), turned into the grid's
cells, what waits on whom, and the year's figures. `services/dashboard.py` is the API."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from review_engine.clock import to_london
from review_engine.core.domain import HalfTerm, Rag, Role
from review_engine.core.phases import (
    Part,
    SelfReviewTrigger,
    SupportTrigger,
    VisitState,
    VisitTrigger,
    WriteUpTrigger,
    state_words,
)
from review_engine.core.relations import Relation
from review_engine.core.workflow import MachineDef, WorkflowDef
from review_engine.rules.policy import Actor
from review_engine.services import _due_work as due_work
from review_engine.services._compiled import compiled_for
from review_engine.services._lookup import cycle_label
from review_engine.services.calendars import calendars_for
from review_engine.services.mywork import _WORK
from review_engine.store.batch import in_
from review_engine.store.models import (
    Cluster,
    Cycle,
    Person,
    Review,
    ReviewState,
    School,
    TransitionLog,
)
from review_engine.store.phase_tables import (
    Feedback,
    SupportAction,
    TriadPlace,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)
from review_engine.store.schedule_tables import OverdueMark

STATUSES = {  # status -> (words, RAG colour)
    "not_started": ("Not started", "grey"),
    "in_progress": ("In progress", "amber"),
    "done": ("Done", "green"),
    "overdue": ("Overdue", "red"),
}
# What a person does for each trigger that is work, as the end of "Waiting for X to ...".
_DOING: dict[tuple[Part, str], str] = {
    (Part.SELF_REVIEW, SelfReviewTrigger.START): "submit the SEF",
    (Part.SELF_REVIEW, SelfReviewTrigger.SUBMIT): "submit the SEF",
    (Part.SELF_REVIEW, SelfReviewTrigger.REDRAFT): "redraft and resubmit the returned SEF",
    (Part.SELF_REVIEW, SelfReviewTrigger.ACCEPT): "accept or return the SEF of {school}",
    (Part.SELF_REVIEW, SelfReviewTrigger.RETURN): "accept or return the SEF of {school}",
    (Part.PEER_VISIT, VisitTrigger.AGREE_FOCUS): "agree the visit focus",
    (Part.PEER_VISIT, VisitTrigger.SCHEDULE): "choose the visit date",
    (Part.PEER_VISIT, VisitTrigger.COMPLETE): "record the visit as held",
    (Part.WRITE_UP, WriteUpTrigger.DRAFT): "draft the write-up for {school}",
    (Part.WRITE_UP, WriteUpTrigger.REVIEWERS_AGREE): "agree the write-up for {school}",
    (Part.WRITE_UP, WriteUpTrigger.HOST_AGREE): "check and agree the write-up",
    (Part.WRITE_UP, WriteUpTrigger.PUBLISH): "publish the write-up",
    (Part.SUPPORT, SupportTrigger.AGREE_PLAN): "agree the support plan",
}
_WHO_ORDER = (Relation.SCHOOL, Relation.LEAD_REVIEWER, Relation.CO_REVIEWER, Relation.REVIEWER)
MONTHS = ("Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug")


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    machine: str
    label: str  # the machine in words, from the workflow
    page: str  # the school's page for this part


@dataclass(frozen=True)
class Cell:
    machine: str
    state: str
    words: str
    status: str  # not_started | in_progress | done | overdue
    status_words: str
    rag: str  # grey | amber | green | red
    overdue: bool


@dataclass(frozen=True)
class SchoolRow:
    cycle: str
    cluster: str
    year: str
    urn: int
    school: str
    la_code: str
    la_name: str
    cells: tuple[Cell, ...]
    actions: dict[str, int]  # RAG -> count
    actions_overdue: int
    visits_given: int
    visits_received: int
    feedback_count: int
    feedback_mean: float | None

    @property
    def overdue(self) -> bool:
        return any(c.overdue for c in self.cells)


@dataclass(frozen=True)
class Waiting:
    cycle: str
    cluster: str
    urn: int
    school: str
    on: str  # who it waits on, in words ("you", "the head of X (Name)")
    what: str  # the whole sentence
    page: str
    due: date | None
    overdue: bool


@dataclass(frozen=True)
class Figures:
    """The charts' figures (the same go in the tables and the CSV)."""

    months: tuple[str, ...]
    progress: tuple[tuple[str, tuple[int, ...]], ...]  # (phase label, schools done by month)
    rag: dict[str, int]
    actions_overdue: int
    visits_by: str  # "school" | "cluster"
    visits: tuple[tuple[str, int, int], ...]  # (name, given, received)
    feedback: dict[int, int]  # usefulness 1-5 -> how many
    feedback_mean: float | None
    status_counts: tuple[tuple[str, dict[str, int]], ...]  # (phase label, status -> schools)


@dataclass(frozen=True)
class ActionLine:
    number: int
    title: str
    owner: str
    rag: str
    due: date | None
    overdue: bool
    supporting: str | None


# --- reading ----------------------------------------------------------------------------------


class Reader:
    """The rows of some cycles, read set-based once, and what the dashboard makes of them."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        cycles: list[tuple[Cycle, Cluster]],
        today: date,
        only: int | None = None,
    ) -> None:
        self.session, self.actor, self.today = session, actor, today
        self.cycles = {c.id: c for c, _ in cycles if c.id is not None}
        self.clusters = {c.id: cl for c, cl in cycles if c.id is not None}
        self.definitions: dict[int, WorkflowDef] = {
            i: compiled_for(session, c).definition for i, c in self.cycles.items()
        }
        self.columns = self._columns()
        ids = list(self.cycles)
        self.states: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
        self.names: dict[int, str] = {}
        self.las: dict[int, tuple[str, str]] = {}
        self.places: dict[tuple[int, int], list[tuple[int, bool]]] = defaultdict(list)
        self.plans: dict[tuple[int, int], tuple[Any, ...]] = {}
        self.actions: list[Any] = []
        self.feedback: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.feedback_count: Counter[tuple[int, int]] = Counter()
        self.agreed: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.heads: dict[int, str] = {}
        self.facilitators: dict[int, str] = {}
        self.done_at: list[tuple[int, int, str, datetime]] = []
        self.owed: list[due_work.Owed] = []
        self.marks: set[tuple[int, int, str]] = set()
        self.due: dict[tuple[int, int, str], date] = {}
        self.calendars: dict[int, Any] = {}
        if not ids:
            return
        self._read(ids, only)

    def _columns(self) -> list[Column]:
        """The per-school machines of the cycles' workflows, in workflow order (a programme
        view over several workflows shows each machine once)."""
        seen: dict[str, Column] = {}
        for definition in self.definitions.values():
            for m in definition.school_machines:
                if m.name not in seen:
                    page = (
                        {
                            Part.SELF_REVIEW: "sef",
                            Part.PEER_VISIT: "visit",
                            Part.WRITE_UP: "writeup",
                            Part.SUPPORT: "support",
                        }.get(m.part, "")
                        if m.part
                        else ""
                    )
                    label = definition.label(m.name)
                    seen[m.name] = Column(m.name, label[:1].upper() + label[1:], page)
        return list(seen.values())

    def _read(self, ids: list[int], only: int | None) -> None:
        session = self.session
        in_cycles = in_(session, Review.cycle_id, ids)
        school_filter = [Review.school_urn == only] if only is not None else []
        for cycle_id, urn, _name, la_code, la_name, machine, state in session.exec(
            select(  # type: ignore[call-overload]
                Review.cycle_id,
                Review.school_urn,
                School.name,
                School.la_code,
                School.la_name,
                ReviewState.machine,
                ReviewState.state,
            )
            .join(School, col(School.urn) == Review.school_urn)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(in_cycles, *school_filter)
        ):
            self.states[(cycle_id, urn)][machine] = state
            self.las[urn] = (la_code or "", la_name or "")
        members = select(Review.school_urn).where(in_(session, Review.cycle_id, ids))
        # Every member's name (a visitor's too, for the school page), and their heads.
        for urn, name in session.exec(
            select(School.urn, School.name).where(col(School.urn).in_(members))
        ):
            self.names[urn] = name
        for urn, name in session.exec(
            select(Person.school_urn, Person.name)
            .where(
                col(Person.school_urn).in_(members),
                Person.role == Role.HEAD.value,
                col(Person.active).is_(True),
            )
            .order_by(col(Person.id))
        ):
            if urn is not None:
                self.heads.setdefault(urn, name)
        for cluster_id, name in session.exec(
            select(Cluster.id, Person.name)
            .join(Person, col(Person.id) == Cluster.facilitator_id)
            .where(col(Cluster.id).in_({c.cluster_id for c in self.cycles.values()}))
        ):
            if cluster_id is not None:
                self.facilitators[cluster_id] = name
        for cycle_id, host, visitor, lead in session.exec(
            select(
                TriadPlace.cycle_id, TriadPlace.host_urn, TriadPlace.visitor_urn, TriadPlace.is_lead
            )
            .where(in_(session, TriadPlace.cycle_id, ids))
            .order_by(col(TriadPlace.is_lead).desc(), col(TriadPlace.visitor_urn))
        ):
            self.places[(cycle_id, host)].append((visitor, lead))
        for cycle_id, urn, planned, held, slot, cancelled in session.exec(
            select(  # type: ignore[call-overload]
                Review.cycle_id,
                Review.school_urn,
                VisitPlan.visit_date,
                VisitPlan.visited_on,
                VisitPlan.slot,
                VisitPlan.cancelled,
            )
            .join(Review, col(Review.id) == VisitPlan.review_id)
            .where(in_cycles)
        ):
            self.plans[(cycle_id, urn)] = (planned, held, slot, cancelled)
        for cycle_id, host, school in session.exec(
            select(Review.cycle_id, Review.school_urn, WriteUpDecision.school_urn)
            .join(WriteUp, col(WriteUp.id) == WriteUpDecision.writeup_id)
            .join(Review, col(Review.id) == WriteUp.review_id)
            .where(
                in_cycles,
                WriteUpDecision.version == WriteUp.version,
                WriteUpDecision.decision == "agreed",
            )
        ):
            self.agreed[(cycle_id, host)].add(school)
        self.actions = list(
            session.exec(
                select(  # type: ignore[call-overload]
                    Review.cycle_id,
                    Review.school_urn,
                    SupportAction.number,
                    SupportAction.title,
                    SupportAction.owner,
                    SupportAction.rag,
                    SupportAction.due_date,
                    SupportAction.due_half_term,
                    SupportAction.supporting_urn,
                )
                .join(Review, col(Review.id) == SupportAction.review_id)
                .where(in_cycles)
                .order_by(col(SupportAction.number))
            )
        )
        for cycle_id, urn, usefulness in session.exec(
            select(Review.cycle_id, Review.school_urn, Feedback.usefulness)
            .join(Review, col(Review.id) == Feedback.review_id)
            .where(in_cycles)
        ):
            self.feedback_count[(cycle_id, urn)] += 1
            if usefulness is not None:
                self.feedback[(cycle_id, urn)].append(usefulness)
        self.marks = {
            (m[0], m[1], m[2])
            for m in session.exec(
                select(OverdueMark.cycle_id, OverdueMark.school_urn, OverdueMark.item).where(
                    in_(session, OverdueMark.cycle_id, ids)
                )
            )
        }
        # When each school first reached a final state of each machine (the progress chart).
        finals = {
            s
            for d in self.definitions.values()
            for m in d.school_machines
            for s in m.final
            if s != VisitState.CANCELLED
        }
        self.done_at = [
            (cycle_id, urn, machine, at)
            for cycle_id, urn, machine, at in session.exec(
                select(
                    TransitionLog.cycle_id,
                    TransitionLog.school_urn,
                    TransitionLog.machine,
                    func.min(TransitionLog.at),
                )
                .where(
                    in_(session, TransitionLog.cycle_id, ids),
                    col(TransitionLog.to_state).in_(finals),
                    col(TransitionLog.school_urn).is_not(None),
                    *([TransitionLog.school_urn == only] if only is not None else []),
                )
                .group_by(
                    col(TransitionLog.cycle_id),
                    col(TransitionLog.school_urn),
                    col(TransitionLog.machine),
                )
            )
            if urn is not None and at is not None
        ]
        running = {
            i: due_work.OpenCycle(i, c.cluster_id, c.academic_year, c.workflow_hash, c.state)
            for i, c in self.cycles.items()
            if c.state not in self.definitions[i].cycle_machine.final
        }
        self.owed = due_work.owed_work(session, running, self.today)
        for o in self.owed:
            self.due.setdefault((o.cycle_id, o.urn, o.machine), o.due)
        urns = {u for _, u in self.states}
        years = {c.academic_year for c in self.cycles.values()}
        if any(a[7] for a in self.actions) and len(years) == 1:
            self.calendars = calendars_for(session, urns, years.pop())

    def _states(self, cycle_id: int, urn: int) -> dict[str, str]:
        """A school's states (empty for a school not read: a visitor, on a school's page)."""
        return self.states.get((cycle_id, urn), {})

    # --- what is overdue --------------------------------------------------------------------

    def _late(self, o: due_work.Owed) -> bool:
        if o.part is Part.PEER_VISIT:
            return False  # a visit is never marked overdue: the write-up's deadline follows it
        return (o.cycle_id, o.urn, o.item) in self.marks or o.due < self.today

    def _overdue_machines(self) -> dict[tuple[int, int], set[str]]:
        found: dict[tuple[int, int], set[str]] = defaultdict(set)
        for o in self.owed:
            if self._late(o):
                found[(o.cycle_id, o.urn)].add(o.machine)
        return found

    def action_lines(self, cycle_id: int, urn: int) -> list[ActionLine]:
        lines = []
        for c, u, number, title, owner, rag, due, half_term, supporting in self.actions:
            if (c, u) != (cycle_id, urn):
                continue
            if due is None and half_term and u in self.calendars:
                due = self.calendars[u].end_of(HalfTerm(half_term))
            lines.append(
                ActionLine(
                    number,
                    title,
                    owner,
                    rag,
                    due,
                    rag != Rag.COMPLETE and due is not None and due < self.today,
                    self.names.get(supporting) if supporting else None,
                )
            )
        return lines

    def _actions_overdue(self) -> Counter[tuple[int, int]]:
        """Open actions past their due date, as the cluster report counts them (a completed
        action is never overdue, whatever mark it once had)."""
        found: Counter[tuple[int, int]] = Counter()
        for o in self.owed:
            if o.part is Part.SUPPORT and o.due < self.today:
                found[(o.cycle_id, o.urn)] += 1
        return found

    # --- rows ---------------------------------------------------------------------------------

    def school_rows(self) -> list[SchoolRow]:
        overdue = self._overdue_machines()
        rag: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
        for c, u, *_rest in self.actions:
            rag[(c, u)][_rest[3]] += 1
        late_actions = self._actions_overdue()
        given: Counter[tuple[int, int]] = Counter()
        received: Counter[tuple[int, int]] = Counter()
        for (cycle_id, host), visitors in self.places.items():
            visit = self.definitions[cycle_id].parts.get(Part.PEER_VISIT)
            if visit is None or self._states(cycle_id, host).get(visit.name) != VisitState.VISITED:
                continue
            received[(cycle_id, host)] += 1
            for visitor, _ in visitors:
                given[(cycle_id, visitor)] += 1
        rows = []
        for (cycle_id, urn), states in self.states.items():
            definition = self.definitions[cycle_id]
            late = overdue[(cycle_id, urn)]
            cells = tuple(
                self._cell(
                    definition.machines[c.machine], states.get(c.machine, ""), c.machine in late
                )
                if c.machine in definition.machines
                else Cell(c.machine, "", "—", "not_started", "Not in its workflow", "grey", False)
                for c in self.columns
            )
            scores = self.feedback.get((cycle_id, urn), [])
            cycle, cluster = self.cycles[cycle_id], self.clusters[cycle_id]
            la_code, la_name = self.las.get(urn, ("", ""))
            rows.append(
                SchoolRow(
                    cycle=cycle_label(cluster, cycle.academic_year),
                    cluster=cluster.name,
                    year=cycle.academic_year,
                    urn=urn,
                    school=self.names.get(urn, str(urn)),
                    la_code=la_code,
                    la_name=la_name,
                    cells=cells,
                    actions=dict(rag[(cycle_id, urn)]),
                    actions_overdue=late_actions[(cycle_id, urn)],
                    visits_given=given[(cycle_id, urn)],
                    visits_received=received[(cycle_id, urn)],
                    feedback_count=self.feedback_count[(cycle_id, urn)],
                    feedback_mean=round(sum(scores) / len(scores), 1) if scores else None,
                )
            )
        rows.sort(key=lambda r: (r.cluster, r.school, r.urn))
        return rows

    def _cell(self, machine: MachineDef, state: str, overdue: bool) -> Cell:
        if overdue:
            status = "overdue"
        elif state in machine.final and state != VisitState.CANCELLED:
            status = "done"
        elif state == machine.initial or state == VisitState.CANCELLED:
            status = "not_started"
        else:
            status = "in_progress"
        words, rag = STATUSES[status]
        return Cell(
            machine.name, state, state_words(machine.part, state), status, words, rag, overdue
        )

    def state_options(self) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
        """The states a person may filter by: by progress, then each phase's states in words."""
        found = [("Progress", tuple((k, w) for k, (w, _) in STATUSES.items()))]
        machines: dict[str, MachineDef] = {}
        for d in self.definitions.values():
            for m in d.school_machines:
                machines.setdefault(m.name, m)
        for column in self.columns:
            m = machines[column.machine]
            found.append(
                (
                    column.label,
                    tuple((f"{m.name}:{s}", state_words(m.part, s)) for s in m.states),
                )
            )
        return tuple(found)

    # --- waiting ------------------------------------------------------------------------------

    def waiting(self) -> list[Waiting]:
        """What each school's work waits for, and on whom; overdue items first."""
        late: dict[tuple[int, int, str], date] = {}
        for o in self.owed:
            if self._late(o) and not o.item.startswith("action#"):
                late[(o.cycle_id, o.urn, o.machine)] = o.due
        late_by_school: dict[tuple[int, int], dict[str, date]] = defaultdict(dict)
        for (c, u, m), due in late.items():
            late_by_school[(c, u)][m] = due
        acted = {(c, u) for c, u, *_ in self.actions}
        items: list[Waiting] = []
        for (cycle_id, urn), states in sorted(self.states.items()):
            cycle = self.cycles[cycle_id]
            definition = self.definitions[cycle_id]
            running = cycle.state not in definition.cycle_machine.final
            if not running or cycle.state == definition.cycle_machine.initial:
                continue
            listed = set()
            for part, machine in definition.parts.items():
                found = self._waiting_on(cycle_id, urn, part, machine, states)
                key = (cycle_id, urn, machine.name)
                if found is not None:
                    on, what, page = found
                    when = late.get(key) or self.due.get(key)
                    items.append(self._entry(cycle_id, urn, on, what, page, when, key in late))
                    listed.add(machine.name)
            for m, due in late_by_school.get((cycle_id, urn), {}).items():
                if m not in listed:
                    label = definition.label(m)
                    school = self.names.get(urn, str(urn))
                    on = self._school_person(urn)
                    what = f"{label[:1].upper() + label[1:]} of {school} is overdue"
                    items.append(self._entry(cycle_id, urn, on, what, "", due, True))
            for line in self.action_lines(cycle_id, urn) if (cycle_id, urn) in acted else ():
                if line.overdue and self._support_open(cycle_id, urn):
                    on = self._school_person(urn)
                    what = f"Waiting for {on} to complete action {line.number}: {line.title}"
                    items.append(self._entry(cycle_id, urn, on, what, "support", line.due, True))
        return items

    def _support_open(self, cycle_id: int, urn: int) -> bool:
        support = self.definitions[cycle_id].parts.get(Part.SUPPORT)
        return support is not None and self._states(cycle_id, urn).get(support.name) not in (
            support.final
        )

    def _entry(
        self, cycle_id: int, urn: int, on: str, what: str, page: str, due: date | None, late: bool
    ) -> Waiting:
        cycle, cluster = self.cycles[cycle_id], self.clusters[cycle_id]
        return Waiting(
            cycle=cycle_label(cluster, cycle.academic_year),
            cluster=cluster.name,
            urn=urn,
            school=self.names.get(urn, str(urn)),
            on=on,
            what=what,
            page=page,
            due=due,
            overdue=late,
        )

    def _waiting_on(
        self, cycle_id: int, urn: int, part: Part, machine: MachineDef, states: dict[str, str]
    ) -> tuple[str, str, str] | None:
        """(on whom, the sentence, the page) for the work the school's state waits for."""
        state = states.get(machine.name, "")
        for trigger, transition in machine.by_state.get(state, {}).items():
            page = _WORK.get((part, trigger))
            doing = _DOING.get((part, trigger))
            if page is None or doing is None or not self._due_now(cycle_id, urn, part, trigger):
                continue
            actors = set(transition.actors)
            relation = next((r for r in _WHO_ORDER if r in actors), None)
            if relation is None and Relation.FACILITATOR not in actors:
                continue
            on = self._person(cycle_id, urn, relation)
            if on is None:
                continue
            school = self.names.get(urn, str(urn))
            if relation is not Relation.SCHOOL and "{school}" not in doing:
                doing += " of {school}"
            what = f"Waiting for {on} to {doing.format(school=school)}"
            return on, what, page
        return None

    def _due_now(self, cycle_id: int, urn: int, part: Part, trigger: str) -> bool:
        """Whether the work can be done yet (as My work asks: a write-up after the visit, a
        support plan after the write-up, a visit recorded on or after its day)."""
        definition = self.definitions[cycle_id]
        states = self._states(cycle_id, urn)
        if part is Part.WRITE_UP and trigger == WriteUpTrigger.DRAFT:
            visit = definition.parts.get(Part.PEER_VISIT)
            return visit is None or states.get(visit.name) == VisitState.VISITED
        if part is Part.SUPPORT:
            writeup = definition.parts.get(Part.WRITE_UP)
            return writeup is None or states.get(writeup.name) in writeup.final
        if part is Part.PEER_VISIT and trigger == VisitTrigger.COMPLETE:
            plan = self.plans.get((cycle_id, urn))
            day = (plan[1] or plan[0]) if plan else None
            return day is not None and day <= self.today
        if part is Part.PEER_VISIT:
            return bool(self.places.get((cycle_id, urn)))
        return True

    def _school_person(self, urn: int) -> str:
        school = self.names.get(urn, str(urn))
        head = self.heads.get(urn)
        return f"the head of {school} ({head})" if head else school

    def _person(self, cycle_id: int, urn: int, relation: Relation | None) -> str | None:
        if relation is Relation.SCHOOL:
            return self._school_person(urn)
        places = self.places.get((cycle_id, urn), [])
        if relation is Relation.LEAD_REVIEWER:
            lead = next((v for v, is_lead in places if is_lead), None)
            if lead is None:
                return None
            return f"the lead reviewer ({self.names.get(lead, str(lead))})"
        if relation in (Relation.CO_REVIEWER, Relation.REVIEWER):
            agreed = self.agreed.get((cycle_id, urn), set())
            waiting = [
                self.names.get(v, str(v))
                for v, is_lead in places
                if (relation is Relation.REVIEWER or not is_lead) and v not in agreed
            ]
            if not waiting:
                return None
            noun = "co-reviewer" if relation is Relation.CO_REVIEWER else "reviewer"
            plural = "s" if len(waiting) > 1 else ""
            return f"the {noun}{plural} ({', '.join(waiting)})"
        cluster_id = self.cycles[cycle_id].cluster_id
        if cluster_id in self.actor.facilitates:
            return "you"
        name = self.facilitators.get(cluster_id)
        return f"the facilitator ({name})" if name else "the facilitator"

    # --- figures --------------------------------------------------------------------------

    def figures(self, rows: list[SchoolRow], programme: bool) -> Figures:
        shown = {(r.cycle, r.urn) for r in rows}
        keys = {
            (cycle_id, urn)
            for (cycle_id, urn) in self.states
            if (cycle_label(self.clusters[cycle_id], self.cycles[cycle_id].academic_year), urn)
            in shown
        }
        months = self._months()
        done: dict[str, list[date]] = defaultdict(list)
        for cycle_id, urn, machine, at in self.done_at:
            if (cycle_id, urn) in keys:
                done[machine].append(to_london(at).date())
        ends = [_month_end(m) for m in months]
        progress = tuple(
            (c.label, tuple(sum(1 for d in done[c.machine] if d <= end) for end in ends))
            for c in self.columns
        )
        rag: Counter[str] = Counter()
        for r in rows:
            rag.update(r.actions)
        scores = Counter(s for key in keys for s in self.feedback.get(key, []) if 1 <= s <= 5)
        total = sum(k * v for k, v in scores.items())
        count = sum(scores.values())
        if programme and len({r.cluster for r in rows}) > 1:
            by_cluster: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for r in rows:
                by_cluster[r.cluster][0] += r.visits_given
                by_cluster[r.cluster][1] += r.visits_received
            visits = tuple((name, g, v) for name, (g, v) in sorted(by_cluster.items()))
            visits_by = "cluster"
        else:
            visits = tuple((r.school, r.visits_given, r.visits_received) for r in rows)
            visits_by = "school"
        status_counts = tuple(
            (
                c.label,
                {
                    s: sum(1 for r in rows for cell in r.cells if cell.machine == c.machine
                           and cell.status == s)
                    for s in STATUSES
                },
            )
            for c in self.columns
        )  # fmt: skip
        return Figures(
            months=tuple(f"{MONTHS[(m.month - 9) % 12]} {m.year % 100:02d}" for m in months),
            progress=progress,
            rag={r.value: rag.get(r.value, 0) for r in Rag},
            actions_overdue=sum(r.actions_overdue for r in rows),
            visits_by=visits_by,
            visits=visits,
            feedback={k: scores.get(k, 0) for k in range(1, 6)},
            feedback_mean=round(total / count, 1) if count else None,
            status_counts=status_counts,
        )

    def _months(self) -> list[date]:
        """The first day of each month of the academic year, to this month."""
        years = sorted({c.academic_year for c in self.cycles.values()})
        start = int(years[0][:4]) if years else self.today.year
        first = date(start, 9, 1)
        months: list[date] = []
        for n in range(12):
            year, month = divmod(8 + n, 12)
            day = date(start + year, month + 1, 1)
            if day > self.today and months:
                break
            months.append(day)
        return months or [first]


def _month_end(first: date) -> date:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)
