"""People: the staff of schools (heads, deputies, senior leaders, and the staff who only take
notices), facilitators, programme leads and programme admins; who may register and change
whom, who may see whom, and which notices each takes.

Every change to a person is recorded in `person_change` (who, when, what from and to).
History rows (`transitionlog.actor`) keep the address the person acted under; a changed
address is found in `person_change`, so `names_for` still names them with their current name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery, format_choices, parse_choices
from review_engine.core.safe_text import (
    EMAIL_MAX,
    MB,
    NAME_MAX,
    URN_MAX,
    URN_MIN,
    check_name,
    check_text,
    decode_text,
    read_bounded,
)
from review_engine.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    NotPermitted,
    ReviewEngineError,
)
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import check_urns, get_school
from review_engine.services.signin import end_sessions
from review_engine.store.models import Cluster, Person, PersonChange, School
from review_engine.store.schedule_tables import OutboxMessage

IMPORT_MAX_BYTES = 1 * MB
IMPORT_MAX_ROWS = 5_000
IMPORT_COLUMNS = ("urn", "email", "name", "role")
_SHOWN_ERRORS = 5
DROPPED_INACTIVE = "dropped: the recipient was deactivated"


@dataclass(frozen=True)
class PersonView:
    email: str
    name: str
    role: str
    school_urn: int | None
    active: bool  # False: deactivated, may neither sign in nor act
    notices: tuple[str, ...] = ()  # the notice kinds they take (chosen, or their role's)
    notices_chosen: bool = False  # False: their role's defaults
    school_name: str | None = None


@dataclass(frozen=True)
class ChangeView:
    setting: str
    old: str | None
    new: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class PersonDetail:
    person: PersonView
    changes: list[ChangeView] = field(default_factory=list)  # newest first
    may_manage: bool = False  # the actor may change them (not only their notices)


@dataclass(frozen=True)
class ImportReport:
    added: list[str]
    updated: list[str]


def _notices(p: Person) -> tuple[str, ...]:
    """The kinds a person takes, at once or in their digest (core.notice_choices)."""
    choices = parse_choices(p.notices)
    if choices is None:
        chosen = {k.value for k in NoticeKind.defaults_for(Role(p.role))}
    else:
        chosen = {k.value for k, d in choices.items() if d is not Delivery.OFF}
    return tuple(k.value for k in NoticeKind if k.value in chosen)


def _view(p: Person, school_name: str | None = None) -> PersonView:
    return PersonView(
        email=p.email,
        name=p.name,
        role=p.role,
        school_urn=p.school_urn,
        active=p.active,
        notices=_notices(p),
        notices_chosen=p.notices is not None,
        school_name=school_name,
    )


def takes(p: Person, kind: NoticeKind) -> bool:
    """Whether a person takes this kind of notice (their choice, else their role's)."""
    return kind.value in _notices(p)


def _clean_email(email: str, what: str = "email") -> str:
    check_text(email, what, max_len=EMAIL_MAX, multiline=False)
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not (local and at and domain) or " " in email or "@" in domain:
        raise InvalidInput(f"{email!r} is not an email address")
    return email


def _check_school_for(role: Role, school_urn: int | None) -> None:
    if role.at_school and school_urn is None:
        raise InvalidInput(f"a {role.value.replace('_', ' ')} needs a school (--school URN)")


def add_person(
    rt: Runtime, *, email: str, name: str, role: Role, school_urn: int | None = None
) -> PersonView:
    """Add a person; school staff (of any school role) belong to a school, others need not."""
    email = _clean_email(email)
    check_name(name, "name")
    check_urns(school_urn)
    _check_school_for(role, school_urn)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        action = f"register {email} as a {role.value.replace('_', ' ')}"
        if not actor.admin:
            # A facilitator registers the staff of their own clusters' member schools.
            members = policy.members_of(session, actor.facilitates)
            if not (role.at_school and school_urn in members):
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


def list_people(
    rt: Runtime,
    *,
    school_urn: int | None = None,
    role: Role | None = None,
    active: bool | None = None,
) -> list[PersonView]:
    """People the actor may see: an admin everyone; a facilitator the staff of their clusters'
    schools and themselves; school staff their own school's staff. Filtered by school, role
    and whether active; each with their school's name (one query)."""
    check_urns(school_urn)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        query = (
            select(Person, School.name)
            .outerjoin(School, col(School.urn) == Person.school_urn)
            .order_by(Person.email)
        )
        if school_urn is not None:
            query = query.where(Person.school_urn == school_urn)
        if role is not None:
            query = query.where(Person.role == role.value)
        if active is not None:
            query = query.where(Person.active == active)
        if not actor.admin:
            schools = policy.members_of(session, actor.facilitates)
            if actor.school_urn is not None:
                schools.add(actor.school_urn)
            query = query.where(col(Person.school_urn).in_(schools) | (Person.email == actor.name))
        return [_view(p, school) for p, school in session.exec(query)]


def manages_people(rt: Runtime) -> bool:
    """Whether the actor looks after people (a facilitator or a programme admin)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        return actor.admin or bool(actor.facilitates)


def manages_programme(rt: Runtime) -> bool:
    """Whether the actor runs the programme (a programme admin, or the operator): creates
    clusters, imports schools and calendars."""
    with rt.db.transaction() as session:
        return policy.resolve_actor(session, rt.actor).admin


def _may_manage(session: Session, actor: policy.Actor, person: Person | None) -> bool:
    """An admin manages anyone; a facilitator the staff (any school role) of their clusters'
    member schools."""
    if actor.admin:
        return True
    if person is None or not Role(person.role).at_school:
        return False
    return person.school_urn in policy.members_of(session, actor.facilitates)


def _visible(session: Session, actor: policy.Actor, email: str) -> Person:
    """The person if the actor may see their record (themselves, or whom they manage), else
    NotFound exactly as for an address nobody has."""
    person = session.exec(select(Person).where(Person.email == email)).first()
    if person is None or not (person.email == actor.name or _may_manage(session, actor, person)):
        raise NotFound("person", email)
    return person


def show_person(rt: Runtime, *, email: str) -> PersonDetail:
    """One person with their change log, for themselves, their facilitator or an admin."""
    email = _clean_email(email)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        person = _visible(session, actor, email)
        school = session.get(School, person.school_urn) if person.school_urn else None
        changes = session.exec(
            select(PersonChange)
            .where(PersonChange.person_id == person.id)
            .order_by(col(PersonChange.id).desc())
        ).all()
        return PersonDetail(
            person=_view(person, school.name if school else None),
            changes=[ChangeView(c.setting, c.old, c.new, c.actor, c.at) for c in changes],
            may_manage=_may_manage(session, actor, person),
        )


def _record(
    session: Session,
    person: Person,
    actor: str,
    at: datetime,
    changed: dict[str, tuple[object, object]],
) -> None:
    assert person.id is not None
    session.add_all(
        PersonChange(
            person_id=person.id,
            setting=setting,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
            actor=actor,
            at=at,
        )
        for setting, (old, new) in changed.items()
        if old != new
    )


def update_person(
    rt: Runtime,
    *,
    email: str,
    name: str | None = None,
    new_email: str | None = None,
    role: Role | None = None,
    school_urn: int | None = None,
) -> PersonView:
    """Change a person's name, e-mail, role or school (None leaves each as it is); every
    change is recorded. A new address keeps their sessions, tokens and history: messages
    still waiting in the outbox go to the new address. A role with no school (facilitator,
    admin, programme lead) leaves the school behind."""
    email = _clean_email(email)
    if new_email is not None:
        new_email = _clean_email(new_email, "new email")
    if name is not None:
        check_name(name, "name")
    check_urns(school_urn)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        person = _visible(session, actor, email)
        if not _may_manage(session, actor, person):
            raise NotPermitted(
                actor.name,
                f"change {email}",
                "a facilitator changes staff of their own cluster's schools; "
                "anyone else is changed by a programme admin",
            )
        new_role = role or Role(person.role)
        new_school = school_urn if school_urn is not None else person.school_urn
        if not new_role.at_school and role is not None:
            new_school = school_urn  # a facilitator or admin belongs to no school unless given
        _check_school_for(new_role, new_school)
        if not actor.admin:
            members = policy.members_of(session, actor.facilitates)
            if not new_role.at_school or new_school not in members:
                raise NotPermitted(
                    actor.name,
                    f"make {email} a {new_role.label.lower()}"
                    + (f" at school {new_school}" if new_school else ""),
                    "a facilitator keeps their cluster's staff at their cluster's schools, in "
                    "school roles; anything else is for a programme admin",
                )
        if new_school is not None and new_school != person.school_urn:
            get_school(session, new_school)
        if role is not None and person.role == Role.FACILITATOR and role != Role.FACILITATOR:
            runs = session.exec(select(Cluster.name).where(Cluster.facilitator_id == person.id))
            if first := runs.first():
                raise InvalidInput(
                    f"{email} facilitates cluster {first}; give it another facilitator first "
                    f"(review cluster update {first!r} --facilitator EMAIL)"
                )
        moving = new_email is not None and new_email != person.email
        if moving and session.exec(select(Person.id).where(Person.email == new_email)).first():
            raise AlreadyExists("person", new_email)
        now = rt.clock.now()
        next_name = name.strip() if name is not None else person.name
        next_email = new_email or person.email
        changed: dict[str, tuple[object, object]] = {
            "name": (person.name, next_name),
            "email": (person.email, next_email),
            "role": (person.role, new_role.value),
            "school": (person.school_urn, new_school),
        }
        _record(session, person, actor.name, now, changed)
        if new_email is not None and new_email != person.email:
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.recipient) == person.email,
                    col(OutboxMessage.sent_at).is_(None),
                )
                .values(recipient=new_email)
            )
        person.name, person.email = next_name, next_email
        person.role, person.school_urn = new_role.value, new_school
        session.add(person)
        session.flush()
        return _view(person)


def set_notices(rt: Runtime, *, email: str, kinds: Collection[NoticeKind]) -> PersonView:
    """Choose which notices a person takes: by themselves, their facilitator or an admin. A
    kind they already take in their daily digest stays there (notice_choices changes how)."""
    email = _clean_email(email)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        person = _visible(session, actor, email)
        held = parse_choices(person.notices) or {}
        wanted = format_choices(
            {
                k: Delivery.DIGEST if held.get(k) is Delivery.DIGEST else Delivery.IMMEDIATELY
                for k in kinds
            }
        )
        before = ",".join(_notices(person))
        _record(session, person, actor.name, rt.clock.now(), {"notices": (before, wanted)})
        person.notices = wanted
        session.add(person)
        session.flush()
        return _view(person)


def names_for(rt: Runtime, *, addresses: Iterable[str]) -> dict[str, str]:
    """The current name of whoever acted under each address, including addresses a person
    has since changed (two queries); addresses of nobody are left out."""
    with rt.db.transaction() as session:
        return resolve_names(session, addresses)


def resolve_names(session: Session, addresses: Iterable[str]) -> dict[str, str]:
    """`names_for` inside a caller's transaction."""
    wanted = {a.lower() for a in addresses if a}
    if not wanted:
        return {}
    found = dict(
        session.exec(select(Person.email, Person.name).where(col(Person.email).in_(wanted))).all()
    )
    rest = wanted - set(found)
    if rest:
        rows = session.exec(
            select(PersonChange.old, Person.name)
            .join(Person, col(Person.id) == PersonChange.person_id)
            .where(PersonChange.setting == "email", col(PersonChange.old).in_(rest))
        ).all()
        found.update({old: name for old, name in rows if old is not None})
    return found


def deactivate_person(rt: Runtime, *, email: str) -> PersonView:
    """Stop a person signing in or acting anywhere (they left, or an address was misused);
    their web sessions end at once and nothing more is sent to them (messages waiting in the
    outbox are dropped). History keeps their name; nothing else is revoked, so reactivating
    them gives back what they had."""
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
        if not actor.admin and not _may_manage(session, actor, person):
            # To a facilitator anyone outside their clusters is refused alike, whether
            # registered or not.
            raise NotPermitted(
                actor.name,
                action,
                "a facilitator deactivates staff of their own cluster's schools; "
                "anyone else is deactivated by a programme admin",
            )
        if person is None:
            raise NotFound("person", email)
        if person.active != active:
            now = rt.clock.now()
            _record(session, person, actor.name, now, {"active": (person.active, active)})
            person.active = active
            session.add(person)
            if not active:
                assert person.id is not None
                end_sessions(session, person.id, now)
                session.execute(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.recipient) == person.email,
                        col(OutboxMessage.sent_at).is_(None),
                    )
                    .values(last_error=DROPPED_INACTIVE, claimed_by=None, claimed_until=None)
                )
            session.flush()
        return _view(person)


