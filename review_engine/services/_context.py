"""What phase services share: the cycle being worked on, who is acting, what the transaction
has already read, and the one path by which a trigger is fired.

`CycleContext.fire` is the only place a single record's trigger is fired: it asks the
workflow's `actors:` who may fire it, runs the engine (state allowed? reason given? guards?)
and hands the change to `store.state_writer`, which writes it version-checked with its history
row. The phase commands, `review trigger` and (in its batched form) the tick all come here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from review_engine.core.domain import Scope
from review_engine.core.engine import CompiledWorkflow, Fired
from review_engine.core.phases import Part
from review_engine.core.relations import Relation
from review_engine.core.safe_text import check_text, check_urn
from review_engine.core.workflow import MachineDef, WorkflowDef
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.rules.guards import GuardContext
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services import notices
from review_engine.services._compiled import compiled_for
from review_engine.services._lookup import cycle_label, get_cycle, get_school
from review_engine.store.models import Cluster, Cycle, Review, School
from review_engine.store.records import CycleRecords
from review_engine.store.state_writer import StateChange, write_changes


@dataclass
class CycleContext:
    """One cycle, in one transaction, as one actor."""

    session: Session
    cycle: Cycle
    cluster: Cluster
    actor: Actor
    now: datetime
    records: CycleRecords
    compiled: CompiledWorkflow
    public_url: str | None = None  # the web app as people reach it, for links in notices
    _relations: dict[int | None, set[Relation]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return cycle_label(self.cluster, self.cycle.academic_year)

    @property
    def cycle_id(self) -> int:
        assert self.cycle.id is not None
        return self.cycle.id

    @property
    def definition(self) -> WorkflowDef:
        return self.compiled.definition

    def phase(self, part: Part) -> MachineDef:
        """The machine playing `part`; PhaseMissing (one line) if the workflow has none."""
        return self.definition.phase(part)

    def review(self, urn: int) -> Review:
        review = self.records.review(check_urn(urn))  # a typed URN, checked before any SQL
        if review is None:
            raise NotFound("school", urn, f"it is not part of cycle {self.label}")
        return review

    def school(self, urn: int) -> School:
        return get_school(self.session, urn)

    def states(self, urn: int) -> dict[str, str]:
        return self.records.states(self.review(urn))

    def state(self, urn: int, part: Part) -> str:
        """The school's state in the machine playing `part`."""
        return self.states(urn)[self.phase(part).name]

    def relations(self, urn: int | None) -> set[Relation]:
        """How the actor stands to the school (or to the cycle when urn is None)."""
        if urn not in self._relations:
            lead: bool | None = None
            if urn is not None and self.actor.school_urn is not None:
                place = next(
                    (p for p in self.records.places(urn) if p.visitor_urn == self.actor.school_urn),
                    None,
                )
                lead = None if place is None else place.is_lead
            self._relations[urn] = policy.relations_to(self.actor, self.cycle, urn, lead)
        return self._relations[urn]

    def forget_relations(self) -> None:
        """After triads change, how people stand to schools may have changed."""
        self._relations.clear()
        self.records.forget_places()

    def require(self, urn: int | None, allowed: Iterable[str], action: str) -> set[Relation]:
        have = self.relations(urn)
        policy.require(have, allowed, actor=self.actor, action=action)
        return have

    def require_actor_of(self, part: Part, trigger: str, urn: int, action: str) -> set[Relation]:
        """Refuse unless the actor may fire `trigger` of the part's machine (its `actors:`),
        for content recorded on the way to that trigger (a decision, a draft, a plan)."""
        machine = self.phase(part)
        allowed = {a for t in machine.transitions if t.trigger == trigger for a in t.actors}
        return self.require(urn, allowed, action)

    def require_a_part(self, part: Part, urn: int, action: str) -> set[Relation]:
        """Refuse unless the actor may fire some transition of the part's machine: asked
        first, so an outsider learns nothing of its state."""
        machine = self.phase(part)
        return self.require(urn, {a for t in machine.transitions for a in t.actors}, action)

    def require_visible(self, urn: int, what: str) -> None:
        policy.require_visible(self.session, self.actor, self.cycle, urn, what)

    def fire(
        self,
        machine: str | Part,
        trigger: str,
        urn: int | None,
        *,
        reason: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Fired:
        """Fire one trigger as the actor: the one engine call every single-record path uses."""
        if reason is not None:
            check_text(reason, "reason")  # kept in history: bounded, no NUL (PostgreSQL refuses)
        if isinstance(machine, Part):
            mdef = self.phase(machine)
        else:
            mdef = self.definition.machine(machine)
        review: Review | None = None
        states: Mapping[str, str] = {}
        if mdef.scope is Scope.CYCLE:
            if urn is not None:
                raise InvalidInput(f"machine {mdef.name} is the cycle's own; drop --school")
            subject, state, version = self.label, self.cycle.state, self.cycle.version
        else:
            if urn is None:
                raise InvalidInput(f"machine {mdef.name} runs per school; give --school URN")
            if self.cycle.state in self.definition.cycle_machine.final:
                raise InvalidInput(
                    f"cycle {self.label} is {self.cycle.state}; nothing in it can change"
                )
            review = self.review(urn)
            states = self.records.states(review)
            subject = f"{self.label} school {urn}"
            state, version = states[mdef.name], review.version
        have = self.relations(urn)
        self._check_actor(have, mdef, state, trigger, subject)
        ctx = self._guard_input(review, states, have, reason, options)
        fired = self.compiled.fire(
            subject=subject, machine=mdef.name, trigger=trigger, state=state, ctx=ctx
        )
        change = StateChange(
            cycle_id=self.cycle_id,
            machine=mdef.name,
            trigger=trigger,
            from_state=fired.from_state,
            to_state=fired.to_state,
            school_urn=urn,
            review_id=review.id if review is not None else None,
            version=version,
            reason=reason,
            subject=subject,
        )
        write_changes(self.session, [change], actor=self.actor.name, at=self.now)
        if review is not None and review.id is not None:
            self.records.note_state(review.id, mdef.name, fired.to_state)
        notices.after_fire(self, [change])  # the event's notices, in the same transaction
        return fired

    def fire_many(self, part: Part, trigger: str, urns: list[int]) -> list[Fired]:
        """Fire one trigger on many schools' machines, as `fire` does one by one (actors,
        engine, guards), reading and writing set-based: a fixed number of statements."""
        if not urns:
            return []
        mdef = self.phase(part)
        self.records.preload(urns)
        changes, done = [], []
        for urn in urns:
            review = self.review(urn)
            assert review.id is not None
            states = self.records.states(review)
            subject = f"{self.label} school {urn}"
            have = self.relations(urn)
            self._check_actor(have, mdef, states[mdef.name], trigger, subject)
            ctx = self._guard_input(review, states, have, None, None)
            fired = self.compiled.fire(
                subject=subject,
                machine=mdef.name,
                trigger=trigger,
                state=states[mdef.name],
                ctx=ctx,
            )
            changes.append(
                StateChange(
                    cycle_id=self.cycle_id,
                    machine=mdef.name,
                    trigger=trigger,
                    from_state=fired.from_state,
                    to_state=fired.to_state,
                    school_urn=urn,
                    review_id=review.id,
                    subject=subject,
                )
            )
            done.append(fired)
        write_changes(self.session, changes, actor=self.actor.name, at=self.now)
        for change in changes:
            assert change.review_id is not None
            self.records.note_state(change.review_id, change.machine, change.to_state)
        notices.after_fire(self, changes)  # all the events' notices, set-based
        return done

    def _guard_input(
        self,
        review: Review | None,
        states: Mapping[str, str],
        have: set[Relation],
        reason: str | None,
        options: Mapping[str, Any] | None,
    ) -> GuardContext:
        return GuardContext(
            records=self.records,
            definition=self.definition,
            review=review,
            states=states,
            actor=self.actor.name,
            relations=frozenset(have),
            now=self.now,
            reason=reason,
            options=options or {},
        )

    def _check_actor(
        self, have: set[Relation], mdef: MachineDef, state: str, trigger: str, subject: str
    ) -> None:
        """Refuse a trigger the acting person may not fire (the workflow's `actors`)."""
        action = f"{trigger} {mdef.name} of {subject}"
        if not have:  # asked before anything that depends on state: outsiders learn nothing
            raise NotPermitted(self.actor.name, action, "you have no part in it")
        transition = mdef.transition(state, trigger)
        if transition is None:
            return  # the engine explains what is allowed in this state
        policy.require(have, transition.actors, actor=self.actor, action=action)


def open_cycle(session: Session, rt: Runtime, ref: str) -> CycleContext:
    cycle, cluster = get_cycle(session, ref)
    actor = policy.resolve_actor(session, rt.actor)
    return CycleContext(
        session,
        cycle,
        cluster,
        actor,
        rt.clock.now(),
        CycleRecords(session, cycle, cluster),
        compiled_for(session, cycle),
        public_url=rt.settings.public_url,
    )
