"""`review outbox send` against a real SMTP server (aiosmtpd) on 127.0.0.1: each reminder
arrives once, with the stable Message-ID it was queued with, however often sending is retried."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from review_engine.adapters.mail import SmtpSettings
from review_engine.core.domain import Role
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import calendars, cycles, outbox, people
from review_engine.services.tick import TickReport
from review_engine.services.tick import tick as run_tick
from review_engine.testing import FakeClock
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
    """Keeps every message; refuses DATA while `failing` is set (a server having a bad day).

    With `hold_at` set, the server sits on that message (counting from 0) until `release` is
    set, as a slow server would; `holding` says it is sitting. A held message is refused, not
    kept, when `refuse_held` is set (its sender was killed before the server answered)."""

    received: list[EmailMessage] = field(default_factory=list)
    failing: bool = False
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    refuse_held: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failing:
            return "451 4.3.0 try again later"
        if self.hold_at is not None and len(self.received) == self.hold_at:
            self.hold_at = None
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            if self.refuse_held:
                return "451 4.3.0 try again later"
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 Message accepted"


@contextmanager
def serving() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    """A local SMTP server (aiosmtpd) keeping every message, and the settings that reach it."""
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
        mailbox.release.set()
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    with serving() as server:
        yield server


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
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(
        sent=3, failed=0, dropped=0
    )
    assert sorted(_ids(mailbox)) == sorted(f"<{r.message_id}@review-engine>" for r in queued)
    by_to = {str(m["To"]): m for m in mailbox.received}
    assert set(by_to) == set(HEADS.values())
    first = by_to["head@northbrook.example"]
    assert (
        first["Subject"].strip()
        == "Reminder: your self-evaluation (SEF) is due 16 Oct 2026 (Northbrook 2026-27)"
    )
    assert first["From"] == "facilitator@example.org"
    assert "is due on Friday 16 October 2026 (in 7 days)" in first.get_content()
    assert {r.status for r in outbox.list_outbox(rt)} == {"sent"}
    # Sending again, or ticking again the same week, sends nothing more.
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(0, 0, 0)
    assert tick(rt, now=datetime(2026, 10, 10, 5, tzinfo=UTC)).reminders == 0
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(0, 0, 0)
    assert len(mailbox.received) == 3


def test_a_failed_send_is_retried_with_the_same_message_id(
    rt: Runtime, smtp: tuple[Mailbox, SmtpSettings], queued: list[outbox.OutboxRow]
) -> None:
    mailbox, settings = smtp
    mailbox.failing = True
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(
        sent=0, failed=3, dropped=0
    )
    assert mailbox.received == []
    rows = outbox.list_outbox(rt, pending_only=True)
    assert [r.message_id for r in rows] == [r.message_id for r in queued]
    assert {(r.attempts, r.status) for r in rows} == {(1, "retrying (451 4.3.0 try again later)")}
    assert isinstance(rt.clock, FakeClock)
    assert {r.next_attempt_at for r in rows} == {rt.clock.now() + outbox.backoff(1)}
    mailbox.failing = False
    # Not tried again before its wait is over; then sent.
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(0, 0, 0)
    rt.clock.advance(minutes=5)
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(
        sent=3, failed=0, dropped=0
    )
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
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(
        sent=3, failed=0, dropped=1
    )
    assert {str(m["To"]) for m in mailbox.received} == {
        "head@st-aidans.example",
        "head@mosslane.example",
        "facilitator@example.org",  # the SEF submitted, to accept or return
    }
    statuses = {r.recipient: r.status for r in outbox.list_outbox(rt)}
    assert statuses["head@northbrook.example"] == "dropped"
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(0, 0, 0)
    assert len(mailbox.received) == 3


def _ids_sent(mailbox: Mailbox) -> list[str]:
    return sorted(_ids(mailbox))


def _expected(queued: list[outbox.OutboxRow]) -> list[str]:
    return sorted(f"<{r.message_id}@review-engine>" for r in queued)


def test_a_slow_mail_server_blocks_no_other_command_and_no_second_sender(
    rt: Runtime, smtp: tuple[Mailbox, SmtpSettings], queued: list[outbox.OutboxRow]
) -> None:
    mailbox, settings = smtp
    mailbox.hold_at = 0
    reports: list[outbox.SendReport] = []
    sender = threading.Thread(
        target=lambda: reports.append(outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings))
    )
    sender.start()
    try:
        assert mailbox.holding.wait(10), "the sender never reached the server"
        assert {r.status for r in outbox.list_outbox(rt)} == {"sending"}
        started = time.monotonic()
        # Other commands write while the server sits on a message: the person table, and the
        # very outbox rows being sent (PostgreSQL row locks held by a sender would stop this).
        people.add_person(
            rt.acting_as(OPERATOR),
            email="deputy@northbrook.example",
            name="Deputy Head",
            role=Role.DEPUTY,
            school_urn=990101,
        )
        assert outbox.mark_unsent(rt.acting_as(SCHEDULER)) == 0
        # A second sender finds every message claimed by the first, and sends nothing.
        assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(
            0, 0, 0
        )
        assert time.monotonic() - started < 3
    finally:
        mailbox.release.set()
        sender.join(30)
    assert reports == [outbox.SendReport(sent=3, failed=0, dropped=0)]
    assert _ids_sent(mailbox) == _expected(queued)
    assert {(r.attempts, r.status) for r in outbox.list_outbox(rt)} == {(1, "sent")}


REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(REVIEW is None, reason="the review console script is not installed")
def test_a_sender_killed_mid_batch_then_another_send_delivers_each_message_once(
    rt: Runtime,
    smtp: tuple[Mailbox, SmtpSettings],
    queued: list[outbox.OutboxRow],
    tmp_path: Path,
) -> None:
    assert REVIEW is not None
    mailbox, settings = smtp
    mailbox.hold_at = 1  # the first message goes through; the server sits on the second
    env = {
        **os.environ,
        "REVIEW_DATABASE_URL": rt.settings.url,
        "REVIEW_DATA_DIR": str(tmp_path / "data"),
        "REVIEW_SMTP_HOST": settings.host,
        "REVIEW_SMTP_PORT": str(settings.port),
        "REVIEW_MAIL_FROM": settings.mail_from,
        "REVIEW_NOW": "2026-10-09T07:00",  # the day the reminders were queued (06:00 UTC)
    }
    env.pop("REVIEW_ACTOR", None)
    proc = subprocess.Popen(
        [REVIEW, "outbox", "send"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert mailbox.holding.wait(60), proc.communicate(timeout=60)
        assert [r.status for r in outbox.list_outbox(rt)] == ["sent", "sending", "sending"]
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        mailbox.refuse_held = True
        mailbox.release.set()
    assert len(mailbox.received) == 1

    # Its claims hold until their lease runs out; then the next send takes them.
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(0, 0, 0)
    assert isinstance(rt.clock, FakeClock)
    rt.clock.set(datetime(2026, 10, 9, 6, tzinfo=UTC) + outbox.CLAIM_LEASE + timedelta(seconds=1))
    assert outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings) == outbox.SendReport(
        sent=2, failed=0, dropped=0
    )
    assert _ids_sent(mailbox) == _expected(queued)  # each exactly once
    assert {r.status for r in outbox.list_outbox(rt)} == {"sent"}


def test_outbox_send_exits_1_with_one_line_when_every_message_failed(
    rt: Runtime,
    queued: list[outbox.OutboxRow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from review_engine.cli.main import app

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("REVIEW_DATABASE_URL", rt.settings.url)
    monkeypatch.setenv("REVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REVIEW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REVIEW_SMTP_PORT", str(port))
    monkeypatch.setenv("REVIEW_NOW", "2026-10-09T07:00")  # the reminders' day, not a month on
    monkeypatch.delenv("REVIEW_ACTOR", raising=False)
    result = CliRunner().invoke(app, ["outbox", "send"])
    assert result.exit_code == 1
    assert result.stdout == "sent 0, failed 3, dropped 0\n"
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"error: 3 of 3 messages not sent: could not connect to 127.0.0.1:{port}"
    )
    assert line.endswith(
        "each is tried again after a wait (`review outbox list`), undeliverable after "
        "6 failures (`review outbox retry`)"
    )
    rows = outbox.list_outbox(rt)
    assert {(r.attempts, r.status.split(" ")[0]) for r in rows} == {(1, "retrying")}
