"""The scheduler: leader locks, the blocking runner, and when the next tick is due."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from review_engine.adapters.scheduler import (
    FileLeaderLock,
    HeartbeatInfo,
    PostgresAdvisoryLock,
    _Ticker,
    leader_lock_for,
    next_run_times,
    run_scheduler,
)
from review_engine.config import normalise_url
from review_engine.errors import ReviewEngineError, SchedulerBusy
from review_engine.testing import FakeClock

POSTGRES_ENV = "REVIEW_TEST_POSTGRES_URL"
WAIT = 10.0  # the longest any test waits for the scheduler thread to do something


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- leader locks ---------------------------------------------------------------------------


def test_file_lock_second_acquire_fails_and_names_the_first(tmp_path: Path):
    first = FileLeaderLock(tmp_path / "scheduler.lock")
    second = FileLeaderLock(tmp_path / "scheduler.lock")

    assert first.acquire(wait=False)
    try:
        assert not second.acquire(wait=False)
        holder = second.holder()
        assert f"pid {os.getpid()}" in holder
        assert socket.gethostname() in holder
    finally:
        first.release()

    assert second.acquire(wait=False)
    second.release()
    second.release()  # releasing twice is harmless


def test_file_lock_for_sqlite_sits_beside_the_database(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db' / 'review.sqlite'}")
    lock = leader_lock_for(engine, tmp_path / "data")
    assert isinstance(lock, FileLeaderLock)
    assert lock.path == tmp_path / "db" / "review.sqlite.scheduler.lock"

    memory = leader_lock_for(create_engine("sqlite://"), tmp_path / "data")
    assert isinstance(memory, FileLeaderLock)
    assert memory.path == tmp_path / "data" / "scheduler.lock"


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL advisory lock tests need {POSTGRES_ENV}")
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        pytest.skip(f"no PostgreSQL server answers at {url}: {exc.orig}")
    yield engine
    engine.dispose()


def test_postgres_lock_second_acquire_fails_and_names_the_first(pg_engine: Engine):
    key = secrets.randbits(62)  # a key no other test run uses
    first = PostgresAdvisoryLock(pg_engine, key)
    second = PostgresAdvisoryLock(pg_engine, key)

    assert first.acquire(wait=False)
    try:
        assert not second.acquire(wait=False)
        holder = second.holder()
        assert f"pid {os.getpid()}" in holder
        assert "PostgreSQL backend" in holder
    finally:
        first.release()

    assert "no holder now" in second.holder()
    assert second.acquire(wait=False)
    second.release()


def test_postgres_lock_waits_for_the_holder(pg_engine: Engine):
    key = -secrets.randbits(62)  # negative keys work too
    first = PostgresAdvisoryLock(pg_engine, key)
    second = PostgresAdvisoryLock(pg_engine, key)
    assert first.acquire(wait=False)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(second.acquire(wait=True)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # still waiting while the first holds it

    first.release()
    waiter.join(WAIT)
    assert got == [True]
    second.release()


def test_postgres_dialect_gets_an_advisory_lock(pg_engine: Engine, tmp_path: Path):
    assert isinstance(leader_lock_for(pg_engine, tmp_path), PostgresAdvisoryLock)


# -- run_scheduler ----------------------------------------------------------------------------


class Recorder:
    """A tick and a heartbeat that remember their calls and let a test wait for them."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.fail_with = fail_with
        self.ticks: list[datetime] = []
        self.beats: list[HeartbeatInfo] = []
        self.beaten = threading.Event()

    def tick(self, now: datetime) -> str:
        self.ticks.append(now)
        if self.fail_with is not None:
            raise self.fail_with
        return "3 cycles checked, 0 advanced"

    def heartbeat(self, info: HeartbeatInfo) -> None:
        self.beats.append(info)
        self.beaten.set()


def start_in_thread(
    target: Callable[[], None],
) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utc(2026, 10, 1, 9, 20))


def test_start_up_tick_runs_and_heartbeat_reports_it(tmp_path: Path, clock: FakeClock):
    recorder = Recorder()
    stop = threading.Event()
    lock = FileLeaderLock(tmp_path / "scheduler.lock")
    thread, errors = start_in_thread(
        lambda: run_scheduler(
            tick=recorder.tick,
            leader=lock,
            heartbeat=recorder.heartbeat,
            clock=clock,
            stop_event=stop,
        )
    )
    try:
        assert recorder.beaten.wait(WAIT), "no heartbeat after the start-up tick"
        assert not FileLeaderLock(tmp_path / "scheduler.lock").acquire(wait=False)
    finally:
        stop.set()
        thread.join(WAIT)

    assert not thread.is_alive()
    assert errors == []
    assert recorder.ticks == [clock.now()]
    [beat] = recorder.beats
    assert beat == HeartbeatInfo(
        last_tick_at=utc(2026, 10, 1, 9, 20),
        next_tick_at=utc(2026, 10, 1, 10, 0),
        summary="3 cycles checked, 0 advanced",
        ok=True,
        error=None,
    )
    # Stopping released the leader lock.
    assert FileLeaderLock(tmp_path / "scheduler.lock").acquire(wait=False)


