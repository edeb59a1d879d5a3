"""Who receives notices, and how: a person's own choice for each kind (immediately, in their
daily digest, or off), the unsubscribe link in every non-essential mail, and a school's
routing (which roles take each kind until a person chooses).

A person sets their own (their facilitator or a programme admin may too); a school's head,
its cluster's facilitator or a programme admin sets the school's routing, and its senior
staff may read it. Anyone else finds no such person or school. The unsubscribe link needs no
sign-in: its signature (`_recipients.unsubscribe_url`) is the proof.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import Session, col, select

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import (
    ALWAYS_SENT,
    Delivery,
    changed,
    default_roles,
    effective,
    format_roles,
    is_essential,
    kinds_for,
)
from review_engine.core.safe_text import EMAIL_MAX, check_text
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import check_urns
from review_engine.services._recipients import school_routes, unsubscribe_signature_ok
from review_engine.services.people import _record, _visible
from review_engine.store.batch import insert_ignore
from review_engine.store.models import Person, School
from review_engine.store.privacy_tables import SchoolNoticeRoute

UNSUBSCRIBE_ACTOR = "{email} (unsubscribe link)"
BAD_LINK = (
    "this unsubscribe link is not valid: it may have been cut short or changed; "
    "choose your notices on your account page instead"
)


@dataclass(frozen=True)
class KindChoice:
    kind: NoticeKind
    label: str
    delivery: Delivery
    essential: bool


@dataclass(frozen=True)
class NoticeSettings:
    email: str
    name: str
    school: str | None
    chosen: bool  # False: their school's routing or the programme's default decides
    kinds: tuple[KindChoice, ...]
    always_sent: tuple[str, ...] = ALWAYS_SENT

    def delivery(self, kind: NoticeKind) -> Delivery:
        return next(k.delivery for k in self.kinds if k.kind is kind)


@dataclass(frozen=True)
class Unsubscribe:
    email: str
    name: str
    kind: NoticeKind
    label: str
    delivery: Delivery  # how they take it now (OFF once turned off)


@dataclass(frozen=True)
class KindRoute:
    kind: NoticeKind
    label: str
    roles: frozenset[Role]  # who takes it until they choose
    own: bool  # False: the programme's default
    default_roles: frozenset[Role]


@dataclass(frozen=True)
class SchoolRouting:
    urn: int
    school: str
    routes: tuple[KindRoute, ...]
    may_change: bool


# --- a person's own choice ---------------------------------------------------------------


def notice_settings(rt: Runtime, *, email: str | None = None) -> NoticeSettings:
    """How a person takes each kind of notice (default: the acting person): for themselves,
    their facilitator or a programme admin; anyone else finds no such person."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        person = _visible(session, actor, _address(email or actor.name))
        return _settings(session, person)


