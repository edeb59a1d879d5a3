"""Delivery that happens by itself, against a real SMTP server (aiosmtpd) on SQLite and
PostgreSQL: the scheduler sends after its tick; a refused message waits longer after each
failure, then is undeliverable until someone tries it again; reminders whose moment has
passed, and anything about a closed support plan or a completed action, are dropped with the
reason in words; messages held for a digest never go on their own."""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from review_engine.config import Settings
from review_engine.core.domain import Rag, SharingLevel
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import actions, feedback, outbox, scheduling, signin, transitions
from review_engine.services.tick import tick
from review_engine.store.schedule_tables import OutboxMessage, SchedulerBeat
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    hold_visit,
    plan_visit,
    propose_triads,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)
from tests.integration.test_outbox_smtp import Mailbox, smtp  # noqa: F401 - the fixture

Smtp = tuple[Mailbox, Any]
URNS = sorted(HEADS)
HOST = URNS[0]
SEF_DUE = date(2026, 10, 16)  # the end of Autumn 1 in the sample calendar


def morning(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def tick_on(rt: Runtime, clock: FakeClock, day: date) -> None:
    clock.set(morning(day))
    tick(rt.acting_as(SCHEDULER))


def send(rt: Runtime, settings: Any) -> outbox.SendReport:
    return outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings)


def rows(rt: Runtime, **where: Any) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query))


def sef_reminders(rt: Runtime) -> list[OutboxMessage]:
    return [m for m in rows(rt, notice="reminder") if m.item == "self_review"]


def subjects(mailbox: Mailbox) -> list[str]:
    return [str(m["Subject"]).strip() for m in mailbox.received]


def arrived(mailbox: Mailbox) -> set[str]:
    """The message ids the server took (as the outbox names them)."""
    return {
        str(m["Message-ID"]).strip("<>").removesuffix("@review-engine") for m in mailbox.received
    }


@pytest.fixture
def mail(cycle_rt: Runtime, smtp: Smtp) -> Smtp:  # noqa: F811
    """The server, after whatever setting the cycle up queued has been sent and forgotten."""
    mailbox, settings = smtp
    send(cycle_rt, settings)
    mailbox.received.clear()
    return smtp


# --- retry with backoff, then undeliverable -------------------------------------------------


