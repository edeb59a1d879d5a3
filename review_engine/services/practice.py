"""The good-practice directory: "who to visit for what", filtered by who may see each entry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import get_cluster
from review_engine.store.models import Cluster, Cycle, Membership, School
from review_engine.store.phase_tables import GoodPractice, TriadPlace, WriteUp


@dataclass(frozen=True)
class PracticeEntry:
    cluster: str
    academic_year: str
    area: str
    urn: int
    school: str
    description: str
    contact: str


def list_practice(
    rt: Runtime, *, cluster: str | None = None, area: str | None = None
) -> list[PracticeEntry]:
    """Entries the actor may see: a facilitator sees their clusters'; a school sees entries
    from write-ups shared with it. The filter runs before anything is counted or listed."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        query = (
            select(  # type: ignore[call-overload]
                GoodPractice, WriteUp, School.name, Cluster.name, Cycle.academic_year
            )
            .join(WriteUp, col(WriteUp.id) == GoodPractice.writeup_id)
            .join(School, col(School.urn) == GoodPractice.school_urn)
            .join(Cluster, col(Cluster.id) == GoodPractice.cluster_id)
            .join(Cycle, col(Cycle.id) == GoodPractice.cycle_id)
            .order_by(col(GoodPractice.area), col(School.name))
        )
        if cluster is not None:
            query = query.where(GoodPractice.cluster_id == get_cluster(session, cluster).id)
        if area is not None:
            query = query.where(GoodPractice.area == area)
        rows = session.exec(query).all()
        readable = _readable(session, actor, rows)
        return [
            PracticeEntry(cname, year, gp.area, gp.school_urn, sname, gp.description, gp.contact)
            for gp, wu, sname, cname, year in rows
            if wu.id in readable
        ]


def _readable(session: Session, actor: policy.Actor, rows: Sequence[Any]) -> set[int]:
    """Write-up ids the actor may read among these rows (three queries in all)."""
    writeups = {wu.id: (wu, gp.cycle_id, gp.cluster_id, gp.school_urn) for gp, wu, *_ in rows}
    if not writeups:
        return set()
    if actor.system:
        return set(writeups)
    cycles = {c for _, c, _, _ in writeups.values()}
    reviewers: dict[tuple[int, int], set[int]] = defaultdict(set)
    for t in session.exec(select(TriadPlace).where(col(TriadPlace.cycle_id).in_(cycles))):
        reviewers[(t.cycle_id, t.host_urn)].add(t.visitor_urn)
    members: dict[int, set[int]] = defaultdict(set)
    clusters = {cl for _, _, cl, _ in writeups.values()}
    for m in session.exec(
        select(Membership).where(
            col(Membership.cluster_id).in_(clusters), col(Membership.left).is_(None)
        )
    ):
        members[m.cluster_id].add(m.school_urn)
    allowed = set()
    for wid, (wu, cycle_id, cluster_id, host) in writeups.items():
        if cluster_id in actor.facilitates:
            allowed.add(wid)
        elif actor.school_urn is not None:
            readers = policy.writeup_readers(
                wu, {host, *reviewers[(cycle_id, host)]}, members[cluster_id]
            )
            if actor.school_urn in readers:
                allowed.add(wid)
    return allowed


def suggest_supporters(rt: Runtime, *, cluster: str, area: str | None) -> list[PracticeEntry]:
    """Schools with recorded good practice in an area, for pairing a support action."""
    return list_practice(rt, cluster=cluster, area=area)
