"""`review outbox send` against a real SMTP server (aiosmtpd) on 127.0.0.1: each reminder
arrives once, with the stable Message-ID it was queued with, however often sending is retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from review_engine.adapters.mail import SmtpSettings
from review_engine.core.domain import Role
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import calendars, cycles, outbox, people
from review_engine.services.tick import TickReport
from review_engine.services.tick import tick as run_tick
from tests.conftest import SAMPLES

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

HEADS = {
    990101: "head@northbrook.example",
    990102: "head@st-aidans.example",
    990104: "head@mosslane.example",
}
CYCLE = "Northbrook/2026-27"


def tick(rt: Runtime, **options: Any) -> TickReport:
    """The tick as the scheduler runs it (people may not, unless admins: see test_admin)."""
    return run_tick(rt.acting_as(SCHEDULER), **options)


@dataclass
class Mailbox:
    """Keeps every message; refuses DATA while `failing` is set (a server having a bad day)."""

    received: list[EmailMessage] = field(default_factory=list)
    failing: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failing:
            return "451 4.3.0 try again later"
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    mailbox = Mailbox()
    controller = aiosmtpd_controller.Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            mailbox,
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                starttls=False,
                user=None,
                password=None,
                mail_from="facilitator@example.org",
                timeout=5.0,
            ),
        )
    finally:
        controller.stop()


@pytest.fixture
def queued(rt: Runtime, sample_cluster: list[int]) -> list[outbox.OutboxRow]:
    """One SEF reminder queued for each of three heads (due in 7 days)."""
    for urn, email in HEADS.items():
        people.add_person(
            rt.acting_as(OPERATOR), email=email, name=f"Head {urn}", role=Role.HEAD, school_urn=urn
        )
    calendars.import_calendar(
        rt.acting_as(OPERATOR), name="Sample LA", path=SAMPLES / "term-dates-2026-27.csv"
    )
    calendars.assign_calendar(rt.acting_as(OPERATOR), name="Sample LA", la_code="352")
    cycles.start_cycle(rt, cluster="Northbrook", year="2026-27")
    assert tick(rt, now=datetime(2026, 10, 9, 5, tzinfo=UTC)).reminders == len(HEADS)
    rows = outbox.list_outbox(rt)
    assert [r.status for r in rows] == ["queued"] * len(HEADS)
    return rows


def _ids(mailbox: Mailbox) -> list[str]:
    return [str(m["Message-ID"]) for m in mailbox.received]


def test_queued_reminders_arrive_once_with_their_stable_message_id(
    rt: Runtime, smtp: tuple[Mailbox, SmtpSettings], queued: list[outbox.OutboxRow]
) -> None:
    mailbox, settings = smtp
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(sent=3, failed=0, dropped=0)
    assert sorted(_ids(mailbox)) == sorted(f"<{r.message_id}@review-engine>" for r in queued)
    by_to = {str(m["To"]): m for m in mailbox.received}
    assert set(by_to) == set(HEADS.values())
    first = by_to["head@northbrook.example"]
    assert (
        first["Subject"].strip()
        == f"Reminder: your self-evaluation (SEF) is due 16 Oct 2026 ({CYCLE})"
    )
    assert first["From"] == "facilitator@example.org"
    assert "is due on Friday 16 October 2026 (in 7 days)" in first.get_content()
    assert {r.status for r in outbox.list_outbox(rt)} == {"sent"}
    # Sending again, or ticking again the same week, sends nothing more.
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(0, 0, 0)
    assert tick(rt, now=datetime(2026, 10, 10, 5, tzinfo=UTC)).reminders == 0
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(0, 0, 0)
    assert len(mailbox.received) == 3


def test_a_failed_send_is_retried_with_the_same_message_id(
    rt: Runtime, smtp: tuple[Mailbox, SmtpSettings], queued: list[outbox.OutboxRow]
) -> None:
    mailbox, settings = smtp
    mailbox.failing = True
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(sent=0, failed=3, dropped=0)
    assert mailbox.received == []
    rows = outbox.list_outbox(rt, pending_only=True)
    assert [r.message_id for r in rows] == [r.message_id for r in queued]
    assert {(r.attempts, r.status) for r in rows} == {(1, "retrying (451 4.3.0 try again later)")}
    mailbox.failing = False
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(sent=3, failed=0, dropped=0)
    assert _ids(mailbox) == [f"<{r.message_id}@review-engine>" for r in queued]
    assert {(r.attempts, r.status) for r in outbox.list_outbox(rt)} == {(2, "sent")}
    assert outbox.list_outbox(rt, pending_only=True) == []


def test_a_reminder_for_work_done_since_it_was_queued_is_dropped_not_sent(
    rt: Runtime, smtp: tuple[Mailbox, SmtpSettings], queued: list[outbox.OutboxRow]
) -> None:
    from review_engine.core.sef_file import SefFormat
    from review_engine.services import sef

    mailbox, settings = smtp
    text = (SAMPLES / "sef-primary.md").read_text(encoding="utf-8")
    done = rt.acting_as(HEADS[990101])
    sef.submit_sef(done, cycle=CYCLE, urn=990101, text=text, fmt=SefFormat.MD)
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(sent=2, failed=0, dropped=1)
    assert {str(m["To"]) for m in mailbox.received} == {
        "head@st-aidans.example",
        "head@mosslane.example",
    }
    statuses = {r.recipient: r.status for r in outbox.list_outbox(rt)}
    assert statuses["head@northbrook.example"] == "dropped"
    assert outbox.send_outbox(rt, smtp=settings) == outbox.SendReport(0, 0, 0)
    assert len(mailbox.received) == 2
