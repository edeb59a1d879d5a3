"""Clusters, their membership and their settings over time.

A cluster's settings (name, framework, visitors per host, facilitator) change with a line in
`cluster_change` for each (who, when, from, to); one a running cycle depends on is refused
while a cycle is past planning. An archived cluster starts no new cycle and is left out of
lists unless asked for; its cycles and history are kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from review_engine.core.frameworks import check_framework, frameworks
from review_engine.core.safe_text import (
    CLUSTER_NAME_MAX,
    check_cluster_name,
    check_day,
    check_text,
)
from review_engine.errors import AlreadyExists, InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._lookup import (
    check_urns,
    cycle_label,
    get_cluster,
    get_person,
    refuse_taken_cluster_name,
)
from review_engine.store.models import (
    Cluster,
    ClusterChange,
    Cycle,
    Membership,
    Person,
    School,
)

DEFAULT_VISITORS = 3
MAX_VISITORS = 6


def check_visitors(value: int) -> int:
    if not 1 <= value <= MAX_VISITORS:
        raise InvalidInput(f"visitors per host must be between 1 and {MAX_VISITORS}, not {value}")
    return value


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
    visitors_per_host: int = 3
    archived: bool = False


@dataclass(frozen=True)
class ClusterSummary:
    name: str
    facilitator: str | None
    members: int
    cycles: int
    archived: bool = False


def create_cluster(
    rt: Runtime,
    *,
    name: str,
    facilitator_email: str | None = None,
    framework: str = "eif2019",
    trust_conflicts: bool = False,
    visitors_per_host: int = DEFAULT_VISITORS,
) -> ClusterView:
    """Create an empty cluster, optionally with its facilitator. The framework must be one we
    ship (`review cluster create` offers the renewed 2025 one unless told otherwise)."""
    name = check_cluster_name(name)
    framework = check_framework(framework)
    check_visitors(visitors_per_host)
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
            visitors_per_host=visitors_per_host,
        )
        session.add(cluster)
        session.flush()
        return ClusterView(
            name=name,
            facilitator=facilitator.email if facilitator else None,
            framework=framework,
            trust_conflicts=trust_conflicts,
            visitors_per_host=visitors_per_host,
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
    """A cluster, its members and cycles, for whoever may list it (a cluster you may not see
    is not found, as one that does not exist)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        cluster = get_cluster(session, name)
        seen = policy.clusters_seen_by(session, actor)
        if seen is not None and cluster.id not in seen:
            raise NotFound("cluster", name, "see `review cluster list`")
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
            visitors_per_host=cluster.visitors_per_host,
            archived=cluster.archived_at is not None,
        )


def list_clusters(rt: Runtime, *, include_archived: bool = False) -> list[ClusterSummary]:
    """The clusters the actor may list (archived ones only when asked for)."""
    with rt.db.transaction() as session:
        seen = policy.clusters_seen_by(session, policy.resolve_actor(session, rt.actor))
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
        query = (
            select(Cluster, Person.email)
            .outerjoin(Person, col(Person.id) == Cluster.facilitator_id)
            .order_by(Cluster.name)
        )
        if not include_archived:
            query = query.where(col(Cluster.archived_at).is_(None))
        if seen is not None:
            query = query.where(col(Cluster.id).in_(sorted(seen)))
        rows = session.exec(query).all()
        return [
            ClusterSummary(
                name=c.name,
                facilitator=email,
                members=members.get(c.id or 0, 0),
                cycles=cycles.get(c.id or 0, 0),
                archived=c.archived_at is not None,
            )
            for c, email in rows
        ]


# --- settings over time ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterChangeView:
    setting: str
    old: str | None
    new: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class ClusterSettings:
    """A cluster's settings page: its settings, what may change, and its change log."""

    name: str
    facilitator: str | None
    facilitator_name: str | None
    framework: str
    framework_title: str
    visitors_per_host: int
    trust_conflicts: bool
    archived: bool
    members: int
    cycles: list[str]
    running: str | None  # a cycle past planning and not over, which freezes the framework
    frameworks: list[tuple[str, str]]  # (name, title) of every shipped framework
    is_admin: bool  # may change the facilitator and archive
    changes: list[ClusterChangeView] = field(default_factory=list)  # newest first
    schools: list[MemberView] = field(default_factory=list)  # the member schools, by name


def _running_cycle(session: Session, cluster: Cluster) -> str | None:
    """The label of a cycle of the cluster past its first state and not finished, if any."""
    for cycle in session.exec(
        select(Cycle).where(Cycle.cluster_id == cluster.id).order_by(col(Cycle.academic_year))
    ):
        machine = compiled_for(session, cycle).definition.cycle_machine
        if cycle.state != machine.initial and cycle.state not in machine.final:
            return cycle_label(cluster, cycle.academic_year)
    return None


def _settings_of(session: Session, actor: policy.Actor, name: str) -> Cluster:
    """The cluster, for its facilitator or a programme admin; anyone else is told it is not
    found, exactly as for a name nobody has."""
    cluster = session.exec(select(Cluster).where(Cluster.name == name)).first()
    if cluster is None or not (actor.admin or cluster.id in actor.facilitates):
        raise NotFound("cluster", name)
    return cluster


