"""People: heads, deputies, senior leaders and facilitators."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from review_engine.core.domain import Role
from review_engine.errors import AlreadyExists, InvalidInput
from review_engine.runtime import Runtime
from review_engine.services._lookup import get_school
from review_engine.store.models import Person


@dataclass(frozen=True)
class PersonView:
    email: str
    name: str
    role: str
    school_urn: int | None


def _view(p: Person) -> PersonView:
    return PersonView(email=p.email, name=p.name, role=p.role, school_urn=p.school_urn)


def add_person(
    rt: Runtime, *, email: str, name: str, role: Role, school_urn: int | None = None
) -> PersonView:
    """Add a person; heads and other school staff belong to a school, facilitators need not."""
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address")
    if role is not Role.FACILITATOR and school_urn is None:
        raise InvalidInput(f"a {role} needs a school (--school URN)")
    with rt.db.transaction() as session:
        if session.exec(select(Person).where(Person.email == email)).first():
            raise AlreadyExists("person", email)
        if school_urn is not None:
            get_school(session, school_urn)
        person = Person(email=email, name=name.strip(), role=role.value, school_urn=school_urn)
        session.add(person)
        session.flush()
        return _view(person)


def list_people(rt: Runtime, *, school_urn: int | None = None) -> list[PersonView]:
    with rt.db.transaction() as session:
        query = select(Person).order_by(Person.email)
        if school_urn is not None:
            query = query.where(Person.school_urn == school_urn)
        return [_view(p) for p in session.exec(query)]
