"""What phase services share: the cycle being worked on, who is acting, and firing triggers
inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from review_engine.core.engine import Fired
from review_engine.core.relations import Relation
from review_engine.rules import policy
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services._lookup import cycle_label, get_cycle, get_review, get_school
from review_engine.services.transitions import apply_trigger, review_states
from review_engine.store.models import Cluster, Cycle, Review, School


@dataclass
class CycleContext:
    """One cycle, in one transaction, as one actor."""

    session: Session
    cycle: Cycle
    cluster: Cluster
    actor: Actor
    now: datetime

    @property
    def label(self) -> str:
        return cycle_label(self.cluster, self.cycle.academic_year)

    @property
    def cycle_id(self) -> int:
        assert self.cycle.id is not None
        return self.cycle.id

    def review(self, urn: int) -> Review:
        return get_review(self.session, self.cycle, urn, self.label)

    def school(self, urn: int) -> School:
        return get_school(self.session, urn)

    def states(self, urn: int) -> dict[str, str]:
        review = self.review(urn)
        assert review.id is not None
        return review_states(self.session, review.id)

    def relations(self, urn: int | None) -> set[Relation]:
        return policy.relations(self.session, self.actor, self.cycle, urn)

    def require(self, urn: int | None, allowed: set[Relation], action: str) -> set[Relation]:
        have = self.relations(urn)
        policy.require(have, allowed, actor=self.actor, action=action)
        return have

    def require_visible(self, urn: int, what: str) -> None:
        policy.require_visible(self.session, self.actor, self.cycle, urn, what)

    def fire(
        self,
        machine: str,
        trigger: str,
        urn: int | None,
        *,
        reason: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Fired:
        return apply_trigger(
            self.session,
            cycle=self.cycle,
            cluster=self.cluster,
            machine=machine,
            trigger=trigger,
            school_urn=urn,
            actor=self.actor.name,
            at=self.now,
            reason=reason,
            options=options,
        )


def open_cycle(session: Session, rt: Runtime, ref: str) -> CycleContext:
    cycle, cluster = get_cycle(session, ref)
    actor = policy.resolve_actor(session, rt.actor)
    return CycleContext(session, cycle, cluster, actor, rt.clock.now())


def school_names(session: Session, urns: set[int]) -> dict[int, str]:
    if not urns:
        return {}
    from sqlmodel import col

    return dict(
        session.exec(select(School.urn, School.name).where(col(School.urn).in_(urns))).all()
    )
