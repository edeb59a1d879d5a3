"""Visit invites: parse back, local times across the clocks changing, stable UID, cancel."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time

import pytest
from icalendar import Calendar

from review_engine.core.domain import Slot
from review_engine.documents.context import Person, SchoolRef, VisitInviteContext
from review_engine.documents.invites import invite_ics, visit_uid
from review_engine.errors import InvalidInput

NOW = datetime(2027, 1, 10, 15, 30, tzinfo=UTC)
FACILITATOR = Person("Fran Facilitator", "facilitator@example.org")
HEADS = (
    Person("Bob Khan", "bob@holytrinity.example"),
    Person("Cara Jones", "cara@oakfield.example"),
    Person("Dee Head", "head@stmarys.example"),
)


def invite(**changes: object) -> VisitInviteContext:
    base = VisitInviteContext(
        cycle_id="MC2SP/2026-27",
        host=SchoolRef("St Mary’s C of E Primary", "105000"),
        visit_date=date(2027, 3, 29),
        slot=Slot.MORNING,
        organizer=FACILITATOR,
        attendees=HEADS,
        sequence=0,
        location="1 Church Lane, Manchester M1 1AA",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def parse(data: bytes) -> tuple[Calendar, object]:
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


@pytest.mark.parametrize(
    ("day", "slot", "start_utc", "end_utc"),
    [
        (date(2027, 3, 29), Slot.MORNING, "08:00", "11:30"),
        (date(2026, 10, 26), Slot.MORNING, "09:00", "12:30"),
        (date(2027, 3, 26), Slot.AFTERNOON, "13:00", "16:00"),
        (date(2026, 10, 23), Slot.AFTERNOON, "12:00", "15:00"),
    ],
    ids=["after-spring-forward", "after-fall-back", "before-spring-forward", "before-fall-back"],
)
def test_times_are_local_london_across_clock_changes(
    day: date, slot: Slot, start_utc: str, end_utc: str
) -> None:
    data = invite_ics(invite(visit_date=day, slot=slot), now=NOW)
    _, event = parse(data)
    start = event["DTSTART"].dt.astimezone(UTC)  # type: ignore[index]
    end = event["DTEND"].dt.astimezone(UTC)  # type: ignore[index]
    assert (start.date(), f"{start:%H:%M}", end.date(), f"{end:%H:%M}") == (
        day,
        start_utc,
        day,
        end_utc,
    )
    text = data.decode()
    assert "DTSTART;TZID=Europe/London:" in text
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/London" in text
    assert len(text) < 3000  # a compact VTIMEZONE around the visit, not 1970-2038


def test_request_has_organizer_attendees_sequence_and_dtstamp() -> None:
    cal, event = parse(invite_ics(invite(sequence=2), now=NOW))
    assert cal["METHOD"] == "REQUEST"
    assert event["STATUS"] == "CONFIRMED"  # type: ignore[index]
    assert event["SEQUENCE"] == 2  # type: ignore[index]
    assert event["DTSTAMP"].dt == NOW  # type: ignore[index]
    assert str(event["ORGANIZER"]) == "mailto:facilitator@example.org"  # type: ignore[index]
    assert event["ORGANIZER"].params["CN"] == "Fran Facilitator"  # type: ignore[index]
    attendees = event["ATTENDEE"]  # type: ignore[index]
    assert [str(a) for a in attendees] == [f"mailto:{p.email}" for p in HEADS]
    assert all(a.params["RSVP"] == "TRUE" for a in attendees)
    assert "St Mary’s" in str(event["SUMMARY"])  # type: ignore[index]
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"


def test_cancel_keeps_the_uid_and_says_cancelled() -> None:
    request = parse(invite_ics(invite(sequence=0), now=NOW))[1]
    cal, cancel = parse(invite_ics(invite(sequence=1, cancelled=True), now=NOW))
    assert cal["METHOD"] == "CANCEL"
    assert cancel["STATUS"] == "CANCELLED"  # type: ignore[index]
    assert cancel["SEQUENCE"] == 1  # type: ignore[index]
    assert cancel["UID"] == request["UID"]  # type: ignore[index]


def test_uid_is_stable_per_visit_and_differs_between_visits() -> None:
    first = parse(invite_ics(invite(), now=NOW))[1]["UID"]  # type: ignore[index]
    moved = invite(visit_date=date(2027, 4, 19), slot=Slot.AFTERNOON, sequence=1)
    again = parse(invite_ics(moved, now=datetime(2027, 2, 1, tzinfo=UTC)))[1]["UID"]  # type: ignore[index]
    assert first == again == visit_uid("MC2SP/2026-27", "105000")
    assert first.endswith("@review-engine.invalid")
    assert visit_uid("MC2SP/2026-27", "105007") != first
    assert visit_uid("MC2SP/2027-28", "105000") != first
    assert visit_uid("MC2SP/2026-27", "105000", "schools.example").endswith("@schools.example")


def test_own_times_override_the_slot() -> None:
    _, event = parse(invite_ics(invite(start=time(8, 30), end=time(11, 0)), now=NOW))
    assert event["DTSTART"].dt.time() == time(8, 30)  # type: ignore[index]
    with pytest.raises(InvalidInput, match="is not after start"):
        invite_ics(invite(start=time(12, 0), end=time(11, 0)), now=NOW)


def test_user_text_cannot_inject_properties() -> None:
    evil = "St Mary’s\r\nATTENDEE:mailto:evil@example.com\r\nX: {{ 7*7 }}"
    data = invite_ics(
        invite(
            host=SchoolRef(evil, "105000"),
            attendees=(Person('Bob "the head"\r\nX', "bob@holytrinity.example"),),
        ),
        now=NOW,
    )
    _, event = parse(data)
    attendee = event["ATTENDEE"]  # type: ignore[index]
    assert str(attendee) == "mailto:bob@holytrinity.example"  # one attendee, not two
    assert attendee.params["CN"] == "Bob the headX"
    assert str(event["SUMMARY"]).endswith("X: {{ 7*7 }}")  # type: ignore[index]
    assert b"\r\nATTENDEE:mailto:evil" not in data


def test_an_attendee_without_email_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no usable email"):
        invite_ics(invite(attendees=(Person("No Email"),)), now=NOW)


def test_the_organizer_is_not_invited_twice() -> None:
    _, event = parse(invite_ics(invite(attendees=(*HEADS, FACILITATOR)), now=NOW))
    assert len(event["ATTENDEE"]) == 3  # type: ignore[index]


def test_dtstamp_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        invite_ics(invite(), now=datetime(2027, 1, 1))