def test_a_failing_tick_is_reported_and_the_scheduler_keeps_running(
    tmp_path: Path, clock: FakeClock
):
    recorder = Recorder(fail_with=RuntimeError("database unreachable"))
    stop = threading.Event()
    thread, errors = start_in_thread(
        lambda: run_scheduler(
            tick=recorder.tick,
            leader=FileLeaderLock(tmp_path / "scheduler.lock"),
            heartbeat=recorder.heartbeat,
            clock=clock,
            stop_event=stop,
            hourly=False,
        )
    )
    try:
        assert recorder.beaten.wait(WAIT)
        thread.join(0.3)
        assert thread.is_alive()  # the failure did not end the scheduler
    finally:
        stop.set()
        thread.join(WAIT)

    assert errors == []
    [beat] = recorder.beats
    assert not beat.ok
    assert beat.error == "RuntimeError: database unreachable"
    assert beat.summary == "start-up tick failed"
    # Without the hourly job the next tick is the daily one, 06:00 London (BST) = 05:00 UTC.
    assert beat.next_tick_at == utc(2026, 10, 2, 5, 0)


def test_a_tick_after_a_failure_still_runs_and_reports_ok(clock: FakeClock):
    outcomes: list[Exception | None] = [RuntimeError("boom"), None]

    def tick(now: datetime) -> None:
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure

    beats: list[HeartbeatInfo] = []
    ticker = _Ticker(tick, beats.append, clock, hourly=True)
    ticker("hourly tick")
    clock.advance(hours=1)
    ticker("hourly tick")

    assert [(b.ok, b.error, b.summary) for b in beats] == [
        (False, "RuntimeError: boom", "hourly tick failed"),
        (True, None, "hourly tick done"),
    ]
    assert [b.last_tick_at for b in beats] == [utc(2026, 10, 1, 9, 20), utc(2026, 10, 1, 10, 20)]


def test_a_failing_heartbeat_does_not_escape(clock: FakeClock):
    def heartbeat(info: HeartbeatInfo) -> None:
        raise OSError("disk full")

    ticks: list[datetime] = []
    _Ticker(ticks.append, heartbeat, clock, hourly=True)("start-up tick")
    assert ticks == [clock.now()]


def test_a_second_scheduler_exits_with_scheduler_busy(tmp_path: Path, clock: FakeClock):
    holder = FileLeaderLock(tmp_path / "scheduler.lock")
    assert holder.acquire(wait=False)
    recorder = Recorder()
    try:
        with pytest.raises(SchedulerBusy) as caught:
            run_scheduler(
                tick=recorder.tick,
                leader=FileLeaderLock(tmp_path / "scheduler.lock"),
                heartbeat=recorder.heartbeat,
                clock=clock,
                stop_event=threading.Event(),
            )
    finally:
        holder.release()

    assert isinstance(caught.value, ReviewEngineError)
    message = str(caught.value)
    assert message.startswith("another scheduler is already running (")
    assert message.endswith("); this one exits")
    assert f"pid {os.getpid()}" in message
    assert caught.value.holder in message
    assert recorder.ticks == []


def test_a_waiting_scheduler_takes_over_when_the_holder_lets_go(tmp_path: Path, clock: FakeClock):
    holder = FileLeaderLock(tmp_path / "scheduler.lock")
    assert holder.acquire(wait=False)
    recorder = Recorder()
    stop = threading.Event()
    thread, errors = start_in_thread(
        lambda: run_scheduler(
            tick=recorder.tick,
            leader=FileLeaderLock(tmp_path / "scheduler.lock"),
            heartbeat=recorder.heartbeat,
            clock=clock,
            stop_event=stop,
            wait=True,
        )
    )
    try:
        assert not recorder.beaten.wait(0.2)  # waiting for the lock: no tick yet
        holder.release()
        assert recorder.beaten.wait(WAIT)
    finally:
        stop.set()
        thread.join(WAIT)
    assert errors == []
    assert len(recorder.ticks) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_scheduler_cleanly_in_the_main_thread(
    tmp_path: Path, clock: FakeClock, signum: int
):
    assert threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signum)
    recorder = Recorder()
    fallback = threading.Event()

    def send_signal_when_running() -> None:
        # Only signal once our handler is in place; else stop by event (the test then fails).
        if recorder.beaten.wait(WAIT) and signal.getsignal(signum) is not before:
            os.kill(os.getpid(), signum)
        else:
            fallback.set()

    sender = threading.Thread(target=send_signal_when_running, daemon=True)
    sender.start()
    run_scheduler(
        tick=recorder.tick,
        leader=FileLeaderLock(tmp_path / "scheduler.lock"),
        heartbeat=recorder.heartbeat,
        clock=clock,
        stop_event=fallback,
    )
    sender.join(WAIT)

    assert not fallback.is_set(), "the signal handler was not installed"
    assert signal.getsignal(signum) is before  # the previous handler is back
    assert FileLeaderLock(tmp_path / "scheduler.lock").acquire(wait=False)


