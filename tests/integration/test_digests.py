"""Digests, queued by the tick: a person's daily digest carries each notice held for it once
(never sent alone, a notice about work since done left out), one digest a day; a
facilitator's weekly digest on Mondays lists each cycle's overdue work and what waits on
whom, once a week."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from sqlmodel import col, select

from review_engine.adapters.mail import SmtpSettings
from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import notice_choices, outbox
from review_engine.services.digests import DAILY, WEEKLY
from review_engine.services.tick import tick
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import CYCLE, DEPUTY, HEADS, submit_sef
from tests.integration.test_outbox_smtp import Mailbox, smtp

__all__ = ["smtp"]

HOST = min(HEADS)
HEAD = HEADS[HOST]
FRIDAY = datetime(2026, 10, 2, 6, 30, tzinfo=UTC)  # 07:30 in London, before any reminder
MONDAY = datetime(2026, 10, 19, 6, 30, tzinfo=UTC)  # SEFs due on the 16th: overdue


def _hold(rt: Runtime, to: str, subject: str, body: str, at: datetime, **more: object) -> int:
    """A notice queued for someone's daily digest, as the notices and reminders queue it."""
    with rt.db.transaction() as session:
        row = OutboxMessage(
            message_id=str(uuid.uuid4()),
            dedupe_key=f"test:{uuid.uuid4()}",
            recipient=to,
            subject=subject,
            body=body,
            created_at=at,
            notice="sef_accepted",
            held_for_digest=True,
            **more,  # type: ignore[arg-type]
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _rows(rt: Runtime, notice: str | None = None) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if notice is not None:
            query = query.where(OutboxMessage.notice == notice)
        found = list(session.exec(query))
        session.expunge_all()
        return found


def _tick(rt: Runtime, clock: FakeClock, at: datetime) -> None:
    clock.set(at)
    tick(rt.acting_as(SCHEDULER))


# --- daily --------------------------------------------------------------------------------


def test_held_notices_go_once_in_one_daily_digest(cycle_rt: Runtime, clock: FakeClock) -> None:
    first = _hold(cycle_rt, DEPUTY, "SEF accepted (Northbrook 2026-27)", "Accepted: well done.",
                  FRIDAY.replace(hour=1))  # fmt: skip
    second = _hold(
        cycle_rt, DEPUTY, "Triad assigned (Northbrook 2026-27)", "Your visitors are...",
        FRIDAY.replace(hour=2), attachment_name="visit.ics", attachment="BEGIN",
    )  # fmt: skip
    early = FRIDAY.replace(hour=4)  # 05:00 in London: not yet
    _tick(cycle_rt, clock, early)
    assert _rows(cycle_rt, DAILY) == []
    _tick(cycle_rt, clock, FRIDAY)
    [digest] = _rows(cycle_rt, DAILY)
    assert digest.recipient == DEPUTY and not digest.held_for_digest
    assert digest.subject == "Your daily digest: 2 notices (Fri 02 Oct 2026)"
    body = digest.body
    assert "1. SEF accepted (Northbrook 2026-27)" in body and "Accepted: well done." in body
    assert "2. Triad assigned (Northbrook 2026-27)" in body and "Your visitors are..." in body
    assert "calendar invite" in body  # the invite is on the visit page
    assert "http://127.0.0.1:8000/account#notices" in body
    carried = {r.id: r.digest_message_id for r in _rows(cycle_rt) if r.held_for_digest}
    assert carried == {first: digest.message_id, second: digest.message_id}
    # Later the same day: nothing twice; a notice held now waits for tomorrow's digest.
    third = _hold(cycle_rt, DEPUTY, "Visit dated", "On 3 November.", FRIDAY.replace(hour=9))
    _tick(cycle_rt, clock, FRIDAY.replace(hour=10))
    assert len(_rows(cycle_rt, DAILY)) == 1
    _tick(cycle_rt, clock, FRIDAY.replace(day=3))
    digests = _rows(cycle_rt, DAILY)
    assert len(digests) == 2
    assert digests[1].subject.startswith("Your daily digest: 1 notice (")
    assert "Visit dated" in digests[1].body and "Accepted" not in digests[1].body
    held = {r.id: r.digest_message_id for r in _rows(cycle_rt) if r.held_for_digest}
    assert held[third] == digests[1].message_id


def test_the_sender_sends_the_digest_and_never_a_held_notice_alone(
    cycle_rt: Runtime, clock: FakeClock, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    _hold(cycle_rt, DEPUTY, "SEF accepted (Northbrook 2026-27)", "Accepted.", FRIDAY)
    operator = cycle_rt.acting_as(OPERATOR)
    outbox.send_outbox(operator, smtp=settings)
    assert mailbox.received == []  # held: not sent on its own
    _tick(cycle_rt, clock, FRIDAY)
    outbox.send_outbox(operator, smtp=settings)
    outbox.send_outbox(operator, smtp=settings)
    subjects = [m["Subject"] for m in mailbox.received if isinstance(m, EmailMessage)]
    assert subjects == ["Your daily digest: 1 notice (Fri 02 Oct 2026)"]


def test_a_held_reminder_about_work_since_done_is_left_out(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    """The deputy takes reminders in their digest: the tick holds the SEF reminder for them;
    the SEF is submitted before the digest goes, so the digest does not carry it."""
    notice_choices.set_notice_choices(
        cycle_rt.acting_as(DEPUTY), changes={NoticeKind.REMINDERS: Delivery.DIGEST}
    )
    reminder_day = datetime(2026, 10, 9, 4, 0, tzinfo=UTC)  # 05:00 London: before digests
    _tick(cycle_rt, clock, reminder_day)
    mine = [r for r in _rows(cycle_rt) if r.recipient == DEPUTY]
    assert mine and all(r.held_for_digest for r in mine)  # held, not queued to send
    assert all(r.held_for_digest is False for r in _rows(cycle_rt) if r.recipient == HEAD)
    submit_sef(cycle_rt, CYCLE, HOST)
    _tick(cycle_rt, clock, reminder_day.replace(hour=7))
    assert [r for r in _rows(cycle_rt, DAILY) if r.recipient == DEPUTY] == []
    dropped = [r for r in _rows(cycle_rt) if r.recipient == DEPUTY and r.held_for_digest]
    assert dropped and all((r.last_error or "").startswith("dropped: ") for r in dropped)


# --- weekly, for the facilitator ----------------------------------------------------------


def test_the_facilitator_gets_a_weekly_digest_on_mondays(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    submit_sef(cycle_rt, CYCLE, HOST)  # waits on the facilitator to accept or return
    _tick(cycle_rt, clock, MONDAY)
    [weekly] = _rows(cycle_rt, WEEKLY)
    assert weekly.recipient == FACILITATOR
    assert weekly.subject == "Your week ahead: 7 items overdue, 1 waiting (week of 19 Oct 2026)"
    body = weekly.body
    assert "== Northbrook 2026-27 ==" in body
    assert "Overdue (7):" in body and "Waiting (1):" in body
    assert "Waiting for you to accept or return the SEF of Northbrook Primary School" in body
    assert (
        "- Waiting for the head of St Aidan’s Church of England Primary School (Tom Whitfield) "
        "to submit the SEF (due 16 Oct 2026)"
    ) in body
    assert f"http://127.0.0.1:8000/cycles/{CYCLE}/schools/{HOST}/sef" in body
    assert "Northbrook/2026-27" not in body.replace(f"/cycles/{CYCLE}/", "")
    _tick(cycle_rt, clock, MONDAY.replace(hour=12))  # again that day: nothing twice
    _tick(cycle_rt, clock, MONDAY.replace(day=20))  # a Tuesday: none
    assert len(_rows(cycle_rt, WEEKLY)) == 1
    _tick(cycle_rt, clock, MONDAY.replace(day=26))  # the next Monday: the next week's
    assert len(_rows(cycle_rt, WEEKLY)) == 2


def test_a_facilitator_who_turned_off_their_notices_gets_no_weekly_digest(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    own = NoticeKind.defaults_for(Role.FACILITATOR)
    if not own:
        pytest.skip("the programme gives facilitators no kind of notice to turn off")
    notice_choices.set_notice_choices(cycle_rt, changes=dict.fromkeys(own, Delivery.OFF))
    _tick(cycle_rt, clock, MONDAY)
    assert _rows(cycle_rt, WEEKLY) == []
