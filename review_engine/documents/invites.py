"""Calendar invites for peer visits (iCalendar, RFC 5545 / iTIP RFC 5546).

One VEVENT per visit. The UID is derived from the cycle and the host school, so every
update of the same visit (a new date, a cancellation) replaces the earlier event in the
attendees' calendars; the caller bumps SEQUENCE on each change. Times are local to
Europe/London, with a VTIMEZONE, so a morning visit is 09:00 on both sides of a clock change.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from review_engine.core.domain import Slot
from review_engine.documents.context import Person, VisitInviteContext
from review_engine.errors import InvalidInput

if TYPE_CHECKING:  # icalendar is imported where an invite is built, not by every command
    from icalendar import Calendar, vCalAddress

LONDON = ZoneInfo("Europe/London")
PRODID = "-//review-engine//peer review visits//EN"
DEFAULT_DOMAIN = "review-engine.invalid"
#: Local start and end of each half-day slot, unless a visit gives its own.
SLOT_TIMES: dict[Slot, tuple[time, time]] = {
    Slot.MORNING: (time(9, 0), time(12, 30)),
    Slot.AFTERNOON: (time(13, 0), time(16, 0)),
}
_EMAIL = re.compile(r"^[^@\s<>\"',;:]+@[^@\s<>\"',;:]+$")
_PARAM_UNSAFE = re.compile(r"[\"\x00-\x1f\x7f]")


def visit_uid(cycle_id: str, host_urn: str, domain: str = DEFAULT_DOMAIN) -> str:
    """The stable UID of a visit: the same cycle and host always give the same UID."""
    digest = hashlib.sha256(f"{cycle_id}\x1f{host_urn}".encode()).hexdigest()[:16]
    urn = re.sub(r"[^A-Za-z0-9]", "", host_urn) or "x"
    return f"visit-{urn}-{digest}@{domain}"


def visit_times(invite: VisitInviteContext) -> tuple[datetime, datetime]:
    """Start and end of the visit, aware in Europe/London."""
    default_start, default_end = SLOT_TIMES[Slot(invite.slot)]
    start = datetime.combine(invite.visit_date, invite.start or default_start, LONDON)
    end = datetime.combine(invite.visit_date, invite.end or default_end, LONDON)
    if end <= start:
        raise InvalidInput(
            f"visit to {invite.host.urn} on {invite.visit_date}: end {end:%H:%M} "
            f"is not after start {start:%H:%M}"
        )
    return start, end


def _address(person: Person, role: str) -> vCalAddress:
    """A mailto: address with a common name a calendar can show (no quotes, no controls)."""
    from icalendar import vCalAddress

    email = (person.email or "").strip()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{role} {person.name!r} has no usable email address: {email!r}")
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = _PARAM_UNSAFE.sub("", person.name).strip() or email
    return address


def build_invite(
    invite: VisitInviteContext, *, now: datetime, domain: str = DEFAULT_DOMAIN
) -> Calendar:
    """The calendar (METHOD:REQUEST, or CANCEL when cancelled) holding the visit's VEVENT."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if invite.sequence < 0:
        raise InvalidInput(f"SEQUENCE must not be negative, got {invite.sequence}")
    start, end = visit_times(invite)
    from icalendar import Calendar, Event, vText

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if invite.cancelled else "REQUEST")

    event = Event()
    event.add("uid", visit_uid(invite.cycle_id, invite.host.urn, domain))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", invite.sequence)
    event.add("summary", vText(f"Peer review visit: {invite.host.name}"))
    if invite.location:
        event.add("location", vText(invite.location))
    description = invite.description or (
        f"Peer review visit to {invite.host.name} (URN {invite.host.urn}), cycle {invite.cycle_id}."
    )
    event.add("description", vText(description))
    event.add("status", "CANCELLED" if invite.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(invite.organizer, "organiser"), encode=False)
    seen = {(invite.organizer.email or "").lower()}
    for person in invite.attendees:
        key = (person.email or "").lower()
        if key in seen:
            continue
        seen.add(key)
        attendee = _address(person, "attendee")
        attendee.params.update(
            {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION"}
        )
        if not invite.cancelled:
            attendee.params["RSVP"] = "TRUE"
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    # A VTIMEZONE from tzdata covering the years around the visit, not 1970-2038.
    year = invite.visit_date.year
    cal.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return cal


def invite_ics(invite: VisitInviteContext, *, now: datetime, domain: str = DEFAULT_DOMAIN) -> bytes:
    """The visit's invite as .ics bytes (CRLF lines, folded at 75 octets)."""
    return build_invite(invite, now=now, domain=domain).to_ical()
