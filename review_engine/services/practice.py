"""The good-practice directory: "who to visit for what", filtered by who may see each entry."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from review_engine.core.frameworks import frameworks
from review_engine.core.safe_text import NAME_MAX, check_text
from review_engine.errors import InvalidInput
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


# --- for the web pages: the directory searched by area, phase and distance --------------------


@dataclass(frozen=True)
class PracticeFound:
    """A directory entry as the search shows it: its area's title, the school's phase and how
    far it is from the reader's school (None when either has no location)."""

    cluster: str
    academic_year: str
    area: str
    area_title: str
    urn: int
    school: str
    phase: str
    town: str
    description: str
    contact: str
    distance_km: float | None


@dataclass(frozen=True)
class PracticeSearch:
    entries: list[PracticeFound]
    areas: list[tuple[str, str]]  # (key, title) of the areas among what the reader may see
    phases: list[str]
    from_school: str | None  # distances are measured from here


def search_practice(
    rt: Runtime,
    *,
    area: str | None = None,
    phase: str | None = None,
    within_km: float | None = None,
) -> PracticeSearch:
    """The directory as the acting person may read it (the same policy as `list_practice`),
    narrowed by area, by the school's phase, and by distance from the reader's school;
    nearest first when the reader's school has a location. A fixed number of queries."""
    if area is not None:
        check_text(area, "area", max_len=NAME_MAX, multiline=False)
    if phase is not None:
        check_text(phase, "phase", max_len=NAME_MAX, multiline=False)
    if within_km is not None and not 0 < within_km <= 1000:
        raise InvalidInput("search within 1 to 1,000 km")
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        rows = session.exec(
            select(  # type: ignore[call-overload]
                GoodPractice, WriteUp, School, Cluster.name, Cluster.framework, Cycle.academic_year
            )
            .join(WriteUp, col(WriteUp.id) == GoodPractice.writeup_id)
            .join(School, col(School.urn) == GoodPractice.school_urn)
            .join(Cluster, col(Cluster.id) == GoodPractice.cluster_id)
            .join(Cycle, col(Cycle.id) == GoodPractice.cycle_id)
            .order_by(col(GoodPractice.area), col(School.name))
        ).all()
        readable = _readable(session, actor, rows)
        here = session.get(School, actor.school_urn) if actor.school_urn is not None else None
    origin = (here.easting, here.northing) if here and here.easting and here.northing else None
    found = []
    for gp, wu, school, cluster, framework, year in rows:
        if wu.id not in readable:
            continue
        distance = None
        if origin and school.easting and school.northing:
            dx, dy = school.easting - origin[0], school.northing - origin[1]
            distance = round(math.hypot(dx, dy) / 1000, 1)
        known = frameworks().get(framework)
        titled = known.area(gp.area) if known else None
        found.append(
            PracticeFound(
                cluster,
                year,
                gp.area,
                titled.title if titled else gp.area.replace("_", " ").capitalize(),
                school.urn,
                school.name,
                school.phase or "",
                school.town or "",
                gp.description,
                gp.contact,
                distance,
            )
        )
    areas = sorted({(f.area, f.area_title) for f in found}, key=lambda a: a[1])
    phases = sorted({f.phase for f in found if f.phase})
    if area:
        found = [f for f in found if f.area == area]
    if phase:
        found = [f for f in found if f.phase == phase]
    if within_km is not None and origin is not None:
        found = [f for f in found if f.distance_km is not None and f.distance_km <= within_km]
    if origin is not None:
        found.sort(key=lambda f: (f.distance_km is None, f.distance_km or 0.0, f.area_title))
    return PracticeSearch(found, areas, phases, here.name if origin and here else None)
