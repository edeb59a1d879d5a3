"""Who may see and do what. Every service read and write asks here, so lists, counts,
exports and documents obey the same rules as single records.

The rules (the seeds' "ground rules, as trust is clearly of paramount importance"):
- the cluster's facilitator sees and does everything in their cluster;
- a school's staff see their own school's items, and the SEF and visit plan of the schools
  they visit as reviewers this cycle;
- a published write-up (and the good practice from it) is seen by the host, its reviewers, and
  whoever the host shared it with: reviewers only, the whole cluster, or named schools;
- support actions are seen by the school, its supporting school and the facilitator;
- the scheduler (a system actor) may move cycles on and mark work overdue;
- only a school's head, deputy and senior leaders act for it: its subject leaders, teachers,
  teaching assistants, governors and improvement champions are registered (to take the
  notices they choose) but see none of its cycle records;
- a programme lead reads every cluster's progress (the dashboard) and changes nothing.
Anyone registered may read public school data (GIAS) and cluster membership.

Administration (who may change the programme itself):
- a programme admin (role `admin`) imports schools and calendars, registers anyone, creates
  clusters and changes any cluster's membership, runs the tick and sends the outbox;
- a cluster's facilitator changes their cluster's membership and registers the staff of its
  member schools;
- the operator (whoever runs the CLI on the database without `--as`: they could change the
  database directly anyway) may do what an admin does; history names them with their login;
- the scheduler (a system actor) runs the tick and sends the outbox.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from review_engine.core.domain import Role, SharingLevel
from review_engine.core.relations import Relation
from review_engine.errors import NotPermitted
from review_engine.store.models import Cluster, Cycle, Membership, Person
from review_engine.store.phase_tables import TriadPlace, WriteUp

SCHEDULER = "scheduler"
OPERATOR = "operator"
SYSTEM_ACTORS = frozenset({SCHEDULER})


@dataclass(frozen=True)
class Actor:
    name: str
    school_urn: int | None
    role: Role | None
    facilitates: frozenset[int]
    system: bool = False
    operator: bool = False

    @property
    def admin(self) -> bool:
        """A programme admin, or the operator at the database."""
        return self.operator or self.role is Role.ADMIN

    @property
    def programme_lead(self) -> bool:
        """Oversees every cluster read-only (the programme view); changes nothing."""
        return self.role is Role.PROGRAMME_LEAD

    @property
    def oversees_programme(self) -> bool:
        """May read every cluster's progress: a programme admin or a programme lead."""
        return self.admin or self.programme_lead


def resolve_actor(session: Session, name: str) -> Actor:
    """The acting person (or system actor); an unregistered or deactivated name may do
    nothing at all.

    One query: the person with the clusters they facilitate."""
    if name in SYSTEM_ACTORS:
        return Actor(name=name, school_urn=None, role=None, facilitates=frozenset(), system=True)
    if name == OPERATOR:
        return Actor(
            name=f"{OPERATOR} ({_login()})",
            school_urn=None,
            role=None,
            facilitates=frozenset(),
            system=True,
            operator=True,
        )
    rows = session.exec(
        select(Person, Cluster.id)
        .join(Cluster, col(Cluster.facilitator_id) == Person.id, isouter=True)
        .where(Person.email == name.lower())
    ).all()
    if not rows:
        raise NotPermitted(
            name,
            "act on review cycles",
            "not a registered person; use --as EMAIL or set "
            "REVIEW_ACTOR to a person added with `review people add`",
        )
    person = rows[0][0]
    if not person.active:  # deactivated: may do nothing anywhere, as if never registered
        raise NotPermitted(
            name,
            "act on review cycles",
            "deactivated; a programme admin or their cluster's facilitator may reactivate "
            "them with `review people reactivate`",
        )
    role = Role(person.role)
    return Actor(
        name=person.email,
        # Only those who act for a school stand to it in a cycle: a teacher or a governor
        # registered at a school sees none of its records.
        school_urn=None if role.at_school and not role.is_school_staff else person.school_urn,
        role=role,
        facilitates=frozenset(c for _, c in rows if c is not None),
    )


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in some containers
        return "unknown"


def require_admin(actor: Actor, action: str) -> None:
    """Refuse unless a programme admin (or the operator) is acting."""
    if not actor.admin:
        raise NotPermitted(actor.name, action, "only a programme admin may")


def require_runs_the_schedule(actor: Actor, action: str) -> None:
    """The tick and the outbox: the scheduler, a programme admin or the operator."""
    if not (actor.admin or (actor.system and actor.name == SCHEDULER)):
        raise NotPermitted(actor.name, action, "only the scheduler or a programme admin may")


def require_runs_cluster(actor: Actor, cluster_id: int, action: str) -> None:
    """A cluster's membership and people: its facilitator or a programme admin."""
    if not (actor.admin or cluster_id in actor.facilitates):
        raise NotPermitted(
            actor.name, action, "only the cluster's facilitator or a programme admin may"
        )


def is_facilitator(actor: Actor, cluster_id: int) -> bool:
    return actor.system or cluster_id in actor.facilitates