def test_a_refused_message_waits_longer_each_time_then_is_undeliverable_until_tried_again(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    tick_on(cycle_rt, clock, date(2026, 10, 9))  # "due in 7 days" to every head
    queued = sef_reminders(cycle_rt)
    assert len(queued) == len(URNS)
    pending = len(outbox.list_outbox(cycle_rt, pending_only=True))
    mailbox.failing = True
    for failures in range(1, outbox.MAX_ATTEMPTS):
        assert send(cycle_rt, settings).failed == pending
        wait = outbox.backoff(failures)
        listed = {r.message_id: r for r in outbox.list_outbox(cycle_rt)}
        mine = [listed[m.message_id] for m in queued]
        assert {(r.status, r.attempts) for r in mine} == {
            ("retrying (451 4.3.0 try again later)", failures)
        }
        assert {r.next_attempt_at for r in mine} == {clock.now() + wait}
        clock.advance(seconds=wait.total_seconds() - 60)
        assert send(cycle_rt, settings) == outbox.SendReport(0, 0, 0)  # not before its time
        clock.advance(seconds=60)
    assert send(cycle_rt, settings).failed == pending  # the last try
    listed = {r.message_id: r for r in outbox.list_outbox(cycle_rt)}
    given_up = [listed[m.message_id] for m in queued]
    assert {(r.status, r.attempts, r.next_attempt_at) for r in given_up} == {
        ("undeliverable", outbox.MAX_ATTEMPTS, None)
    }
    assert {r.error for r in given_up} == {"451 4.3.0 try again later"}
    clock.advance(days=3)
    mailbox.failing = False
    assert send(cycle_rt, settings) == outbox.SendReport(0, 0, 0)  # never tried by itself
    assert mailbox.received == []

    # The facilitator tries one again; an outsider finds no such message; a message not failed
    # is refused in words.
    first = queued[0]
    with pytest.raises(NotFound):
        outbox.retry_message(cycle_rt.acting_as(OTHER_FACILITATOR), message_id=first.message_id)
    with pytest.raises(NotFound):
        outbox.retry_message(cycle_rt.acting_as(HEADS[HOST]), message_id=first.message_id)
    again = outbox.retry_message(cycle_rt.acting_as(FACILITATOR), message_id=first.message_id)
    assert (again.status, again.attempts) == ("queued", 0)
    with pytest.raises(InvalidInput, match="has not failed: it goes out with the next send"):
        outbox.retry_message(cycle_rt.acting_as(FACILITATOR), message_id=first.message_id)
    assert send(cycle_rt, settings) == outbox.SendReport(sent=1, failed=0, dropped=0)
    assert [str(m["To"]) for m in mailbox.received] == [first.recipient]
    with pytest.raises(InvalidInput, match="was sent already"):
        outbox.retry_message(cycle_rt.acting_as(FACILITATOR), message_id=first.message_id)
    # `review outbox retry` queues the rest again; each arrives once, with its message id.
    assert outbox.mark_unsent(cycle_rt.acting_as(OPERATOR)) == pending - 1
    assert send(cycle_rt, settings).sent == pending - 1
    assert len(mailbox.received) == pending  # each once
    assert {m.message_id for m in queued} <= arrived(mailbox)


# --- never stale, never about finished work ---------------------------------------------------


def test_a_reminder_sent_after_its_moment_is_dropped_and_the_next_one_goes(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    tick_on(cycle_rt, clock, date(2026, 10, 9))  # due in 7 days: nobody sends it
    clock.set(morning(date(2026, 10, 15)))  # the day before: the 7-day reminder is stale
    assert send(cycle_rt, settings) == outbox.SendReport(0, 0, len(URNS))
    week = sef_reminders(cycle_rt)
    assert {m.last_error for m in week} == {
        "dropped: its moment had passed (due 16 Oct 2026): the reminder of the day before follows"
    }
    tick_on(cycle_rt, clock, date(2026, 10, 15))  # "due tomorrow"
    clock.set(morning(date(2026, 10, 17)))  # not sent until after the due date
    assert send(cycle_rt, settings).dropped == len(URNS)
    tick_on(cycle_rt, clock, date(2026, 10, 17))  # the overdue reminder goes
    assert send(cycle_rt, settings).sent == len(URNS)
    assert {s.split(":")[0] for s in subjects(mailbox)} == {"Overdue"}
    listed = {r.message_id: r for r in outbox.list_outbox(cycle_rt)}
    assert [listed[m.message_id].status for m in sef_reminders(cycle_rt)] == (
        ["dropped"] * (2 * len(URNS)) + ["sent"] * len(URNS)
    )
    assert listed[sef_reminders(cycle_rt)[len(URNS)].message_id].error == (
        "dropped: its moment had passed (due 16 Oct 2026): the overdue reminder follows"
    )


def test_work_done_before_a_reminder_goes_drops_it(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    tick_on(cycle_rt, clock, date(2026, 10, 9))
    submit_sef(cycle_rt, CYCLE, HOST)
    assert send(cycle_rt, settings).dropped >= 1
    [done] = [m for m in sef_reminders(cycle_rt) if m.school_urn == HOST]
    assert done.last_error == "dropped: the work was done before it was sent"
    assert done.message_id not in arrived(mailbox)


def test_a_visit_reminder_after_the_visit_day_is_dropped(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    set_rotation_triads(cycle_rt, CYCLE, URNS)
    visit = date(2026, 11, 17)
    plan_visit(cycle_rt, CYCLE, HOST, visit)
    tick_on(cycle_rt, clock, date(2026, 11, 10))  # a week before, to the host and visitors
    reminded = rows(cycle_rt, school_urn=HOST, notice="reminder")
    reminded = [m for m in reminded if m.item.startswith("visit@")]
    assert len(reminded) == 4
    clock.set(morning(date(2026, 11, 18)))  # the server was down until the day after
    send(cycle_rt, settings)
    after = {m.id: m.last_error for m in rows(cycle_rt, school_urn=HOST)}
    assert {after[m.id] for m in reminded} == {"dropped: the visit day had passed"}
    assert not {m.message_id for m in reminded} & arrived(mailbox)


def test_reminders_about_a_completed_action_or_a_closed_support_plan_are_dropped(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    host_rt = cycle_rt.acting_as(HEADS[HOST])
    triad = propose_triads(cycle_rt, CYCLE)[HOST]
    assert triad.lead is not None
    visitors = [triad.lead, *(v for v in triad.visitors if v != triad.lead)]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, visitors, SharingLevel.CLUSTER)
    common: dict[str, Any] = {
        "cycle": CYCLE,
        "urn": HOST,
        "owner": "English lead",
        "success_criteria": "Seen in every class on a learning walk",
        "due": date(2027, 1, 29),
    }
    helper = next(u for u in URNS if u not in (HOST, *visitors))
    actions.add_action(host_rt, title="Daily keep-up sessions", ebi=1, **common)
    actions.add_action(
        host_rt, title="Phonics catch-up groups", ebi=2, supporting_urn=helper, **common
    )
    tick_on(cycle_rt, clock, date(2027, 2, 1))  # both overdue
    overdue = [m for m in rows(cycle_rt, notice="reminder") if m.item.startswith("action#")]
    assert sorted(m.item for m in overdue) == ["action#1", "action#2"]
    actions.update_action(
        host_rt, cycle=CYCLE, urn=HOST, number=1, rag=Rag.COMPLETE, note="Running in every class"
    )
    clock.set(morning(date(2027, 2, 1), 9))
    send(cycle_rt, settings)
    by_item = {
        m.item: m for m in rows(cycle_rt, notice="reminder") if m.id in {o.id for o in overdue}
    }
    assert by_item["action#1"].last_error == "dropped: the support action is complete"
    assert by_item["action#2"].sent_at is not None
    # A week later the second is still overdue, but the facilitator closes the plan first.
    tick_on(cycle_rt, clock, date(2027, 2, 8))
    [week_on] = [
        m
        for m in rows(cycle_rt, notice="reminder", item="action#2")
        if m.id not in {o.id for o in overdue}
    ]
    # The host's update tells the supporting school; the plan is closed before it goes.
    actions.update_action(
        host_rt, cycle=CYCLE, urn=HOST, number=2, rag=Rag.GREEN, note="Groups running"
    )
    [update] = rows(cycle_rt, notice="action_updated")
    assert update.recipient == HEADS[helper]
    for trigger in ("agree_plan", "start"):
        transitions.fire(host_rt, cycle=CYCLE, machine="support", trigger=trigger, school_urn=HOST)
    actions.impact_review(cycle_rt, cycle=CYCLE, urn=HOST, override=True, reason="carried on")
    send(cycle_rt, settings)
    for message in (week_on, update):
        [dropped] = rows(cycle_rt, message_id=message.message_id)
        assert dropped.last_error == "dropped: the school's support plan is closed"
        assert message.message_id not in arrived(mailbox)


def test_feedback_due_is_not_sent_once_it_was_given(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    set_rotation_triads(cycle_rt, CYCLE, URNS)
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    tick_on(cycle_rt, clock, date(2026, 11, 11))  # feedback due in 7 days, from each school
    asked = rows(cycle_rt, notice="feedback_due")
    assert HEADS[HOST] in {m.recipient for m in asked}
    feedback.give(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, kind="immediate", usefulness=4
    )
    send(cycle_rt, settings)
    after = {m.id: m for m in rows(cycle_rt, notice="feedback_due")}
    [host_asked] = [m for m in asked if m.recipient == HEADS[HOST]]
    assert after[host_asked.id].last_error == "dropped: the feedback was given before it was sent"
    others = [m for m in asked if m.recipient != HEADS[HOST]]
    assert others and all(after[m.id].sent_at is not None for m in others)
    assert host_asked.message_id not in arrived(mailbox)


def test_a_sign_in_link_that_lapsed_while_the_server_refused_it_is_dropped(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    mailbox.failing = True
    sent = signin.request_link(
        cycle_rt, email=HEADS[HOST], client="testclient", base_url="http://testserver"
    )
    assert sent.message_id is not None
    assert signin.deliver(cycle_rt, message_id=sent.message_id, smtp=settings) is False
    mailbox.failing = False
    clock.advance(minutes=15)  # its next try comes after the link has lapsed
    assert send(cycle_rt, settings).dropped == 1
    [row] = rows(cycle_rt, message_id=sent.message_id)
    assert row.last_error == "dropped: the sign-in link had lapsed before it could be sent"
    assert mailbox.received == []


# --- digests --------------------------------------------------------------------------------


def test_a_message_held_for_the_digest_is_never_sent_on_its_own(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
) -> None:
    mailbox, settings = mail
    tick_on(cycle_rt, clock, date(2026, 10, 9))
    held = sef_reminders(cycle_rt)[0]
    with cycle_rt.db.transaction() as session:
        row = session.get(OutboxMessage, held.id)
        assert row is not None
        row.held_for_digest = True
        session.add(row)
    assert send(cycle_rt, settings).sent == len(URNS) - 1
    clock.advance(days=1)
    send(cycle_rt, settings)
    assert held.recipient not in {str(m["To"]) for m in mailbox.received}
    [listed] = [r for r in outbox.list_outbox(cycle_rt) if r.message_id == held.message_id]
    assert listed.status == "held"
    with pytest.raises(InvalidInput, match="waits for the daily digest"):
        outbox.retry_message(cycle_rt.acting_as(FACILITATOR), message_id=held.message_id)


# --- the scheduler sends by itself -----------------------------------------------------------


def test_the_scheduler_sends_what_its_tick_queued_and_says_so(
    cycle_rt: Runtime,
    clock: FakeClock,
    mail: Smtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox, smtp_settings = mail
    # A lock key of this test's own: other test processes may run a scheduler on the server.
    monkeypatch.setattr("review_engine.adapters.leader.SCHEDULER_LOCK_KEY", secrets.randbits(62))
    clock.set(morning(date(2026, 10, 9)))
    settings = Settings(
        database_url=cycle_rt.settings.database_url,
        data_dir=cycle_rt.settings.data_dir,
        smtp_host=smtp_settings.host,
        smtp_port=smtp_settings.port,
        mail_from=smtp_settings.mail_from,
        send_every_minutes=1,
    )
    scheduler = Runtime.open(settings, clock=clock, actor=SCHEDULER)
    stop = threading.Event()
    runner = threading.Thread(target=lambda: scheduling.run(scheduler, stop_event=stop))
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while len(mailbox.received) < len(URNS) and time.monotonic() < deadline:
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while scheduling.status(cycle_rt).summary.count("outbox") == 0:
            assert time.monotonic() < deadline, "no heartbeat after the start-up tick"
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(30)
        scheduler.db.engine.dispose()
    assert not runner.is_alive()
    assert sorted(str(m["To"]) for m in mailbox.received) == sorted(HEADS.values())
    assert all("self-evaluation (SEF) is due 16 Oct 2026" in s for s in subjects(mailbox))
    status = scheduling.status(cycle_rt)
    assert status.ok
    assert status.summary.startswith("applied ")
    assert status.summary.endswith(
        f" reminders (1 open cycles); outbox: sent {len(URNS)}, failed 0, dropped 0"
    )
    assert status.last_tick_at == clock.now()
    with cycle_rt.db.transaction() as session:
        beat = session.get(SchedulerBeat, 1)
        assert beat is not None and beat.error is None


def test_the_send_job_between_ticks_sends_and_reports_in_the_heartbeat(
    cycle_rt: Runtime,
    clock: FakeClock,
    smtp: Smtp,  # noqa: F811
) -> None:
    from review_engine.adapters.scheduler import HeartbeatInfo, _build_scheduler, _Ticker

    mailbox, settings = smtp
    tick_on(cycle_rt, clock, date(2026, 10, 9))
    beats: list[HeartbeatInfo] = []
    ticker = _Ticker(
        lambda at: None,
        beats.append,
        clock,
        hourly=True,
        send=lambda at: f"outbox: {send(cycle_rt, settings)}",
    )
    jobs = {
        j.id: j
        for j in _build_scheduler(ticker, clock.now(), True, timedelta(minutes=5)).get_jobs()
    }
    assert jobs["send"].trigger.interval == timedelta(minutes=5)
    jobs["send"].func()
    assert len(mailbox.received) == len(URNS)
    [beat] = beats
    assert (beat.job, beat.ok, beat.summary) == (
        "send",
        True,
        f"outbox: sent {len(URNS)}, failed 0, dropped 0",
    )


def test_the_heartbeat_keeps_the_last_tick_beside_the_sends_between_ticks(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    from review_engine.adapters.scheduler import HeartbeatInfo

    beat = scheduling.Heartbeat(cycle_rt, "pid 1 on host")
    ticked = morning(date(2026, 10, 9))
    next_tick = ticked + timedelta(hours=1)
    beat(HeartbeatInfo(ticked, next_tick, "applied 0 boundaries; outbox: sent 3", True))
    later = ticked + timedelta(minutes=5)
    clock.set(later)
    beat(HeartbeatInfo(later, next_tick, "send failed", False, "OSError: refused", job="send"))
    status = scheduling.status(cycle_rt)
    assert status.last_tick_at == ticked  # a send is not a tick
    assert status.summary == "applied 0 boundaries; outbox: sent 3; send failed (at 07:05)"
    assert (status.ok, status.error) == (False, "OSError: refused")
    assert status.running_since_last_tick
    beat(HeartbeatInfo(later, next_tick, "outbox: sent 1, failed 0, dropped 0", True, job="send"))
    status = scheduling.status(cycle_rt)
    assert (status.ok, status.error) == (True, None)
    assert status.summary.endswith("; outbox: sent 1, failed 0, dropped 0 (at 07:05)")


def test_the_nightly_job_takes_a_backup_only_when_a_folder_is_set(
    cycle_rt: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    if cycle_rt.db.engine.dialect.name == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("a PostgreSQL backup needs pg_dump")
    assert cycle_rt.settings.backup_dir is None
    assert scheduling._nightly(cycle_rt.acting_as(SCHEDULER)) is None  # no job at all
    folder = tmp_path / "backups"
    settings = cycle_rt.settings.model_copy(update={"backup_dir": folder})
    scheduler = Runtime.open(settings, clock=clock, actor=SCHEDULER)
    try:
        job = scheduling._nightly(scheduler)
        assert job is not None
        clock.set(datetime(2026, 10, 2, 1, tzinfo=UTC))  # 02:00 London
        said = job(clock.now())
    finally:
        scheduler.db.engine.dispose()
    assert said.startswith("nightly backup review-2026-10-02.backup written")
    assert (folder / "review-2026-10-02.backup").stat().st_size > 0
