"""Inside Knowledge's e-mails: rendered from templates/email/ik_*.txt.j2 and queued as outbox
rows (cycle_id NULL) in the caller's transaction, each once: its dedupe key names the event,
the record and the recipient, so running the same step twice queues nothing new."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from review_engine.core.domain import NoticeKind, Slot
from review_engine.core.knowledge import SLOT_TIMES, SLOT_WORDS
from review_engine.documents.templating import environment
from review_engine.services._notice_queue import queued
from review_engine.services._recipients import DEFAULT_BASE_URL, recipients
from review_engine.store.batch import insert_ignore
from review_engine.store.knowledge_tables import IkBooking, IkOffer
from review_engine.store.models import Person, School
from review_engine.store.schedule_tables import OutboxMessage

LONDON = ZoneInfo("Europe/London")
_NS = uuid.UUID("6c0b8a52-1f7e-4d7b-9a43-2a9f1d3c5e77")
_EMAIL = re.compile(r"^[^@\s<>\"',;:]+@[^@\s<>\"',;:]+\.[^@\s<>\"',;:]+$")
PRODID = "-//review-engine//inside knowledge visits//EN"


@dataclass(frozen=True)
class Mail:
    """One notice to queue: the template (`ik_confirmed`), who it goes to, and its facts."""

    event: str
    record: str  # e.g. "booking:12"
    to: tuple[tuple[str, str], ...]  # (email, name)
    facts: Mapping[str, Any]
    school_urn: int | None = None
    invite: tuple[str, str] | None = None  # (file name, .ics text)
    occasion: str = ""  # distinguishes repeats of one event (an agenda's version)
    extra: dict[str, Any] = field(default_factory=dict)


def is_email(text: str | None) -> bool:
    return bool(text) and bool(_EMAIL.match(text or ""))


def booking_people(
    booking: IkBooking, takers: Iterable[tuple[str, str]] = ()
) -> tuple[tuple[str, str], ...]:
    """Who hears about a booking: whoever made it, its named practitioners, and the school's
    people who take visit notices; each once."""
    found: dict[str, str] = {}
    if is_email(booking.requested_by):
        found[booking.requested_by.lower()] = booking.requested_by
    for p in booking.practitioners or []:
        email = (p.get("email") or "").strip()
        if is_email(email):
            found.setdefault(email.lower(), p.get("name") or email)
    for email, name in takers:
        found.setdefault(email.lower(), name)
    return tuple((email, name) for email, name in found.items())


def school_takers(
    session: Session, urns: Iterable[int], kind: NoticeKind = NoticeKind.VISITS
) -> dict[int, list[tuple[str, str]]]:
    """Each school's people who take `kind` (services._recipients), one query."""
    wanted = set(urns)
    if not wanted:
        return {}
    found = recipients(session, wanted, {kind})
    return {u: [(r.email, r.name) for r in found.get((u, kind), [])] for u in wanted}


def offer_facts(offer: IkOffer, host: School, programme_title: str) -> dict[str, Any]:
    start, end = SLOT_TIMES[Slot(offer.slot)]
    return {
        "programme": programme_title,
        "offer_title": offer.title,
        "host": host.name,
        "host_town": host.town or "",
        "host_postcode": host.postcode or "",
        "visit_date": offer.visit_date,
        "slot_words": SLOT_WORDS[Slot(offer.slot)],
        "start": start,
        "end": end,
        "deadline": offer.booking_deadline,
        "offer_id": offer.id,
    }


def invite(
    offer: IkOffer,
    host: School,
    attendees: Sequence[tuple[str, str]],
    *,
    at: datetime,
    cancelled: bool = False,
    sequence: int = 0,
) -> tuple[str, str]:
    """The visit's calendar invite (.ics): one stable UID per offer, so a cancellation
    replaces it in the visitor's calendar."""
    from icalendar import Calendar, Event, vCalAddress, vText

    start_time, end_time = SLOT_TIMES[Slot(offer.slot)]
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"ik-offer-{offer.id}@review-engine.invalid")
    event.add("dtstamp", at.astimezone(UTC))
    event.add("dtstart", datetime.combine(offer.visit_date, start_time, LONDON))
    event.add("dtend", datetime.combine(offer.visit_date, end_time, LONDON))
    event.add("sequence", sequence)
    event.add("summary", vText(f"Inside Knowledge visit: {host.name}"))
    event.add("location", vText(", ".join(x for x in (host.name, host.town, host.postcode) if x)))
    event.add("description", vText(f"{offer.title}. Inside Knowledge visit to {host.name}."))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organiser = vCalAddress("mailto:inside-knowledge@review-engine.invalid")
    organiser.params["CN"] = "Inside Knowledge"
    event.add("organizer", organiser, encode=False)
    for email, name in attendees:
        if not is_email(email):
            continue
        address = vCalAddress(f"mailto:{email}")
        address.params["CN"] = re.sub(r"[\"\x00-\x1f\x7f]", "", name).strip() or email
        address.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION"})
        event.add("attendee", address, encode=False)
    cal.add_component(event)
    year = offer.visit_date.year
    cal.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return f"inside-knowledge-visit-{offer.id}.ics", cal.to_ical().decode("utf-8")


def _names(session: Session, emails: set[str]) -> dict[str, str]:
    """Registered people's names for addresses known only by e-mail (one query)."""
    if not emails:
        return {}
    rows = session.exec(select(Person.email, Person.name).where(col(Person.email).in_(emails)))
    return {email.lower(): name for email, name in rows.all()}


def queue(session: Session, mails: Sequence[Mail], *, at: datetime, base_url: str | None) -> int:
    """Render and queue each mail once per recipient: a key already in the outbox is left out
    (and ON CONFLICT DO NOTHING covers a concurrent writer); returns how many are new."""
    if not mails:
        return 0
    env = environment()
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    names = _names(session, {e.lower() for m in mails for e, n in m.to if e == n})
    rows: dict[str, dict[str, Any]] = {}
    for mail in mails:
        template = env.get_template(f"email/{mail.event}.txt.j2")
        for email, name in mail.to:
            if not is_email(email):
                continue
            key = f"{mail.event}:{mail.record}" + (f":{mail.occasion}" if mail.occasion else "")
            key = f"{key}>{email.lower()}"
            if key in rows:
                continue
            context = {
                **mail.facts,
                **mail.extra,
                "name": names.get(email.lower(), name) if name == email else name,
                "link": base + str(mail.facts.get("path", "/inside-knowledge")),
                "unsubscribe": None,
                "kind_label": "",
            }
            module = template.make_module(context)
            rows[key] = {
                "message_id": str(uuid.uuid5(_NS, key)),
                "dedupe_key": key,
                "recipient": email,
                "subject": " ".join(str(getattr(module, "subject", "")).split()),
                "body": str(module).strip() + "\n",
                "cycle_id": None,
                "school_urn": mail.school_urn,
                "item": mail.record,
                "created_at": at,
                "attempts": 0,
                "attachment_name": mail.invite[0] if mail.invite else None,
                "attachment": mail.invite[1] if mail.invite else None,
                "notice": mail.event,
                "held_for_digest": False,
            }
    if rows:
        known = queued(session, list(rows))
        rows = {k: v for k, v in rows.items() if k not in known}
    insert_ignore(session, OutboxMessage, list(rows.values()))
    return len(rows)