def visited_by(session: Session, cycle_id: int, visitor_urn: int) -> dict[int, bool]:
    """Hosts a school visits in a cycle, with whether it is their lead reviewer."""
    rows = session.exec(
        select(TriadPlace.host_urn, TriadPlace.is_lead).where(
            TriadPlace.cycle_id == cycle_id, TriadPlace.visitor_urn == visitor_urn
        )
    ).all()
    return dict(rows)


def relations(
    session: Session, actor: Actor, cycle: Cycle, subject_urn: int | None
) -> set[Relation]:
    """How the actor stands to a school's part of a cycle (or to the cycle itself)."""
    lead: bool | None = None
    if subject_urn is not None and actor.school_urn is not None:
        assert cycle.id is not None
        lead = visited_by(session, cycle.id, actor.school_urn).get(subject_urn)
    return relations_to(actor, cycle, subject_urn, lead)


def relations_to(
    actor: Actor, cycle: Cycle, subject_urn: int | None, visit_as_lead: bool | None
) -> set[Relation]:
    """The same, given whether the actor's school visits the subject (as its lead: True, as a
    co-reviewer: False, not at all: None)."""
    found: set[Relation] = set()
    if actor.system:
        found.add(Relation.SYSTEM)
    if cycle.cluster_id in actor.facilitates:
        found.add(Relation.FACILITATOR)
    if subject_urn is not None and actor.school_urn is not None:
        if actor.school_urn == subject_urn:
            found.add(Relation.SCHOOL)
        if visit_as_lead is not None:
            found.add(Relation.REVIEWER)
            found.add(Relation.LEAD_REVIEWER if visit_as_lead else Relation.CO_REVIEWER)
    return found


_IN_WORDS = {
    Relation.FACILITATOR: "the facilitator",
    Relation.SCHOOL: "the school itself",
    Relation.REVIEWER: "a visiting school",
    Relation.LEAD_REVIEWER: "the lead reviewer",
    Relation.CO_REVIEWER: "a co-reviewer",
    Relation.SYSTEM: "the scheduler",
}


def in_words(relations: Iterable[str]) -> str:
    """Relations for people: "the facilitator or the school itself"."""
    words = [_IN_WORDS.get(Relation(r), str(r)) for r in sorted(relations)]
    if not words:
        return "nobody"
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def allows(have: set[Relation], allowed: Iterable[str]) -> bool:
    """Whether one of the relations `have` is allowed (the scheduler may do the facilitator's
    scheduled work)."""
    wanted = set(allowed)
    return bool(have & wanted) or (Relation.SYSTEM in have and Relation.FACILITATOR in wanted)


def require(have: set[Relation], allowed: Iterable[str], *, actor: Actor, action: str) -> None:
    """Refuse unless the actor has one of the allowed relations."""
    if not allows(have, allowed):
        raise NotPermitted(actor.name, action, f"only {in_words(set(allowed))} may")


def visible_schools(session: Session, actor: Actor, cycle: Cycle) -> set[int] | None:
    """Schools whose SEF, visit plan and phase states the actor may see; None means all."""
    if is_facilitator(actor, cycle.cluster_id):
        return None
    if actor.school_urn is None:
        return set()
    assert cycle.id is not None
    return {actor.school_urn, *visited_by(session, cycle.id, actor.school_urn)}


def can_see(session: Session, actor: Actor, cycle: Cycle, urn: int) -> bool:
    visible = visible_schools(session, actor, cycle)
    return visible is None or urn in visible


def require_visible(session: Session, actor: Actor, cycle: Cycle, urn: int, what: str) -> None:
    if not can_see(session, actor, cycle, urn):
        raise NotPermitted(
            actor.name,
            f"see {what} of school {urn}",
            "it is confidential to the school, its reviewers and the facilitator",
        )


def writeup_readers(writeup: WriteUp, reviewers: Iterable[int], members: Iterable[int]) -> set[int]:
    """Schools that may read a write-up: host and reviewers, plus the host's sharing choice."""
    host_side = {*reviewers}
    if writeup.published_at is None or writeup.sharing is None:
        return host_side
    if writeup.sharing == SharingLevel.CLUSTER:
        return host_side | set(members)
    if writeup.sharing == SharingLevel.NAMED:
        return host_side | set(writeup.shared_with)
    return host_side


def current_members(session: Session, cluster_id: int) -> list[int]:
    return sorted(members_of(session, {cluster_id}))


def members_of(session: Session, cluster_ids: Collection[int]) -> set[int]:
    """Schools now in any of these clusters (one query)."""
    if not cluster_ids:
        return set()
    return set(
        session.exec(
            select(Membership.school_urn).where(
                col(Membership.cluster_id).in_(cluster_ids), col(Membership.left).is_(None)
            )
        ).all()
    )


def clusters_seen_by(session: Session, actor: Actor) -> set[int] | None:
    """The clusters whose name, members and cycles the actor may list: None for every one (a
    programme admin or lead, the operator, the scheduler); else those they facilitate and those
    their school is a member of (one query at most)."""
    if actor.oversees_programme or actor.system:
        return None
    seen = set(actor.facilitates)
    if actor.school_urn is not None:
        seen |= set(
            session.exec(
                select(Membership.cluster_id).where(
                    Membership.school_urn == actor.school_urn, col(Membership.left).is_(None)
                )
            ).all()
        )
    return seen
