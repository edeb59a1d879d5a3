"""What one person owes, across every open cycle they have a part in: as their school's
staff, as a visiting school, as a facilitator. The page of the web app a head sees first.

The work is read from the workflow: in each school's current state, the triggers the person
may fire (the transition's `actors:`, as `CycleContext.fire` asks) that are someone's work
(`_WORK`: the contract's triggers that a person does, in a head teacher's words). The
facilitator's own work is what only they may fire (accepting or returning a SEF), and
chasing what is overdue in their clusters. Due dates and overdue marks come from the same
place as the reminders and the tick's marks (`_due_work`, `OverdueMark`).

A fixed number of statements, whatever the size or number of the person's clusters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from review_engine.clock import to_london
from review_engine.core.domain import Rag
from review_engine.core.phases import (
    Part,
    SelfReviewTrigger,
    SupportTrigger,
    VisitState,
    VisitTrigger,
    WriteUpTrigger,
    cycle_words,
)
from review_engine.core.relations import Relation
from review_engine.core.workflow import WorkflowDef
from review_engine.errors import NotPermitted
from review_engine.rules import policy
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services import _due_work as due_work
from review_engine.services._compiled import compiled_for
from review_engine.services._due_work import OpenCycle, Owed
from review_engine.services._lookup import cycle_label
from review_engine.services.feedback import REFLECTION_WEEKS
from review_engine.store.models import Cluster, Cycle, Review, ReviewState, School, TransitionLog
from review_engine.store.phase_tables import (
    Feedback,
    SupportAction,
    TriadPlace,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)
from review_engine.store.schedule_tables import OverdueMark, PlanStep


@dataclass(frozen=True)
class WorkItem:
    cycle: str  # the cycle's label, as other services take it (`cycle=`)
    cluster: str
    urn: int  # the school the work is about (the host, for a visit or a write-up)
    school: str
    page: str  # "sef" | "visit" | "writeup" | "support" | "feedback"
    what: str
    due: date | None
    overdue: bool


# The contract's triggers that are a person's work, with the page that does each.
_WORK: dict[tuple[Part, str], str] = {
    (Part.SELF_REVIEW, SelfReviewTrigger.START): "sef",
    (Part.SELF_REVIEW, SelfReviewTrigger.SUBMIT): "sef",
    (Part.SELF_REVIEW, SelfReviewTrigger.REDRAFT): "sef",
    (Part.SELF_REVIEW, SelfReviewTrigger.ACCEPT): "sef",
    (Part.SELF_REVIEW, SelfReviewTrigger.RETURN): "sef",
    (Part.PEER_VISIT, VisitTrigger.AGREE_FOCUS): "visit",
    (Part.PEER_VISIT, VisitTrigger.SCHEDULE): "visit",
    (Part.PEER_VISIT, VisitTrigger.COMPLETE): "visit",
    (Part.WRITE_UP, WriteUpTrigger.DRAFT): "writeup",
    (Part.WRITE_UP, WriteUpTrigger.REVIEWERS_AGREE): "writeup",
    (Part.WRITE_UP, WriteUpTrigger.HOST_AGREE): "writeup",
    (Part.WRITE_UP, WriteUpTrigger.PUBLISH): "writeup",
    (Part.SUPPORT, SupportTrigger.AGREE_PLAN): "support",
}
_SCHOOL_SIDE = frozenset(
    {Relation.SCHOOL, Relation.REVIEWER, Relation.LEAD_REVIEWER, Relation.CO_REVIEWER}
)


def my_work(rt: Runtime) -> list[WorkItem]:
    """Everything the acting person owes in their open cycles: overdue first, then by due
    date, cycle and school. Work is per person: the operator and the scheduler are refused."""
    today = to_london(rt.clock.now()).date()
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        if actor.system:
            raise NotPermitted(
                actor.name, "list their work", "work is listed per person; act as a person"
            )
        if actor.school_urn is None and not actor.facilitates:
            return []
        cycles = _open_cycles(session, actor)
        if not cycles:
            return []
        items = _Reader(session, actor, cycles, today).items()
    items.sort(key=lambda i: (not i.overdue, i.due or date.max, i.cycle, i.school, i.what))
    return items


def _open_cycles(session: Session, actor: Actor) -> list[tuple[Cycle, str]]:
    """Cycles of the clusters the actor facilitates, or in which their school has a review,
    that are not finished (one query)."""
    mine = select(Review.cycle_id).where(Review.school_urn == actor.school_urn)
    rows = session.exec(
        select(Cycle, Cluster.name)
        .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
        .where(or_(col(Cycle.cluster_id).in_(actor.facilitates), col(Cycle.id).in_(mine)))
        .order_by(col(Cycle.id))
    ).all()
    return [
        (cycle, name)
        for cycle, name in rows
        if cycle.state not in compiled_for(session, cycle).definition.cycle_machine.final
    ]


class _Reader:
    """The rows of the person's cycles, read set-based once, and the items they give."""

    def __init__(
        self, session: Session, actor: Actor, cycles: list[tuple[Cycle, str]], today: date
    ) -> None:
        self.session, self.actor, self.today = session, actor, today
        self.cycles = {c.id: c for c, _ in cycles if c.id is not None}
        self.clusters = {c.id: name for c, name in cycles if c.id is not None}
        self.definitions: dict[int, WorkflowDef] = {
            i: compiled_for(session, c).definition for i, c in self.cycles.items()
        }
        ids = list(self.cycles)
        self.states: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
        self.names: dict[int, str] = {}
        for cycle_id, urn, name, machine, state in session.exec(
            select(  # type: ignore[call-overload]
                Review.cycle_id,
                Review.school_urn,
                School.name,
                ReviewState.machine,
                ReviewState.state,
            )
            .join(School, col(School.urn) == Review.school_urn)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(col(Review.cycle_id).in_(ids))
        ):
            self.states[(cycle_id, urn)][machine] = state
            self.names[urn] = name
        self.visits: dict[tuple[int, int], list[tuple[int, bool]]] = defaultdict(list)
        self.visited_by_me: dict[tuple[int, int], bool] = {}
        for cycle_id, host, visitor, lead in session.exec(
            select(
                TriadPlace.cycle_id, TriadPlace.host_urn, TriadPlace.visitor_urn, TriadPlace.is_lead
            ).where(col(TriadPlace.cycle_id).in_(ids))
        ):
            self.visits[(cycle_id, host)].append((visitor, lead))
            if visitor == actor.school_urn:
                self.visited_by_me[(cycle_id, host)] = lead
        self.days: dict[tuple[int, int], date | None] = {
            (cycle_id, urn): visited_on or planned
            for cycle_id, urn, visited_on, planned in session.exec(
                select(
                    Review.cycle_id,
                    Review.school_urn,
                    col(VisitPlan.visited_on),
                    col(VisitPlan.visit_date),
                )
                .join(Review, col(Review.id) == VisitPlan.review_id)
                .where(col(Review.cycle_id).in_(ids))
            )
        }
        # Decisions on the current version of each write-up, oldest first.
        self.decisions: dict[tuple[int, int], list[tuple[int, str, str | None]]] = defaultdict(list)
        for cycle_id, host, school, decision, reason in session.exec(
            select(  # type: ignore[call-overload]
                Review.cycle_id,
                Review.school_urn,
                WriteUpDecision.school_urn,
                WriteUpDecision.decision,
                WriteUpDecision.reason,
            )
            .join(WriteUp, col(WriteUp.id) == WriteUpDecision.writeup_id)
            .join(Review, col(Review.id) == WriteUp.review_id)
            .where(col(Review.cycle_id).in_(ids), WriteUpDecision.version == WriteUp.version)
            .order_by(col(WriteUpDecision.id))
        ):
            self.decisions[(cycle_id, host)].append((school, decision, reason))
        self.actions: list[Any] = list(
            session.exec(
                select(  # type: ignore[call-overload]
                    Review.cycle_id,
                    Review.school_urn,
                    SupportAction.number,
                    SupportAction.title,
                    SupportAction.supporting_urn,
                )
                .join(Review, col(Review.id) == SupportAction.review_id)
                .where(col(Review.cycle_id).in_(ids), SupportAction.rag != Rag.COMPLETE)
                .order_by(col(SupportAction.number))
            )
        )
        self.feedback = set(
            map(
                tuple,
                session.exec(
                    select(Review.cycle_id, Review.school_urn, Feedback.from_urn, Feedback.kind)
                    .join(Review, col(Review.id) == Feedback.review_id)
                    .where(col(Review.cycle_id).in_(ids))
                ),
            )
        )
        self.marks = set(
            map(
                tuple,
                session.exec(
                    select(OverdueMark.cycle_id, OverdueMark.school_urn, OverdueMark.item).where(
                        col(OverdueMark.cycle_id).in_(ids)
                    )
                ),
            )
        )
        self.deadlines = {
            (cycle_id, machine): due
            for cycle_id, machine, due in session.exec(
                select(PlanStep.cycle_id, PlanStep.trigger, col(PlanStep.due_on)).where(
                    col(PlanStep.cycle_id).in_(ids), PlanStep.kind == "deadline"
                )
            )
        }
        self.returned: dict[tuple[int, int], str] = {}
        sef_machines = {
            d.parts[Part.SELF_REVIEW].name
            for d in self.definitions.values()
            if Part.SELF_REVIEW in d.parts
        }
        for cycle_id, urn, reason in session.exec(
            select(TransitionLog.cycle_id, col(TransitionLog.school_urn), col(TransitionLog.reason))
            .where(
                col(TransitionLog.cycle_id).in_(ids),
                col(TransitionLog.machine).in_(sef_machines),
                TransitionLog.trigger == SelfReviewTrigger.RETURN,
            )
            .order_by(col(TransitionLog.id))
        ):
            if urn is not None:
                self.returned[(cycle_id, urn)] = reason or ""
        open_cycles = {
            i: OpenCycle(i, c.cluster_id, c.academic_year, c.workflow_hash, c.state)
            for i, c in self.cycles.items()
        }
        self.owed: list[Owed] = due_work.owed_work(session, open_cycles, today)
        self.owed_due = {(o.cycle_id, o.urn, o.item): o.due for o in self.owed}

    # --- items ------------------------------------------------------------------------------

    def items(self) -> list[WorkItem]:
        found: dict[tuple[str, int, str, str], WorkItem] = {}
        mine = self.actor.school_urn
        for cycle_id, cycle in self.cycles.items():
            facilitating = cycle.cluster_id in self.actor.facilitates
            urns = {u for c, u in self.states if c == cycle_id}
            if not facilitating:
                urns &= {mine, *(h for c, h in self.visited_by_me if c == cycle_id)}
            for urn in sorted(urns):
                have = policy.relations_to(
                    self.actor, cycle, urn, self.visited_by_me.get((cycle_id, urn))
                )
                for item in self._from_states(cycle_id, urn, have):
                    found.setdefault((item.cycle, item.urn, item.page, item.what), item)
            for item in self._feedback(cycle_id) + self._actions(cycle_id):
                found.setdefault((item.cycle, item.urn, item.page, item.what), item)
            if facilitating:
                for item in self._chase(cycle_id):
                    found.setdefault((item.cycle, item.urn, item.page, item.what), item)
        return list(found.values())

    def _item(
        self, cycle_id: int, urn: int, page: str, what: str, due: date | None, mark: str | None
    ) -> WorkItem:
        cycle = self.cycles[cycle_id]
        late = (cycle_id, urn, mark) in self.marks or (due is not None and due < self.today)
        return WorkItem(
            cycle=cycle_label(self.clusters[cycle_id], cycle.academic_year),
            cluster=self.clusters[cycle_id],
            urn=urn,
            school=self.names.get(urn, str(urn)),
            page=page,
            what=what,
            due=due,
            overdue=mark is not None and late,
        )

    def _from_states(self, cycle_id: int, urn: int, have: set[Relation]) -> list[WorkItem]:
        """The triggers the person may fire in the school's current states that are work."""
        definition = self.definitions[cycle_id]
        states = self.states[(cycle_id, urn)]
        school_side = have & _SCHOOL_SIDE
        items = []
        for part, machine in definition.parts.items():
            state = states.get(machine.name)
            if state is None:
                continue
            for trigger, transition in machine.by_state.get(state, {}).items():
                page = _WORK.get((part, trigger))
                if page is None:
                    continue
                actors = set(transition.actors)
                if school_side & actors:
                    what = self._school_work(cycle_id, urn, part, trigger, have)
                elif Relation.FACILITATOR in have and actors == {Relation.FACILITATOR}:
                    what = self._facilitator_work(urn, part, trigger)
                else:
                    continue
                if what is None:
                    continue
                due = None
                if part is Part.SELF_REVIEW and Relation.SCHOOL in have:
                    due = self.deadlines.get((cycle_id, machine.name))
                elif part is Part.WRITE_UP and trigger == WriteUpTrigger.DRAFT:
                    due = self.owed_due.get((cycle_id, urn, machine.name))
                elif part is Part.PEER_VISIT and trigger == VisitTrigger.COMPLETE:
                    due = self.days.get((cycle_id, urn))
                mark = machine.name if part is not Part.PEER_VISIT else None
                items.append(self._item(cycle_id, urn, page, what, due, mark))
        items += self._redraft_writeup(cycle_id, urn, have)
        return items

    def _school_work(
        self, cycle_id: int, urn: int, part: Part, trigger: str, have: set[Relation]
    ) -> str | None:
        host = self.names.get(urn, str(urn))
        definition = self.definitions[cycle_id]
        states = self.states[(cycle_id, urn)]
        if part is Part.SELF_REVIEW:
            if trigger == SelfReviewTrigger.REDRAFT:
                reason = self.returned.get((cycle_id, urn), "")
                return f"Redraft your self-evaluation (returned: {reason})"
            if trigger in (SelfReviewTrigger.START, SelfReviewTrigger.SUBMIT):
                return "Submit your self-evaluation"
            return None
        if part is Part.PEER_VISIT:
            if trigger == VisitTrigger.AGREE_FOCUS:
                return "Agree the visit focus"
            if trigger == VisitTrigger.SCHEDULE:
                return "Choose the visit date"
            day = self.days.get((cycle_id, urn))
            if day is not None and day <= self.today:
                return "Record the visit as held"
            return None
        if part is Part.WRITE_UP:
            returned = any(d == "returned" for _, d, _ in self.decisions[(cycle_id, urn)])
            if trigger == WriteUpTrigger.DRAFT:
                visit = definition.parts.get(Part.PEER_VISIT)
                if visit is not None and states.get(visit.name) != VisitState.VISITED:
                    return None  # nothing to write up before the visit
                return f"Draft the write-up for {host}"
            if trigger == WriteUpTrigger.REVIEWERS_AGREE:
                agreed = {s for s, d, _ in self.decisions[(cycle_id, urn)] if d == "agreed"}
                if returned or self.actor.school_urn in agreed:
                    return None
                return f"Agree the write-up for {host}"
            if trigger == WriteUpTrigger.HOST_AGREE and Relation.SCHOOL in have:
                return "Agree your school's write-up"
            if trigger == WriteUpTrigger.PUBLISH and Relation.SCHOOL in have:
                return "Publish your write-up"
            return None
        if part is Part.SUPPORT and trigger == SupportTrigger.AGREE_PLAN:
            writeup = definition.parts.get(Part.WRITE_UP)
            if writeup is not None and states.get(writeup.name) not in writeup.final:
                return None  # the plan comes from the published write-up's EBIs
            return "Agree your support plan"
        return None

    def _facilitator_work(self, urn: int, part: Part, trigger: str) -> str | None:
        if part is Part.SELF_REVIEW and trigger in (
            SelfReviewTrigger.ACCEPT,
            SelfReviewTrigger.RETURN,
        ):
            return f"Accept or return the SEF of {self.names.get(urn, str(urn))}"
        return None

    def _redraft_writeup(self, cycle_id: int, urn: int, have: set[Relation]) -> list[WorkItem]:
        """A write-up returned to its lead reviewer (its state is drafted again)."""
        if Relation.LEAD_REVIEWER not in have:
            return []
        machine = self.definitions[cycle_id].parts.get(Part.WRITE_UP)
        if machine is None:
            return []
        state = self.states[(cycle_id, urn)].get(machine.name, "")
        if WriteUpTrigger.RETURN not in machine.by_state.get(state, {}):
            return []
        reasons = [r for _, d, r in self.decisions[(cycle_id, urn)] if d == "returned"]
        if not reasons:
            return []
        what = f"Redraft the write-up for {self.names.get(urn, urn)} (returned: {reasons[-1]})"
        return [self._item(cycle_id, urn, "writeup", what, None, None)]

    def _feedback(self, cycle_id: int) -> list[WorkItem]:
        """Feedback the person's school owes on visits that happened (as `feedback.missing`)."""
        mine = self.actor.school_urn
        visit = self.definitions[cycle_id].parts.get(Part.PEER_VISIT)
        if mine is None or visit is None:
            return []
        items = []
        for (c, host), states in self.states.items():
            if c != cycle_id or states.get(visit.name) != VisitState.VISITED:
                continue
            visitor = (cycle_id, host) in self.visited_by_me
            if host != mine and not visitor:
                continue
            day = self.days.get((cycle_id, host)) or self.today
            name = "your school" if host == mine else self.names.get(host, str(host))
            if (cycle_id, host, mine, "immediate") not in self.feedback:
                what = f"Give feedback on the visit to {name}"
                items.append(self._item(cycle_id, host, "feedback", what, day, None))
            reflect = day + timedelta(weeks=REFLECTION_WEEKS)
            given = (cycle_id, host, mine, "reflection") in self.feedback
            if visitor and reflect <= self.today and not given:
                what = f"Reflect on the visit to {name}: what your school changed"
                items.append(self._item(cycle_id, host, "feedback", what, reflect, None))
        return items

    def _actions(self, cycle_id: int) -> list[WorkItem]:
        """Open support actions of the person's school, and those it supports."""
        mine = self.actor.school_urn
        support = self.definitions[cycle_id].parts.get(Part.SUPPORT)
        if mine is None or support is None:
            return []
        updaters = {
            a for t in support.transitions if t.trigger == SupportTrigger.START for a in t.actors
        }
        items = []
        for c, urn, number, title, supporting in self.actions:
            if c != cycle_id:
                continue
            if self.states[(cycle_id, urn)].get(support.name) in support.final:
                continue
            item = f"action#{number}"
            due = self.owed_due.get((cycle_id, urn, item))
            if urn == mine and Relation.SCHOOL in updaters:
                what = f"Update action {number}: {title}"
            elif supporting == mine:
                what = f"Support {self.names.get(urn, urn)} with action {number}: {title}"
            else:
                continue
            items.append(self._item(cycle_id, urn, "support", what, due, item))
        return items

    def _chase(self, cycle_id: int) -> list[WorkItem]:
        """What is overdue in a cycle the person facilitates, for them to chase."""
        items = []
        for o in self.owed:
            if o.cycle_id != cycle_id or o.part is Part.PEER_VISIT:
                continue
            if not ((cycle_id, o.urn, o.item) in self.marks or o.due < self.today):
                continue
            school = self.names.get(o.urn, str(o.urn))
            if o.part is Part.SELF_REVIEW:
                what, page = f"Chase {school}: the self-evaluation is overdue", "sef"
            elif o.part is Part.WRITE_UP:
                lead = self.names.get(o.notify_urn, str(o.notify_urn))
                what, page = f"Chase {lead}: the write-up for {school} is overdue", "writeup"
            elif o.part is Part.SUPPORT:
                number = o.item.removeprefix("action#")
                what, page = f"Chase {school}: action {number} is overdue", "support"
            else:
                what, page = f"Chase {school}: {o.label or o.item} is overdue", "sef"
            items.append(self._item(cycle_id, o.urn, page, what, o.due, o.item))
        return items