# -- next_run_times -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "daily"),
    [
        # Spring forward, Sunday 28 March 2027: 06:00 London is 06:00 UTC before, 05:00 after.
        (utc(2027, 3, 27, 5, 30), utc(2027, 3, 27, 6, 0)),
        (utc(2027, 3, 27, 6, 0), utc(2027, 3, 28, 5, 0)),
        (utc(2027, 3, 28, 0, 59), utc(2027, 3, 28, 5, 0)),
        (utc(2027, 3, 28, 5, 30), utc(2027, 3, 29, 5, 0)),
        # Fall back, Sunday 25 October 2026: 05:00 UTC before, 06:00 UTC after.
        (utc(2026, 10, 24, 4, 0), utc(2026, 10, 24, 5, 0)),
        (utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 6, 0)),
        (utc(2026, 10, 25, 5, 30), utc(2026, 10, 25, 6, 0)),
        (utc(2026, 10, 25, 6, 0), utc(2026, 10, 26, 6, 0)),
    ],
    ids=[
        "spring-day-before-GMT",
        "spring-at-06-GMT-next-is-BST",
        "spring-night-of-change",
        "spring-after-the-tick",
        "autumn-day-before-BST",
        "autumn-next-is-GMT",
        "autumn-05-30-UTC-not-yet",
        "autumn-at-06-next-day",
    ],
)
def test_the_daily_tick_is_06_00_london_across_dst(now: datetime, daily: datetime):
    assert next_run_times(now, hourly=False) == [daily]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2027, 3, 28, 0, 30), [utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 5, 0)]),
        (utc(2026, 10, 25, 5, 0), [utc(2026, 10, 25, 6, 0), utc(2026, 10, 25, 6, 0)]),
        (utc(2026, 10, 25, 0, 59, 59), [utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 6, 0)]),
    ],
    ids=["spring-gap", "hourly-meets-daily", "autumn-repeated-hour"],
)
def test_next_run_times_lists_hourly_and_daily_soonest_first(
    now: datetime, expected: list[datetime]
):
    times = next_run_times(now)
    assert times == expected
    assert all(t.tzinfo is not None and t.utcoffset() == UTC.utcoffset(None) for t in times)


def test_next_run_times_accepts_london_time_and_refuses_naive():
    from zoneinfo import ZoneInfo

    london = datetime(2026, 7, 1, 6, 30, tzinfo=ZoneInfo("Europe/London"))
    assert next_run_times(london) == [utc(2026, 7, 1, 6, 0), utc(2026, 7, 2, 5, 0)]
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run_times(datetime(2026, 7, 1, 6, 30))


def test_jobs_live_in_memory_run_however_late_and_never_overlap(clock: FakeClock):
    from apscheduler.jobstores.memory import MemoryJobStore

    from review_engine.adapters.scheduler import _build_scheduler

    ticker = _Ticker(lambda now: None, lambda info: None, clock, hourly=True)
    scheduler = _build_scheduler(ticker, clock.now(), hourly=True)

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["daily", "hourly"]
    for job in jobs.values():
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    assert list(scheduler._jobstores) == ["default"]
    assert str(scheduler.timezone) == "Europe/London"
    assert "hourly" not in {j.id for j in _build_scheduler(ticker, clock.now(), False).get_jobs()}


def test_the_start_up_tick_is_the_daily_job_due_at_once_so_no_job_is_ever_removed(
    clock: FakeClock,
):
    # APScheduler 3 removes a one-shot job after submitting it; when shutdown() had already
    # begun, that removal raised JobLookupError in the scheduler's thread (a flaky stop test).
    from review_engine.adapters.scheduler import _build_scheduler

    beats: list[HeartbeatInfo] = []
    ticker = _Ticker(lambda now: None, beats.append, clock, hourly=True)
    scheduler = _build_scheduler(ticker, clock.now(), hourly=True)

    daily = scheduler.get_job("daily")
    assert daily.next_run_time <= datetime.now(UTC)  # due at once
    for job in scheduler.get_jobs():  # and every job fires again after a run
        first = getattr(job, "next_run_time", None) or job.trigger.get_next_fire_time(
            None, datetime.now(UTC)
        )
        assert job.trigger.get_next_fire_time(first, first) is not None
    daily.func(*daily.args)
    daily.func(*daily.args)
    assert [b.summary for b in beats] == ["start-up tick done", "daily tick done"]


