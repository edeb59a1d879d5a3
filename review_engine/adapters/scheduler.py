"""The scheduler: a wake-up call that runs the idempotent reconcile (`tick`) under one leader.

The database holds the truth. APScheduler 3 only decides *when* to call ``tick``: once at
start-up, daily at 06:00 Europe/London and hourly. Right after each tick it calls ``send`` (the
outbox), and again every ``send_every`` as a job of its own; with ``nightly`` given, that runs
daily at 02:00 Europe/London (the backup). Its jobs live in the in-memory job store and
are derived at start, so nothing is persisted in APScheduler and a restart loses nothing. Every
job runs however late it is (``misfire_grace_time=None``), late runs collapse into one
(``coalesce=True``) and no two jobs overlap (one worker thread, ``max_instances=1``, and one
lock around every job), so two sends never run at once.

APScheduler is imported only to run the scheduler: `next_run_times` (the heartbeat's and
`review scheduler status`'s next tick) is plain date arithmetic, checked against the triggers
in the tests.

Only one scheduler runs per database (`leader`): a PostgreSQL session advisory lock, or a file
lock beside the SQLite database. A second copy waits for the lock or exits with
``SchedulerBusy``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from review_engine.adapters.leader import (
    LOCK_FILE_NAME,
    SCHEDULER_LOCK_KEY,
    FileLeaderLock,
    LeaderLock,
    PostgresAdvisoryLock,
    leader_lock_for,
    whoami,
)
from review_engine.clock import Clock
from review_engine.errors import SchedulerBusy

__all__ = [  # the leader locks are re-exported: callers know this module as the scheduler's
    "LOCK_FILE_NAME",
    "SCHEDULER_LOCK_KEY",
    "FileLeaderLock",
    "HeartbeatInfo",
    "LeaderLock",
    "PostgresAdvisoryLock",
    "leader_lock_for",
    "next_run_times",
    "run_scheduler",
]

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
DAILY_HOUR = 6  # the daily tick, 06:00 Europe/London
NIGHTLY_HOUR = 2  # the nightly job (the backup), 02:00 Europe/London, before the daily tick
HOURLY = timedelta(hours=1)
STOP_POLL_SECONDS = 0.2  # how often the blocking loop looks at the stop event and signals


@dataclass(frozen=True)
class HeartbeatInfo:
    """What one job did: when it ran, when the next tick is due, and how it went. ``job`` is
    "tick" (a tick and the send after it), "send" (the outbox alone) or "nightly"."""

    last_tick_at: datetime
    next_tick_at: datetime
    summary: str
    ok: bool
    error: str | None = None
    job: str = "tick"


def _triggers(now: datetime, hourly: bool) -> dict[str, Any]:
    """The recurring APScheduler triggers, by job id; the hourly one falls on whole UTC hours."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    triggers: dict[str, Any] = {
        "daily": CronTrigger(hour=DAILY_HOUR, minute=0, timezone=LONDON),
    }
    if hourly:
        triggers["hourly"] = IntervalTrigger(hours=1, start_date=_next_hour(now), timezone=UTC)
    return triggers


def _next_hour(now: datetime) -> datetime:
    """The first whole UTC hour strictly after ``now``."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + HOURLY


def _next_daily(now: datetime) -> datetime:
    """The first 06:00 Europe/London strictly after ``now``, in UTC (06:00 always exists
    exactly once in London: the clocks change at 01:00 UTC)."""
    day = now.astimezone(LONDON).date()
    fire = datetime.combine(day, time(DAILY_HOUR), tzinfo=LONDON).astimezone(UTC)
    if fire <= now:
        fire = datetime.combine(day + timedelta(days=1), time(DAILY_HOUR), tzinfo=LONDON)
    return fire.astimezone(UTC)


def next_run_times(now: datetime, *, hourly: bool = True) -> list[datetime]:
    """When the recurring ticks next fire strictly after ``now``, soonest first, in UTC."""
    if now.tzinfo is None:
        raise ValueError("next_run_times needs a timezone-aware instant")
    times = [_next_daily(now)]
    if hourly:
        times.append(_next_hour(now))
    return sorted(times)


Job = Callable[[datetime], object]


class _Ticker:
    """The jobs every wake-up runs, each followed by a heartbeat; a failure never escapes. A
    tick is followed by a send (when there is one), whether or not the tick went well."""

    def __init__(
        self,
        tick: Job,
        heartbeat: Callable[[HeartbeatInfo], None],
        clock: Clock,
        hourly: bool,
        send: Job | None = None,
        nightly: Job | None = None,
    ) -> None:
        self.tick = tick
        self.heartbeat = heartbeat
        self.clock = clock
        self.hourly = hourly
        self.send = send
        self.nightly = nightly
        self._lock = threading.Lock()

    def __call__(self, reason: str = "tick") -> None:
        with self._lock:  # one worker already serialises; this keeps direct calls honest too
            started = self.clock.now()
            summary, error = self._attempt(self.tick, started, reason)
            if self.send is not None:
                sent, send_error = self._attempt(self.send, self.clock.now(), "send")
                summary, error = f"{summary}; {sent}", error or send_error
            self._beat(started, summary, error, "tick")

    def send_now(self) -> None:
        """The send job: the outbox alone, between ticks."""
        if self.send is None:
            return
        with self._lock:
            started = self.clock.now()
            summary, error = self._attempt(self.send, started, "send")
            self._beat(started, summary, error, "send")

    def night(self) -> None:
        """The nightly job (the backup)."""
        if self.nightly is None:
            return
        with self._lock:
            started = self.clock.now()
            summary, error = self._attempt(self.nightly, started, "nightly job")
            self._beat(started, summary, error, "nightly")

    def _attempt(self, job: Job, at: datetime, reason: str) -> tuple[str, str | None]:
        """(summary, error) of one job; the error is None when it went well."""
        try:
            result = job(at)
        except Exception as exc:
            log.exception("%s at %s failed", reason, at.isoformat())
            return f"{reason} failed", f"{type(exc).__name__}: {exc}"
        summary = str(result) if result is not None else f"{reason} done"
        log.info("%s at %s: %s", reason, at.isoformat(), summary)
        return summary, None

    def _beat(self, started: datetime, summary: str, error: str | None, job: str) -> None:
        info = HeartbeatInfo(
            last_tick_at=started,
            next_tick_at=next_run_times(self.clock.now(), hourly=self.hourly)[0],
            summary=summary,
            ok=error is None,
            error=error,
            job=job,
        )
        try:
            self.heartbeat(info)
        except Exception:
            log.exception("heartbeat after the %s job failed", job)


class _StartUpThen:
    """A recurring job's callable whose first run, due at once, is the start-up tick.

    A one-shot start-up job would do, but APScheduler 3 removes a one-shot job after submitting
    it, and when ``shutdown()`` has already begun (a quick tick, then an immediate stop) that
    removal raises JobLookupError in the scheduler's thread. Recurring jobs are only updated."""

    def __init__(self, ticker: _Ticker, reason: str) -> None:
        self.ticker = ticker
        self.reason = reason
        self._first = True

    def __call__(self) -> None:
        reason = "start-up tick" if self._first else self.reason
        self._first = False
        self.ticker(reason)


