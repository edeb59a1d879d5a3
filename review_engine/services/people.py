"""People: heads, deputies, senior leaders, facilitators and programme admins; who may
register whom, and who may see whom."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from review_engine.core.domain import Role
from review_engine.core.safe_text import EMAIL_MAX, check_name, check_text
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import check_urns, get_school
from review_engine.services.signin import end_sessions
from review_engine.store.models import Person


@dataclass(frozen=True)
class PersonView:
    email: str
    name: str
    role: str
    school_urn: int | None
    active: bool  # False: deactivated, may neither sign in nor act


def _view(p: Person) -> PersonView:
    return PersonView(
        email=p.email, name=p.name, role=p.role, school_urn=p.school_urn, active=p.active
    )


def add_person(
    rt: Runtime, *, email: str, name: str, role: Role, school_urn: int | None = None
) -> PersonView:
    """Add a person; heads and other school staff belong to a school, facilitators need not."""
    check_text(email, "email", max_len=EMAIL_MAX, multiline=False)
    check_name(name, "name")
    check_urns(school_urn)
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address")
    if role.is_school_staff and school_urn is None:
        raise InvalidInput(f"a {role} needs a school (--school URN)")
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        action = f"register {email} as a {role.value.replace('_', ' ')}"
        if not actor.admin:
            # A facilitator registers the staff of their own clusters' member schools.
            members = policy.members_of(session, actor.facilitates)
            if not (role.is_school_staff and school_urn in members):
                raise NotPermitted(
                    actor.name,
                    action,
                    "a facilitator registers staff of their own cluster's schools; "
                    "anyone else is registered by a programme admin",
                )
        if session.exec(select(Person).where(Person.email == email)).first():
            raise AlreadyExists("person", email)
        if school_urn is not None:
            get_school(session, school_urn)
        person = Person(email=email, name=name.strip(), role=role.value, school_urn=school_urn)
        session.add(person)
        session.flush()
        return _view(person)


def list_people(rt: Runtime, *, school_urn: int | None = None) -> list[PersonView]:
    check_urns(school_urn)
    """People the actor may see: an admin everyone; a facilitator the staff of their clusters'
    schools and themselves; school staff their own school's staff."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        query = select(Person).order_by(Person.email)
        if school_urn is not None:
            query = query.where(Person.school_urn == school_urn)
        if not actor.admin:
            schools = policy.members_of(session, actor.facilitates)
            if actor.school_urn is not None:
                schools.add(actor.school_urn)
            query = query.where(col(Person.school_urn).in_(schools) | (Person.email == actor.name))
        return [_view(p) for p in session.exec(query)]


def deactivate_person(rt: Runtime, *, email: str) -> PersonView:
    """Stop a person signing in or acting anywhere (they left, or an address was misused);
    their web sessions end at once. History keeps their name; nothing else is revoked, so
    reactivating them gives back what they had."""
    return _set_active(rt, email=email, active=False)


def reactivate_person(rt: Runtime, *, email: str) -> PersonView:
    """Let a deactivated person sign in and act again."""
    return _set_active(rt, email=email, active=True)


def _set_active(rt: Runtime, *, email: str, active: bool) -> PersonView:
    check_text(email, "email", max_len=EMAIL_MAX, multiline=False)
    email = email.strip().lower()
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        action = f"{'reactivate' if active else 'deactivate'} {email}"
        person = session.exec(select(Person).where(Person.email == email)).first()
        if not actor.admin:
            # A facilitator (de)activates the staff of their own clusters' member schools;
            # to them anyone else is refused alike, whether registered or not.
            members = policy.members_of(session, actor.facilitates)
            if (
                person is None
                or not Role(person.role).is_school_staff
                or person.school_urn not in members
            ):
                raise NotPermitted(
                    actor.name,
                    action,
                    "a facilitator deactivates staff of their own cluster's schools; "
                    "anyone else is deactivated by a programme admin",
                )
        if person is None:
            raise NotFound("person", email)
        if person.active != active:
            person.active = active
            session.add(person)
            if not active:
                assert person.id is not None
                end_sessions(session, person.id, rt.clock.now())
            session.flush()
        return _view(person)
