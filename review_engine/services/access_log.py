"""Who read what: every viewing or download of a SEF, a write-up, a visit pack, a report or a
support plan is recorded by the service that reads it (UK GDPR: the schools concerned can see
who has read their records), and the log is read here.

Recording is one INSERT in the reading service's transaction (`note`, `note_many`); a batch of
documents (the cycle's zip, `review docs render`) records one row per school document in one
statement (`record_documents`). Reading the log (`entries`) is for the cluster's facilitator
and programme admins (the whole cycle), and for a school's own staff (their school's records
only); anyone else is told the cycle or school was not found, as for one that does not exist.
Inside Knowledge visit packs are read outside any cycle: `programme_entries` shows those reads
of a programme's offers, to its admins (every host) and to a host school's staff (their own).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, cast, literal
from sqlmodel import Session, col, select

from review_engine.clock import SystemClock, as_utc
from review_engine.core.safe_text import EMAIL_MAX, check_int, check_text
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import check_urns, cycle_label, get_cycle
from review_engine.store.batch import insert_many
from review_engine.store.knowledge_tables import IkOffer
from review_engine.store.models import Person, Review, School
from review_engine.store.privacy_tables import AccessLog

PAGE = 100  # entries on one page of the log, newest first


class Action(StrEnum):
    VIEWED = "viewed"
    DOWNLOADED = "downloaded"


class Record(StrEnum):
    """The kinds of record whose reading is logged."""

    SEF = "sef"
    WRITEUP = "writeup"
    VISIT_PACK = "visit_pack"
    WRITEUP_REPORT = "writeup_report"
    SUPPORT_PLAN = "support_plan"
    CLUSTER_REPORT = "cluster_report"


RECORD_WORDS = {
    Record.SEF: "self-evaluation (SEF)",
    Record.WRITEUP: "write-up",
    Record.VISIT_PACK: "visit pack",
    Record.WRITEUP_REPORT: "write-up report",
    Record.SUPPORT_PLAN: "support plan",
    Record.CLUSTER_REPORT: "cluster report",
}
VIA_WORDS = {"web": "web page", "api": "API", "cli": "command line"}

_COLUMNS = ("school_urn", "record", "detail")


@dataclass(frozen=True)
class Read:
    """One record read: of which school (None: the cycle's own, e.g. the cluster report)."""

    school_urn: int | None
    record: Record
    detail: str = ""


def _at(rt: Runtime) -> datetime:
    """When it was read. A read at a pretend time (`--now`) is still a real read, made now."""
    return SystemClock().now() if rt.pretending else rt.clock.now()


def note_many(
    session: Session,
    rt: Runtime,
    *,
    actor: str,
    cycle_id: int | None,
    action: Action,
    reads: Iterable[Read],
) -> int:
    """Record reads in the caller's transaction: one INSERT however many; the number written.
    `actor` is the name the policy resolved (an e-mail, or "operator (LOGIN)")."""
    rows = [(r.school_urn, r.record.value, r.detail[:200]) for r in reads]
    if rows:
        insert_many(
            session,
            AccessLog,
            _COLUMNS,
            rows,
            same={
                "at": _at(rt),
                "actor": actor,
                "action": action.value,
                "cycle_id": cycle_id,
                "via": rt.via,
            },
        )
    return len(rows)


def note(
    session: Session,
    rt: Runtime,
    *,
    actor: str,
    cycle_id: int,
    action: Action,
    read: Read,
) -> None:
    """Record one read in the caller's transaction (one INSERT)."""
    note_many(session, rt, actor=actor, cycle_id=cycle_id, action=action, reads=[read])


def record_documents(rt: Runtime, *, cycle: str, action: Action, reads: list[Read]) -> int:
    """Record documents built and handed over outside one transaction (a batch rendered to a
    folder or a zip): their reads, in one transaction of its own with one INSERT."""
    if not reads:
        return 0
    with rt.db.transaction() as session:
        found, _ = get_cycle(session, cycle)
        actor = policy.resolve_actor(session, rt.actor)
        return note_many(
            session, rt, actor=actor.name, cycle_id=found.id, action=action, reads=reads
        )


# --- reading the log --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str  # the e-mail (or "operator (LOGIN)")
    actor_name: str  # the person's name where registered, else the actor as recorded
    action: str
    record: str
    record_words: str
    school_urn: int | None
    school: str | None
    via: str
    via_words: str
    detail: str


@dataclass(frozen=True)
class AccessPage:
    cycle: str
    school_urn: int | None  # the one school asked about (None: the whole cycle)
    school: str | None
    entries: list[Entry]
    older: int | None  # the id to page on from (`before`), when there are older entries
    whole_cycle: bool  # the reader may see every school's entries (facilitator, admin)
    schools: list[tuple[int, str]]  # the cycle's schools by name, to filter by (whole cycle)


def entries(
    rt: Runtime,
    *,
    cycle: str,
    school: int | None = None,
    person: str | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> AccessPage:
    """The access log of a cycle, newest first, `limit` entries from `before` (an entry id):
    the cluster's facilitator and programme admins read it all (or one school's, or one
    person's); a school's own staff read their school's entries only. Anyone else, or a school
    that is not in the cycle, is told it was not found. Three queries."""
    check_urns(school)
    if person is not None:
        check_text(person, "person", max_len=EMAIL_MAX, multiline=False)
    if before is not None:
        check_int(before, "before")
    check_int(limit, "limit", high=1000)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        try:
            found, cluster = get_cycle(session, cycle)
        except (InvalidInput, NotFound):  # an unknown cluster too: no cycle of that name
            raise NotFound("cycle", cycle) from None
        assert cluster.id is not None and found.id is not None
        label = cycle_label(cluster, found.academic_year)
        whole = policy.is_facilitator(actor, cluster.id) or actor.admin
        members = dict(
            session.exec(
                select(Review.school_urn, School.name)
                .join(School, col(School.urn) == Review.school_urn)
                .where(Review.cycle_id == found.id)
            ).all()
        )
        if not whole:
            own = actor.school_urn
            if own is None or own not in members:
                raise NotFound("cycle", cycle)
            if school is not None and school != own:
                raise NotFound("school", school, f"it is not part of cycle {label}")
            school = own
        if school is not None and school not in members:
            raise NotFound("school", school, f"it is not part of cycle {label}")
        query = (
            select(AccessLog, Person.name)
            .outerjoin(Person, col(Person.email) == AccessLog.actor)
            .where(AccessLog.cycle_id == found.id)
        )
        if school is not None:
            query = query.where(AccessLog.school_urn == school)
        if person:
            query = query.where(AccessLog.actor == person.strip().lower())
        if before is not None:
            query = query.where(col(AccessLog.id) < before)
        rows = session.exec(query.order_by(col(AccessLog.id).desc()).limit(limit + 1)).all()
    shown = rows[:limit]
    return AccessPage(
        cycle=label,
        school_urn=school,
        school=members.get(school) if school is not None else None,
        entries=[
            _entry(log, name, members.get(log.school_urn) if log.school_urn is not None else None)
            for log, name in shown
        ],
        older=shown[-1][0].id if len(rows) > limit and shown else None,
        whole_cycle=whole,
        schools=sorted(members.items(), key=lambda m: m[1]) if whole else [],
    )


#: How `services/knowledge/report` describes a visit pack's read: the offer's id follows.
KNOWLEDGE_PACK = "Inside Knowledge offer "


def programme_entries(
    rt: Runtime,
    *,
    programme: str | None = None,
    school: int | None = None,
    person: str | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> AccessPage:
    """Who read the visit packs of an Inside Knowledge programme's offers (they name the
    visiting practitioners), newest first: a programme admin reads every host's (or one
    school's, or one person's), a host school's staff their own school's only; anyone else
    is told the programme was not found. Four queries at most, however many entries."""
    from review_engine.services.knowledge._load import find_programme, programme_title

    check_urns(school)
    if person is not None:
        check_text(person, "person", max_len=EMAIL_MAX, multiline=False)
    if before is not None:
        check_int(before, "before")
    check_int(limit, "limit", high=1000)
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        found = find_programme(session, programme)
        if not actor.admin:
            own = actor.school_urn
            if own is None:
                raise NotFound("programme", programme or programme_title(found))
            if school is not None and school != own:
                raise NotFound("school", school, "you may read your own school's entries only")
            school = own
        query = (
            select(AccessLog, Person.name, School.name)
            .join(
                IkOffer,
                (col(IkOffer.host_urn) == AccessLog.school_urn)
                & (IkOffer.programme_id == found.id)
                & col(AccessLog.detail).like(
                    literal(KNOWLEDGE_PACK) + cast(IkOffer.id, String) + literal(" %")
                ),
            )
            .join(School, col(School.urn) == AccessLog.school_urn)
            .outerjoin(Person, col(Person.email) == AccessLog.actor)
            .where(col(AccessLog.cycle_id).is_(None), AccessLog.record == Record.VISIT_PACK.value)
        )
        if school is not None:
            query = query.where(AccessLog.school_urn == school)
        if person:
            query = query.where(AccessLog.actor == person.strip().lower())
        if before is not None:
            query = query.where(col(AccessLog.id) < before)
        rows = session.exec(query.order_by(col(AccessLog.id).desc()).limit(limit + 1)).all()
        hosts = (
            session.exec(
                select(School.urn, School.name)
                .where(
                    col(School.urn).in_(
                        select(IkOffer.host_urn).where(IkOffer.programme_id == found.id)
                    )
                )
                .order_by(School.name)
            ).all()
            if actor.admin
            else []
        )
        title = programme_title(found)
        named = session.get(School, school) if school is not None else None
    shown = rows[:limit]
    return AccessPage(
        cycle=title,
        school_urn=school,
        school=named.name if named else None,
        entries=[_entry(log, name, host) for log, name, host in shown],
        older=shown[-1][0].id if len(rows) > limit and shown else None,
        whole_cycle=actor.admin,
        schools=[(u, n) for u, n in hosts if u is not None],
    )


def _entry(log: AccessLog, name: str | None, school: str | None) -> Entry:
    """One row of the log as a page shows it: who by name, what and how in words."""
    return Entry(
        id=log.id or 0,
        at=as_utc(log.at),
        actor=log.actor,
        actor_name=name or log.actor,
        action=log.action,
        record=log.record,
        record_words=_record_words(log.record),
        school_urn=log.school_urn,
        school=school,
        via=log.via,
        via_words=VIA_WORDS.get(log.via, log.via),
        detail=log.detail,
    )


def _record_words(record: str) -> str:
    try:
        return RECORD_WORDS[Record(record)]
    except ValueError:
        return record.replace("_", " ")
