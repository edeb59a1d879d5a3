"""Clusters and their membership."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from review_engine.core.safe_text import check_cluster_name, check_day
from review_engine.errors import AlreadyExists, InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import (
    check_urns,
    cycle_label,
    get_cluster,
    get_person,
    refuse_taken_cluster_name,
)
from review_engine.store.models import Cluster, Cycle, Membership, Person, School


@dataclass(frozen=True)
class MemberView:
    urn: int
    name: str
    phase: str | None
    la_name: str | None
    joined: date


@dataclass(frozen=True)
class ClusterView:
    name: str
    facilitator: str | None
    framework: str
    trust_conflicts: bool
    members: list[MemberView] = field(default_factory=list)
    cycles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterSummary:
    name: str
    facilitator: str | None
    members: int
    cycles: int


def create_cluster(
    rt: Runtime,
    *,
    name: str,
    facilitator_email: str | None = None,
    framework: str = "eif2019",
    trust_conflicts: bool = False,
) -> ClusterView:
    """Create an empty cluster, optionally with its facilitator."""
    name = check_cluster_name(name)
    if not name or "/" in name:
        raise InvalidInput(f"cluster name {name!r} must be non-empty and contain no '/'")
    with rt.db.transaction() as session:
        policy.require_admin(policy.resolve_actor(session, rt.actor), f"create cluster {name}")
        refuse_taken_cluster_name(session, name)
        if session.exec(select(Cluster).where(Cluster.name == name)).first():
            raise AlreadyExists("cluster", name)
        facilitator = get_person(session, facilitator_email) if facilitator_email else None
        cluster = Cluster(
            name=name,
            facilitator_id=facilitator.id if facilitator else None,
            framework=framework,
            trust_conflicts=trust_conflicts,
            created_at=rt.clock.now(),
        )
        session.add(cluster)
        session.flush()
        return ClusterView(
            name=name,
            facilitator=facilitator.email if facilitator else None,
            framework=framework,
            trust_conflicts=trust_conflicts,
        )


def _current_members(cluster_id: int) -> object:
    return select(Membership).where(
        Membership.cluster_id == cluster_id, col(Membership.left).is_(None)
    )


def add_schools(
    rt: Runtime, *, cluster: str, urns: list[int], joined: date | None = None
) -> list[int]:
    """Add schools to a cluster, all or none; returns the URNs newly added."""
    check_urns(*urns)
    if joined is not None:
        check_day(joined, "joined")
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        assert found.id is not None
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_cluster(actor, found.id, f"add schools to {found.name}")
        schools = {s.urn: s for s in session.exec(select(School).where(col(School.urn).in_(urns)))}
        missing = [u for u in urns if u not in schools]
        if missing:
            raise NotFound("school", ", ".join(map(str, missing)), "import it first")
        closed = [s for s in schools.values() if s.is_closed]
        if closed:
            s = closed[0]
            when = f" on {s.close_date:%d-%m-%Y}" if s.close_date else ""
            raise InvalidInput(
                f"school {s.urn} ({s.name}) closed{when}; closed schools cannot join"
            )
        assert found.id is not None
        present = {
            m.school_urn
            for m in session.exec(_current_members(found.id))  # type: ignore[call-overload]
        }
        added = [u for u in dict.fromkeys(urns) if u not in present]
        day = joined or rt.clock.now().date()
        session.add_all(Membership(cluster_id=found.id, school_urn=u, joined=day) for u in added)
        return added


def remove_school(rt: Runtime, *, cluster: str, urn: int, left: date | None = None) -> None:
    """End a school's membership (kept as history: its `left` date is set)."""
    check_urns(urn)
    if left is not None:
        check_day(left, "left")
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        assert found.id is not None
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_cluster(actor, found.id, f"remove a school from {found.name}")
        membership = session.exec(
            select(Membership).where(
                Membership.cluster_id == found.id,
                Membership.school_urn == urn,
                col(Membership.left).is_(None),
            )
        ).first()
        if membership is None:
            raise NotFound("member", urn, f"school {urn} is not in cluster {cluster}")
        membership.left = left or rt.clock.now().date()
        session.add(membership)


def show_cluster(rt: Runtime, *, name: str) -> ClusterView:
    with rt.db.transaction() as session:
        cluster = get_cluster(session, name)
        rows = session.exec(
            select(Membership, School)
            .join(School, col(School.urn) == Membership.school_urn)
            .where(Membership.cluster_id == cluster.id, col(Membership.left).is_(None))
            .order_by(School.name)
        ).all()
        facilitator = (
            session.get(Person, cluster.facilitator_id) if cluster.facilitator_id else None
        )
        years = session.exec(
            select(Cycle.academic_year)
            .where(Cycle.cluster_id == cluster.id)
            .order_by(Cycle.academic_year)
        ).all()
        return ClusterView(
            name=cluster.name,
            facilitator=facilitator.email if facilitator else None,
            framework=cluster.framework,
            trust_conflicts=cluster.trust_conflicts,
            members=[
                MemberView(
                    urn=s.urn, name=s.name, phase=s.phase, la_name=s.la_name, joined=m.joined
                )
                for m, s in rows
            ],
            cycles=[cycle_label(cluster, y) for y in years],
        )


def list_clusters(rt: Runtime) -> list[ClusterSummary]:
    with rt.db.transaction() as session:
        members = dict(
            session.exec(
                select(Membership.cluster_id, func.count())
                .where(col(Membership.left).is_(None))
                .group_by(col(Membership.cluster_id))
            ).all()
        )
        cycles = dict(
            session.exec(
                select(Cycle.cluster_id, func.count()).group_by(col(Cycle.cluster_id))
            ).all()
        )
        rows = session.exec(
            select(Cluster, Person.email)
            .outerjoin(Person, col(Person.id) == Cluster.facilitator_id)
            .order_by(Cluster.name)
        ).all()
        return [
            ClusterSummary(
                name=c.name,
                facilitator=email,
                members=members.get(c.id or 0, 0),
                cycles=cycles.get(c.id or 0, 0),
            )
            for c, email in rows
        ]