# --- the person's cycles, with a way into each school's pages ------------------------------


@dataclass(frozen=True)
class SchoolEntry:
    urn: int
    school: str
    part: str  # "your school" | "you visit" | "you lead the visit" | "in your cluster"
    pages: tuple[str, ...]  # the pages of this school the person may open


@dataclass(frozen=True)
class CycleEntry:
    cycle: str  # the label services take
    cluster: str
    year: str
    phase: str  # the cycle's phase in words
    finished: bool
    schools: list[SchoolEntry]


_OWN_PAGES = ("sef", "visit", "writeup", "support", "feedback")
_VISITING_PAGES = ("visit", "writeup", "feedback")


def my_cycles(rt: Runtime) -> list[CycleEntry]:
    """Every cycle the acting person has a part in, finished ones included, newest first:
    their own school, the schools they visit, and (for a facilitator) every school of the
    cluster. A fixed number of statements, whatever the size of the clusters."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        if actor.system:
            raise NotPermitted(
                actor.name, "list their cycles", "cycles are listed per person; act as a person"
            )
        if actor.school_urn is None and not actor.facilitates:
            return []
        mine = select(Review.cycle_id).where(Review.school_urn == actor.school_urn)
        rows = session.exec(
            select(Cycle, Cluster)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .where(or_(col(Cycle.cluster_id).in_(actor.facilitates), col(Cycle.id).in_(mine)))
            .order_by(col(Cycle.academic_year).desc(), col(Cluster.name))
        ).all()
        ids = [c.id for c, _ in rows if c.id is not None]
        finished = {
            c.id
            for c, _ in rows
            if c.state in compiled_for(session, c).definition.cycle_machine.final
        }
        visits = session.exec(
            select(TriadPlace.cycle_id, TriadPlace.host_urn, TriadPlace.is_lead).where(
                col(TriadPlace.cycle_id).in_(ids), TriadPlace.visitor_urn == actor.school_urn
            )
        ).all()
        schools = session.exec(
            select(Review.cycle_id, School.urn, School.name)
            .join(School, col(School.urn) == Review.school_urn)
            .where(col(Review.cycle_id).in_(ids))
        ).all()
    names: dict[tuple[int, int], str] = {(c, u): n for c, u, n in schools}
    visited: dict[int, dict[int, bool]] = defaultdict(dict)
    for cycle_id, host, lead in visits:
        visited[cycle_id][host] = lead
    entries = []
    for cycle, cluster in rows:
        assert cycle.id is not None
        runs_it = cycle.cluster_id in actor.facilitates
        found: list[SchoolEntry] = []
        for (cycle_id, urn), name in sorted(names.items(), key=lambda kv: kv[1]):
            if cycle_id != cycle.id:
                continue
            if urn == actor.school_urn:
                found.insert(0, SchoolEntry(urn, name, "your school", _OWN_PAGES))
            elif urn in visited[cycle.id]:
                part = "you lead the visit" if visited[cycle.id][urn] else "you visit"
                found.append(SchoolEntry(urn, name, part, _VISITING_PAGES))
            elif runs_it:
                found.append(SchoolEntry(urn, name, "in your cluster", _OWN_PAGES))
        entries.append(
            CycleEntry(
                cycle=cycle_label(cluster, cycle.academic_year),
                cluster=cluster.name,
                year=cycle.academic_year,
                phase=cycle_words(cycle.state),
                finished=cycle.id in finished,
                schools=found,
            )
        )
    return entries
