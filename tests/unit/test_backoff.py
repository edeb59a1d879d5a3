"""Delivery rules without a database: how long a failed message waits, when a reminder's
moment has passed, and the invite's content type following its METHOD line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from review_engine.adapters.mail import build_email
from review_engine.services import outbox
from review_engine.services._outbox_claims import _outgoing
from review_engine.services._outbox_drops import moment_passed
from review_engine.store.schedule_tables import OutboxMessage


def test_a_failed_message_waits_longer_after_each_failure() -> None:
    waits = [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    assert waits == [
        timedelta(minutes=5),
        timedelta(minutes=20),
        timedelta(hours=1, minutes=20),
        timedelta(hours=5, minutes=20),
        timedelta(hours=21, minutes=20),
    ]
    assert sum(waits, timedelta()) < timedelta(days=2)  # given up within two days
    assert outbox.backoff(10) == timedelta(days=1)  # never longer than a day


DUE = date(2026, 10, 16)  # a Friday


@pytest.mark.parametrize(
    ("kind", "today", "stale"),
    [
        ("due-7", date(2026, 9, 1), None),  # early (a clock set back): it still holds
        ("due-7", date(2026, 10, 9), None),
        ("due-7", date(2026, 10, 14), None),
        ("due-7", date(2026, 10, 15), "the reminder of the day before follows"),
        ("due-7", date(2026, 10, 17), "the overdue reminder follows"),
        ("due-1", date(2026, 10, 16), None),
        ("due-1", date(2026, 10, 17), "the overdue reminder follows"),
        ("overdue-0", date(2026, 10, 17), None),
        ("overdue-0", date(2026, 10, 23), None),
        ("overdue-0", date(2026, 10, 24), "a later overdue reminder replaces it"),
        ("overdue-1", date(2026, 10, 24), None),
        ("overdue-0", date(2026, 10, 16), "it is no longer overdue (now due 16 Oct 2026)"),
    ],
    ids=[
        "7-days-early",
        "7-days-on-time",
        "7-days-two-days-left",
        "7-days-on-the-eve",
        "7-days-after-the-date",
        "1-day-on-the-day",
        "1-day-after-the-date",
        "overdue-the-day-after",
        "overdue-a-week-on",
        "overdue-replaced-by-the-next-week",
        "overdue-next-week",
        "overdue-date-moved-later",
    ],
)
def test_a_reminder_holds_until_the_next_of_its_series_is_owed(
    kind: str, today: date, stale: str | None
) -> None:
    reason = moment_passed(kind, DUE, today)
    if stale is None:
        assert reason is None
    else:
        assert reason is not None and reason.endswith(stale)
        assert "16 Oct 2026" in reason


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//review-engine//EN\r\nMETHOD:{method}\r\n"
    "BEGIN:VEVENT\r\nUID:visit-1@review-engine\r\nSUMMARY:Peer review visit\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize(
    ("ics", "method"),
    [
        (ICS.format(method="REQUEST"), "REQUEST"),
        (ICS.format(method="CANCEL"), "CANCEL"),
        (ICS.format(method="cancel"), "CANCEL"),
        (ICS.replace("METHOD:{method}\r\n", ""), "REQUEST"),
        (ICS.format(method="BOGUS"), "REQUEST"),
    ],
    ids=["request", "cancel", "lower-case", "none", "unknown"],
)
def test_the_invite_is_sent_as_its_method_says(ics: str, method: str) -> None:
    assert outbox.calendar_method(ics) == method
    message = OutboxMessage(
        message_id="m-1",
        dedupe_key="k",
        recipient="head@northbrook.example",
        subject="Peer review visit",
        body="Hello",
        created_at=datetime(2026, 10, 1, tzinfo=UTC),
        attachment_name="visit.ics",
        attachment=ics,
    )
    email = build_email(_outgoing(message), "facilitator@example.org")
    [part] = list(email.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == method
    assert part.get_filename() == "visit.ics"