# --- importing people from a CSV file ------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    urn: int | None
    email: str
    name: str
    role: Role


def _read_rows(path: Path) -> tuple[list[_Row], list[str]]:
    """The file's rows and a `file:line: reason` for each bad one (nothing read twice)."""
    source = path.name
    text = decode_text(
        read_bounded(path, IMPORT_MAX_BYTES, what="a people file"),
        source=source,
        windows_1252=True,
    )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"{source}:1: missing column(s) {', '.join(missing)}; "
            f"the header must name {', '.join(IMPORT_COLUMNS)}"
        )
    reader.fieldnames = header
    rows: list[_Row] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    roles = ", ".join(r.value for r in Role)
    for record in reader:
        line = reader.line_num
        if len(rows) + len(errors) >= IMPORT_MAX_ROWS:
            raise InvalidInput(f"{source}: more than {IMPORT_MAX_ROWS:,} people; split the file")
        if None in record:  # more cells than columns
            errors.append(f"{source}:{line}: more cells than the header has columns")
            continue
        cells = {k: (record.get(k) or "").strip() for k in IMPORT_COLUMNS}
        if not any(cells.values()):
            continue  # a blank line
        try:
            email = _clean_email(cells["email"])
            check_name(cells["name"], "name", max_len=NAME_MAX)
            role_text = cells["role"].lower().replace(" ", "_").replace("-", "_")
            if role_text not in {r.value for r in Role}:
                raise InvalidInput(f"role {cells['role']!r} is not one of {roles}")
            role = Role(role_text)
            urn = None
            if cells["urn"]:
                if not cells["urn"].isascii() or not cells["urn"].isdigit():
                    raise InvalidInput(f"URN {cells['urn']!r} is not a number")
                urn = int(cells["urn"])
                if not URN_MIN <= urn <= URN_MAX:
                    raise InvalidInput(f"URN {urn} is out of range")
            _check_school_for(role, urn)
            if email in seen:
                raise InvalidInput(f"{email} is also on line {seen[email]}")
        except ReviewEngineError as exc:
            errors.append(f"{source}:{line}: {exc.message}")
            continue
        seen[email] = line
        rows.append(_Row(line, urn, email, cells["name"], role))
    return rows, errors