@pytest.mark.parametrize("hourly", [True, False])
def test_next_run_times_agree_with_the_scheduler_triggers(hourly: bool):
    from datetime import timedelta

    from review_engine.adapters.scheduler import LONDON, _triggers

    # Every 37 minutes across both clock changes of 2026-27 and a plain week.
    starts = [utc(2026, 10, 23), utc(2027, 3, 26), utc(2027, 6, 1)]
    for start in starts:
        for step in range(0, 4 * 24 * 60, 37):
            now = start + timedelta(minutes=step, seconds=step % 3)
            after = (now + timedelta(microseconds=1)).astimezone(LONDON)
            expected = sorted(
                t.get_next_fire_time(None, after).astimezone(UTC)
                for t in _triggers(now, hourly).values()
            )
            assert next_run_times(now, hourly=hourly) == expected, now


# -- sending and the nightly job ------------------------------------------------------------


def test_each_tick_is_followed_by_a_send_even_when_the_tick_failed(clock: FakeClock):
    calls: list[str] = []
    outcomes: list[Exception | None] = [None, RuntimeError("database unreachable")]

    def tick(now: datetime) -> str:
        calls.append("tick")
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure
        return "applied 1 boundaries"

    def send(now: datetime) -> str:
        calls.append("send")
        return "outbox: sent 2, failed 0, dropped 0"

    beats: list[HeartbeatInfo] = []
    ticker = _Ticker(tick, beats.append, clock, hourly=True, send=send)
    ticker("hourly tick")
    ticker("hourly tick")
    assert calls == ["tick", "send", "tick", "send"]
    assert [(b.job, b.ok, b.summary, b.error) for b in beats] == [
        ("tick", True, "applied 1 boundaries; outbox: sent 2, failed 0, dropped 0", None),
        (
            "tick",
            False,
            "hourly tick failed; outbox: sent 2, failed 0, dropped 0",
            "RuntimeError: database unreachable",
        ),
    ]


def test_a_failing_send_is_reported_and_never_escapes(clock: FakeClock):
    def send(now: datetime) -> str:
        raise OSError("mail server unreachable")

    beats: list[HeartbeatInfo] = []
    ticker = _Ticker(lambda now: "ticked", beats.append, clock, hourly=True, send=send)
    ticker("daily tick")
    ticker.send_now()
    assert [(b.job, b.ok, b.summary, b.error) for b in beats] == [
        ("tick", False, "ticked; send failed", "OSError: mail server unreachable"),
        ("send", False, "send failed", "OSError: mail server unreachable"),
    ]


def test_the_send_and_nightly_jobs_live_beside_the_ticks(clock: FakeClock):
    from datetime import timedelta

    from review_engine.adapters.scheduler import LONDON, NIGHTLY_HOUR, _build_scheduler

    ran: list[str] = []
    beats: list[HeartbeatInfo] = []
    ticker = _Ticker(
        lambda now: None,
        beats.append,
        clock,
        hourly=True,
        send=lambda now: ran.append("send"),
        nightly=lambda now: "nightly backup review-2026-10-02.backup written",
    )
    scheduler = _build_scheduler(ticker, clock.now(), True, timedelta(minutes=5))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["daily", "hourly", "nightly", "send"]
    for job in jobs.values():  # however late, once, and never beside another
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
    assert jobs["send"].trigger.interval == timedelta(minutes=5)
    assert jobs["send"].trigger.start_date == clock.now() + timedelta(minutes=5)
    nightly = jobs["nightly"].trigger
    # 02:00 London each night, across both clock changes (01:00 UTC in summer).
    assert NIGHTLY_HOUR == 2
    for after, expected in [
        (utc(2026, 10, 1, 9, 20), utc(2026, 10, 2, 1, 0)),
        (utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 2, 0)),
        (utc(2027, 3, 27, 12, 0), utc(2027, 3, 28, 1, 0)),
    ]:
        assert nightly.get_next_fire_time(None, after.astimezone(LONDON)) == expected
    jobs["send"].func()
    jobs["nightly"].func()
    assert ran == ["send"]
    assert [(b.job, b.summary) for b in beats] == [
        ("send", "send done"),
        ("nightly", "nightly backup review-2026-10-02.backup written"),
    ]
    # Without a send or a nightly job, neither is scheduled.
    plain = _build_scheduler(
        _Ticker(lambda now: None, beats.append, clock, hourly=True),
        clock.now(),
        True,
        timedelta(minutes=5),
    )
    assert sorted(j.id for j in plain.get_jobs()) == ["daily", "hourly"]
