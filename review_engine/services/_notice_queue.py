"""Queueing notices in the outbox: each notice addressed to the people who take its kind, at
once or in their daily digest (`_recipients`), worded by its event's template (school names,
the cycle by its name, a link into the web app and, unless essential, a signed unsubscribe
link), one row per person under a stable `dedupe_key` (the event, the record and what makes
this occasion distinct, then ">" and their address) whose UUID5 is the Message-ID.

Set-based: a fixed few statements however many people (who takes the kinds, the
facilitators, the link key, one insert). The events themselves are built in `notices`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, select

from review_engine.core.domain import NoticeKind, Role, Slot
from review_engine.core.notice_choices import Delivery, effective
from review_engine.core.notices import CATALOGUE, Event
from review_engine.documents import environment
from review_engine.services._recipients import (
    DEFAULT_BASE_URL,
    Recipient,
    recipients,
    unsubscribe_url,
)
from review_engine.services._visit_reminders import visit_invite
from review_engine.store.batch import chunks, in_, insert_ignore
from review_engine.store.models import Person, School
from review_engine.store.schedule_tables import OutboxMessage

_MESSAGE_NS = uuid.UUID("2b7d0c53-3f0e-4f55-9a1e-6c3f2f8d9e41")


@dataclass(frozen=True)
class Invite:
    """The visit's calendar invite, built once the notice's recipients (its attendees) are
    known."""

    host: School
    visit_date: date
    slot: Slot
    sequence: int
    cancelled: bool = False


@dataclass(frozen=True)
class Pending:
    """One event's notice, before it is addressed to people.

    `urn` is the school whose record it concerns; `to` the schools whose people take it (their
    own school's name is the template's `your_school`); `facilitator` the cluster's facilitator
    (a person id) when they take it. `occasion` is what makes this event distinct from an
    earlier one of the same record (a SEF version, a visit's SEQUENCE): with the event and the
    record it makes each person's dedupe key."""

    event: Event
    cycle_id: int
    urn: int
    occasion: str = ""
    to: tuple[int, ...] = ()
    facilitator: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    page: str = ""  # the path in the web app the notice links to
    invite: Invite | None = None
    organiser: int | None = None  # the invite's organiser (a person id): the facilitator
    mentions: tuple[int, ...] = ()  # other schools the template names (`names[urn]`)


@dataclass(frozen=True)
class CycleRef:
    """How a cycle is named to people ("Northbrook 2026-27") and in links (its reference)."""

    words: str
    ref: str

    @classmethod
    def of(cls, cluster: str, year: str) -> CycleRef:
        return cls(f"{cluster} {year}", f"{cluster}/{year}")

    def page(self, path: str = "") -> str:
        return f"/cycles/{quote(self.ref, safe='/')}" + (f"/{path}" if path else "")

    def school_page(self, urn: int, path: str) -> str:
        return self.page(f"schools/{urn}/{path}")


def queue(
    session: Session,
    pending: Sequence[Pending],
    *,
    cycles: Mapping[int, CycleRef],
    names: Mapping[int, str],
    base_url: str | None,
    at: datetime,
    skip_known: bool = False,
) -> int:
    """Address each notice to the people who take its kind and queue one outbox row per
    person (none twice); how many rows were offered. With `skip_known` (the tick, which offers
    the same work every day) rows already queued are found first (one more query) and neither
    worded again nor counted."""
    if not pending:
        return 0
    kinds = {CATALOGUE[p.event].kind for p in pending}
    schools = {u for p in pending for u in p.to}
    takers = recipients(session, schools, kinds) if schools else {}
    people = _people(session, {i for p in pending for i in (p.facilitator, p.organiser) if i})
    addressed: dict[str, tuple[int, Recipient, int | None]] = {}  # key: notice, to, school
    everyone: dict[int, list[tuple[Recipient, int | None]]] = {}
    for n, p in enumerate(pending):
        kind = CATALOGUE[p.event].kind
        found: list[tuple[Recipient, int | None]] = [
            (r, urn) for urn in p.to for r in takers.get((urn, kind), ())
        ]
        if p.facilitator is not None:
            person = people.get(p.facilitator)
            taken = _takes(person, kind) if person is not None else None
            if taken is not None:
                found.append((taken, None))
        everyone[n] = found
        record = f"{p.event}:{p.cycle_id}:{p.urn}" + (f":{p.occasion}" if p.occasion else "")
        for to, school in found:
            addressed.setdefault(f"{record}>{to.email}", (n, to, school))
    if skip_known and addressed:
        for key in queued(session, list(addressed)):
            addressed.pop(key, None)
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    env = environment()
    invites: dict[int, tuple[str, str] | None] = {}
    rows = []
    for key, (n, to, school) in addressed.items():
        p = pending[n]
        spec = CATALOGUE[p.event]
        cycle = cycles[p.cycle_id]
        if n not in invites:  # one invite per notice, its attendees everyone told of it
            invites[n] = _invite(p, cycle, everyone[n], people, at)
        attachment = invites[n]
        context = {
            **p.facts,
            "cycle": cycle.words,
            "school": names.get(p.urn, f"school {p.urn}"),
            "school_urn": p.urn,
            "your_school": names.get(school, "") if school is not None else "",
            "your_urn": school,
            "as_host": school == p.urn,
            "name": to.name,
            "link": base + (p.page or cycle.page()),
            "unsubscribe": None
            if spec.essential
            else unsubscribe_url(session, base_url, to.email, spec.kind.value),
            "kind_label": spec.kind.label,
            "names": names,
        }
        module = env.get_template(spec.template).make_module(context)
        rows.append(
            {
                "message_id": str(uuid.uuid5(_MESSAGE_NS, key)),
                "dedupe_key": key,
                "recipient": to.email,
                "subject": str(getattr(module, "subject", "")).strip(),
                "body": str(module).strip() + "\n",
                "cycle_id": p.cycle_id,
                "school_urn": p.urn,
                "item": p.event.value,
                "created_at": at,
                "attempts": 0,
                "attachment_name": attachment[0] if attachment else None,
                "attachment": attachment[1] if attachment else None,
                "notice": p.event.value,
                "held_for_digest": to.digest and not spec.essential,
            }
        )
    insert_ignore(session, OutboxMessage, rows)
    return len(rows)


def _people(session: Session, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {
        p.id: p
        for p in session.exec(select(Person).where(in_(session, Person.id, sorted(ids))))
        if p.id is not None
    }


def _takes(person: Person, kind: NoticeKind) -> Recipient | None:
    """How a person who is not found by school (the facilitator) takes `kind`: their own
    choice, else their role's default; None when they do not."""
    if not person.active:
        return None
    delivery = effective(person.notices, Role(person.role)).get(kind, Delivery.OFF)
    if delivery is Delivery.OFF:
        return None
    return Recipient(person.email, person.name, digest=delivery is Delivery.DIGEST)


def _invite(
    p: Pending,
    cycle: CycleRef,
    addressed: list[tuple[Recipient, int | None]],
    people: Mapping[int, Person],
    at: datetime,
) -> tuple[str, str] | None:
    if p.invite is None:
        return None
    organiser = people.get(p.organiser) if p.organiser is not None else None
    return visit_invite(
        description=f"Peer review visit to {p.invite.host.name}, {cycle.words}.",
        cycle_id=p.cycle_id,
        host=p.invite.host,
        visit_date=p.invite.visit_date,
        slot=p.invite.slot,
        sequence=p.invite.sequence,
        organiser=(organiser.name, organiser.email) if organiser else None,
        attendees=[(r.email, r.name) for r, _ in addressed],
        at=at,
        cancelled=p.invite.cancelled,
    )


def queued(session: Session, keys: Sequence[str]) -> dict[str, str]:
    """Dedupe key → message id of the messages already in the outbox under these keys (any
    state): what must not be queued again. One query per chunk of keys."""
    found: dict[str, str] = {}
    conn = session.connection()
    for chunk in chunks(list(keys)):
        rows = conn.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.message_id).where(
                in_(session, OutboxMessage.dedupe_key, chunk)
            )
        )
        found.update((key, message_id) for key, message_id in rows)
    return found