def import_people(rt: Runtime, *, path: Path, update_existing: bool = False) -> ImportReport:
    """Register the people of a CSV file (columns urn,email,name,role), all or nothing: any
    bad line refuses the whole file, each named `file:line: reason`. An address already
    registered is refused, unless `update_existing`, when its name, role and school are
    changed (and recorded) as `update_person` would."""
    rows, errors = _read_rows(path)
    source = path.name
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        urns = {r.urn for r in rows if r.urn is not None}
        known = set(session.exec(select(School.urn).where(col(School.urn).in_(urns))).all())
        existing = {
            p.email: p
            for p in session.exec(
                select(Person).where(col(Person.email).in_([r.email for r in rows]))
            )
        }
        members = None if actor.admin else policy.members_of(session, actor.facilitates)
        for r in rows:
            where = f"{source}:{r.line}"
            if r.urn is not None and r.urn not in known:
                errors.append(f"{where}: school {r.urn} not found; import it first")
            elif members is not None and not (r.role.at_school and r.urn in members):
                errors.append(
                    f"{where}: a facilitator registers staff of their own cluster's "
                    "schools only; ask a programme admin"
                )
            elif r.email in existing and not update_existing:
                errors.append(
                    f"{where}: {r.email} is already registered; use --update to change "
                    "registered people"
                )
            elif (
                r.email in existing
                and members is not None
                and not _may_manage(session, actor, existing[r.email])
            ):
                errors.append(f"{where}: {r.email} is not one of your cluster's staff")
        if errors:
            errors.sort(key=lambda e: int(e.split(":")[1]) if e.count(":") > 1 else 0)
            shown = "; ".join(errors[:_SHOWN_ERRORS])
            more = (
                f" (and {len(errors) - _SHOWN_ERRORS} more)" if len(errors) > _SHOWN_ERRORS else ""
            )
            raise InvalidInput(f"{shown}{more}; nothing imported")
        now = rt.clock.now()
        added, updated = [], []
        for r in rows:
            person = existing.get(r.email)
            if person is None:
                session.add(Person(email=r.email, name=r.name, role=r.role.value, school_urn=r.urn))
                added.append(r.email)
                continue
            changed: dict[str, tuple[object, object]] = {
                "name": (person.name, r.name),
                "role": (person.role, r.role.value),
                "school": (person.school_urn, r.urn),
            }
            if any(old != new for old, new in changed.values()):
                _record(session, person, actor.name, now, changed)
                person.name, person.role, person.school_urn = r.name, r.role.value, r.urn
                session.add(person)
                updated.append(r.email)
        session.flush()
        return ImportReport(added=added, updated=updated)


def staff_schools(rt: Runtime) -> list[tuple[int, str]]:
    """Schools the actor may register staff at, (URN, name) by name: an admin every open
    school, a facilitator their clusters' member schools (one or two queries)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        query = select(School.urn, School.name).order_by(School.name)
        if actor.admin:
            query = query.where(col(School.is_closed).is_(False))
        else:
            query = query.where(col(School.urn).in_(policy.members_of(session, actor.facilitates)))
        return [(urn, name) for urn, name in session.exec(query)]