def _build_scheduler(
    ticker: _Ticker, now: datetime, hourly: bool, send_every: timedelta | None = None
) -> BackgroundScheduler:
    """A stopped scheduler holding the daily (due at once: the start-up tick) and hourly jobs,
    the send job every ``send_every`` and the nightly job, in memory only."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    options: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    scheduler = BackgroundScheduler(
        timezone=LONDON,
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=options,
    )
    triggers = _triggers(now, hourly)
    # Due at once (APScheduler compares due times with the wall clock, not the injected clock).
    start_up = _StartUpThen(ticker, "daily tick")
    scheduler.add_job(
        start_up, triggers.pop("daily"), id="daily", next_run_time=datetime.now(LONDON), **options
    )
    for job_id, trigger in triggers.items():
        scheduler.add_job(ticker, trigger, id=job_id, args=[f"{job_id} tick"], **options)
    if ticker.send is not None and send_every is not None:
        every = IntervalTrigger(seconds=send_every.total_seconds(), start_date=now + send_every)
        scheduler.add_job(ticker.send_now, every, id="send", **options)
    if ticker.nightly is not None:
        nightly = CronTrigger(hour=NIGHTLY_HOUR, minute=0, timezone=LONDON)
        scheduler.add_job(ticker.night, nightly, id="nightly", **options)
    return scheduler


@contextlib.contextmanager
def _stop_signals(flag: threading.Event) -> Iterator[None]:
    """On SIGTERM/SIGINT set ``flag``; only in the main thread, and restore on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only set a flag: the loop in run_scheduler notices it within STOP_POLL_SECONDS.
        flag.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_scheduler(
    *,
    tick: Job,
    leader: LeaderLock,
    heartbeat: Callable[[HeartbeatInfo], None],
    clock: Clock,
    stop_event: threading.Event | None = None,
    hourly: bool = True,
    wait: bool = False,
    send: Job | None = None,
    send_every: timedelta | None = None,
    nightly: Job | None = None,
) -> None:
    """Lead and tick until stopped (``stop_event``, SIGTERM or SIGINT); blocks the caller.

    Takes ``leader`` first: if another copy holds it, waits when ``wait`` is true, else raises
    ``SchedulerBusy``. Ticks once at start-up, daily at 06:00 Europe/London and (if ``hourly``)
    every hour, each tick followed by ``send``; sends again every ``send_every``; runs
    ``nightly`` at 02:00 Europe/London. Each job is followed by ``heartbeat``. A failing job is
    logged and reported.
    """
    if not leader.acquire(wait=wait):
        raise SchedulerBusy(leader.holder())
    stop = stop_event if stop_event is not None else threading.Event()
    signalled = threading.Event()
    scheduler: BackgroundScheduler | None = None
    try:
        ticker = _Ticker(tick, heartbeat, clock, hourly, send=send, nightly=nightly)
        scheduler = _build_scheduler(ticker, clock.now(), hourly, send_every)
        with _stop_signals(signalled):
            scheduler.start()
            log.info(
                "scheduler running (%s); next ticks at %s",
                whoami(),
                ", ".join(t.isoformat() for t in next_run_times(clock.now(), hourly=hourly)),
            )
            while not (stop.is_set() or signalled.is_set()):
                stop.wait(STOP_POLL_SECONDS)
            log.info("scheduler stopping; waiting for a running job to finish")
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
        leader.release()
        log.info("scheduler stopped")