def set_notice_choices(
    rt: Runtime, *, email: str | None = None, changes: Mapping[NoticeKind, Delivery]
) -> NoticeSettings:
    """Change how a person takes some kinds (the others stay as they are taken now, so the
    first choice starts from their school's routing). Essential kinds cannot be turned off.
    Recorded in the person's change log."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        person = _visible(session, actor, _address(email or actor.name))
        _change(session, person, actor.name, rt, changes)
        return _settings(session, person)


def reset_notice_choices(rt: Runtime, *, email: str | None = None) -> NoticeSettings:
    """Forget a person's choice: their school's routing (or the programme's default) decides
    again."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        person = _visible(session, actor, _address(email or actor.name))
        before = person.notices
        _record(session, person, actor.name, rt.clock.now(), {"notices": (before, None)})
        person.notices = None
        session.add(person)
        session.flush()
        return _settings(session, person)


def _change(
    session: Session,
    person: Person,
    actor: str,
    rt: Runtime,
    changes: Mapping[NoticeKind, Delivery],
) -> None:
    routes = _routes_of(session, person)
    after = changed(person.notices, Role(person.role), routes, changes)
    _record(session, person, actor, rt.clock.now(), {"notices": (person.notices, after)})
    person.notices = after
    session.add(person)
    session.flush()


def _settings(session: Session, person: Person) -> NoticeSettings:
    school = session.get(School, person.school_urn) if person.school_urn else None
    choices = effective(person.notices, Role(person.role), _routes_of(session, person))
    return NoticeSettings(
        email=person.email,
        name=person.name,
        school=school.name if school else None,
        chosen=person.notices is not None,
        kinds=tuple(
            KindChoice(k, k.label, choices[k], is_essential(k))
            for k in kinds_for(Role(person.role))
        ),
    )


def _routes_of(session: Session, person: Person) -> dict[NoticeKind, frozenset[Role]]:
    if person.school_urn is None:
        return {}
    return school_routes(session, [person.school_urn]).get(person.school_urn, {})


def _address(email: str) -> str:
    check_text(email, "email", max_len=EMAIL_MAX, multiline=False)
    return email.strip().lower()


# --- the unsubscribe link ----------------------------------------------------------------


def check_unsubscribe(rt: Runtime, *, email: str, kind: str, sig: str) -> Unsubscribe:
    """What following an unsubscribe link would turn off (it changes nothing). A link that
    was changed, or for a kind that cannot be turned off, is refused in one line."""
    with rt.db.transaction() as session:
        person, notice = _link(session, email, kind, sig)
        return _unsubscribe_view(session, person, notice)


def unsubscribe(rt: Runtime, *, email: str, kind: str, sig: str) -> Unsubscribe:
    """Turn one kind of notice off for the person the link was sent to (no sign-in: the
    signature is the proof). Recorded in their change log as done by the link."""
    with rt.db.transaction() as session:
        person, notice = _link(session, email, kind, sig)
        actor = UNSUBSCRIBE_ACTOR.format(email=person.email)
        _change(session, person, actor, rt, {notice: Delivery.OFF})
        return _unsubscribe_view(session, person, notice)


def _link(session: Session, email: str, kind: str, sig: str) -> tuple[Person, NoticeKind]:
    if not (0 < len(email) <= EMAIL_MAX and 0 < len(kind) <= 60 and 0 < len(sig) <= 100):
        raise InvalidInput(BAD_LINK)
    notice = next((k for k in NoticeKind if k.value == kind), None)
    if notice is None or is_essential(notice):
        raise InvalidInput(BAD_LINK)
    if not unsubscribe_signature_ok(session, email, notice.value, sig):
        raise InvalidInput(BAD_LINK)
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None:  # an address since changed, or a person since removed
        raise InvalidInput(BAD_LINK)
    return person, notice


def _unsubscribe_view(session: Session, person: Person, kind: NoticeKind) -> Unsubscribe:
    choices = effective(person.notices, Role(person.role), _routes_of(session, person))
    return Unsubscribe(person.email, person.name, kind, kind.label, choices[kind])


# --- a school's routing ------------------------------------------------------------------


def school_routing(rt: Runtime, *, urn: int) -> SchoolRouting:
    """Which roles at a school take each kind of notice until they choose: for its head, its
    senior staff (to read), its cluster's facilitator and programme admins. Anyone else
    finds no such school."""
    check_urns(urn)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        school, may_change = _routing_access(session, actor, urn)
        return _routing(session, school, may_change)


def set_school_routing(
    rt: Runtime, *, urn: int, kind: NoticeKind, roles: frozenset[Role] | None
) -> SchoolRouting:
    """Route one kind of notice at a school to these roles (None: back to the programme's
    default). By the school's head, its cluster's facilitator or a programme admin."""
    return set_school_routes(rt, urn=urn, routes={kind: roles})


def set_school_routes(
    rt: Runtime, *, urn: int, routes: Mapping[NoticeKind, frozenset[Role] | None]
) -> SchoolRouting:
    """Route several kinds at once (all or none); a kind given None goes back to the
    programme's default."""
    check_urns(urn)
    for kind, roles in routes.items():
        if is_essential(kind):
            raise InvalidInput(f"{kind.label.lower()} go to everyone concerned; no routing")
        if roles is not None and any(not r.at_school for r in roles):
            raise InvalidInput("a school's notices go to roles at the school")
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        school, may_change = _routing_access(session, actor, urn)
        if not may_change:
            raise NotPermitted(
                actor.name,
                f"change who at {school.name} takes each kind of notice",
                "the school's head, its facilitator or a programme admin sets its routing",
            )
        if routes:
            session.execute(
                delete(SchoolNoticeRoute).where(
                    col(SchoolNoticeRoute.school_urn) == urn,
                    col(SchoolNoticeRoute.kind).in_([k.value for k in routes]),
                )
            )
        now = rt.clock.now()
        rows = [
            {
                "school_urn": urn,
                "kind": kind.value,
                "roles": format_roles(roles),
                "actor": actor.name,
                "at": now,
            }
            for kind, roles in routes.items()
            if roles is not None
        ]
        insert_ignore(session, SchoolNoticeRoute, rows)
        return _routing(session, school, may_change)


def _routing_access(session: Session, actor: policy.Actor, urn: int) -> tuple[School, bool]:
    """The school and whether the actor may change its routing; NotFound when they may not
    even read it, exactly as for a school that does not exist."""
    school = session.get(School, urn)
    if school is None:
        raise NotFound("school", urn)
    if actor.admin or urn in policy.members_of(session, actor.facilitates):
        return school, True
    if actor.school_urn == urn and actor.role is not None and actor.role.is_school_staff:
        return school, actor.role is Role.HEAD
    raise NotFound("school", urn)


def _routing(session: Session, school: School, may_change: bool) -> SchoolRouting:
    own = school_routes(session, [school.urn]).get(school.urn, {})
    routes = tuple(
        KindRoute(
            kind=k,
            label=k.label,
            roles=own.get(k, default_roles(k)),
            own=k in own,
            default_roles=default_roles(k),
        )
        for k in kinds_for(Role.HEAD)  # the kinds a school's staff take
        if not is_essential(k)
    )
    return SchoolRouting(school.urn, school.name, routes, may_change)