def cluster_settings(rt: Runtime, *, name: str) -> ClusterSettings:
    """A cluster's settings and change log, for its facilitator or a programme admin (six
    queries, however many schools)."""
    check_text(name, "cluster name", max_len=CLUSTER_NAME_MAX, multiline=False)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        cluster = _settings_of(session, actor, name)
        schools = [
            MemberView(urn=s.urn, name=s.name, phase=s.phase, la_name=s.la_name, joined=m.joined)
            for m, s in session.exec(
                select(Membership, School)
                .join(School, col(School.urn) == Membership.school_urn)
                .where(Membership.cluster_id == cluster.id, col(Membership.left).is_(None))
                .order_by(School.name)
            ).all()
        ]
        facilitator = (
            session.get(Person, cluster.facilitator_id) if cluster.facilitator_id else None
        )
        changes = session.exec(
            select(ClusterChange)
            .where(ClusterChange.cluster_id == cluster.id)
            .order_by(col(ClusterChange.id).desc())
        ).all()
        years = session.exec(
            select(Cycle.academic_year)
            .where(Cycle.cluster_id == cluster.id)
            .order_by(Cycle.academic_year)
        ).all()
        known = frameworks()
        return ClusterSettings(
            name=cluster.name,
            facilitator=facilitator.email if facilitator else None,
            facilitator_name=facilitator.name if facilitator else None,
            framework=cluster.framework,
            framework_title=known[cluster.framework].title
            if cluster.framework in known
            else cluster.framework,
            visitors_per_host=cluster.visitors_per_host,
            trust_conflicts=cluster.trust_conflicts,
            archived=cluster.archived_at is not None,
            members=len(schools),
            cycles=[cycle_label(cluster, y) for y in years],
            running=_running_cycle(session, cluster),
            frameworks=[(k, f.title) for k, f in sorted(known.items())],
            is_admin=actor.admin,
            changes=[ClusterChangeView(c.setting, c.old, c.new, c.actor, c.at) for c in changes],
            schools=schools,
        )


def update_cluster(
    rt: Runtime,
    *,
    name: str,
    new_name: str | None = None,
    framework: str | None = None,
    visitors_per_host: int | None = None,
    facilitator_email: str | None = None,
    trust_conflicts: bool | None = None,
) -> ClusterSettings:
    """Change a cluster's settings (None leaves each as it is), each change recorded. The
    framework and the visitors per host are refused while a cycle is past planning and not
    over (its SEFs and triads follow them); the facilitator is changed by a programme admin."""
    if new_name is not None:
        new_name = check_cluster_name(new_name)
        if not new_name or "/" in new_name:
            raise InvalidInput(f"cluster name {new_name!r} must be non-empty and contain no '/'")
    if framework is not None:
        framework = check_framework(framework)
    if visitors_per_host is not None:
        check_visitors(visitors_per_host)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        cluster = _settings_of(session, actor, name)
        assert cluster.id is not None
        facilitator = None
        if facilitator_email is not None:
            policy.require_admin(actor, f"change the facilitator of {cluster.name}")
            facilitator = get_person(session, facilitator_email)
            if not facilitator.active:
                raise InvalidInput(f"{facilitator.email} is deactivated; reactivate them first")
        frozen = {
            "framework": framework is not None and framework != cluster.framework,
            "visitors per host": visitors_per_host is not None
            and visitors_per_host != cluster.visitors_per_host,
        }
        if any(frozen.values()) and (running := _running_cycle(session, cluster)):
            what = " and ".join(k for k, v in frozen.items() if v)
            raise InvalidInput(
                f"the {what} of {cluster.name} cannot change while {running} is running; "
                "change it once the cycle is closed, for the next one"
            )
        if new_name is not None and new_name != cluster.name:
            refuse_taken_cluster_name(session, new_name)
        old_facilitator = (
            session.get(Person, cluster.facilitator_id) if cluster.facilitator_id else None
        )
        changed: dict[str, tuple[object, object]] = {
            "name": (cluster.name, new_name or cluster.name),
            "framework": (cluster.framework, framework or cluster.framework),
            "visitors per host": (
                cluster.visitors_per_host,
                visitors_per_host or cluster.visitors_per_host,
            ),
            "facilitator": (
                old_facilitator.email if old_facilitator else None,
                facilitator.email if facilitator else (old_facilitator and old_facilitator.email),
            ),
            "schools of one trust never review each other": (
                _yes(cluster.trust_conflicts),
                _yes(cluster.trust_conflicts if trust_conflicts is None else trust_conflicts),
            ),
        }
        _record(session, cluster.id, actor.name, rt.clock.now(), changed)
        cluster.name = new_name or cluster.name
        cluster.framework = framework or cluster.framework
        cluster.visitors_per_host = visitors_per_host or cluster.visitors_per_host
        if facilitator is not None:
            cluster.facilitator_id = facilitator.id
        if trust_conflicts is not None:
            cluster.trust_conflicts = trust_conflicts
        session.add(cluster)
        session.flush()
    return cluster_settings(rt, name=new_name or name)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _record(session: Session, cluster_id: int, actor: str, at: datetime, changed: dict) -> None:
    session.add_all(
        ClusterChange(
            cluster_id=cluster_id,
            setting=setting,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
            actor=actor,
            at=at,
        )
        for setting, (old, new) in changed.items()
        if old != new
    )


def archive_cluster(rt: Runtime, *, name: str, archived: bool = True) -> ClusterSettings:
    """Archive a cluster (a programme admin): it starts no new cycle and is left out of
    lists unless asked for; its cycles and history are kept. Refused while a cycle runs.
    `archived=False` brings it back."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        cluster = _settings_of(session, actor, name)
        assert cluster.id is not None
        policy.require_admin(actor, f"{'archive' if archived else 'restore'} {cluster.name}")
        if archived and (running := _running_cycle(session, cluster)):
            raise InvalidInput(
                f"{cluster.name} cannot be archived while {running} is running; "
                "close or cancel it first"
            )
        if (cluster.archived_at is not None) != archived:
            now = rt.clock.now()
            _record(
                session,
                cluster.id,
                actor.name,
                now,
                {"archived": (_yes(not archived), _yes(archived))},
            )
            cluster.archived_at = now if archived else None
            session.add(cluster)
            session.flush()
    return cluster_settings(rt, name=name)
