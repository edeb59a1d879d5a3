"""The scheduler service: as the single leader, tick on a timetable, send the outbox after
every tick and every few minutes (REVIEW_SEND_EVERY_MINUTES), take the nightly backup when a
backup directory is set; and its heartbeat, which says what the last of each did."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from review_engine.adapters.scheduler import (
    HeartbeatInfo,
    leader_lock_for,
    next_run_times,
    run_scheduler,
)
from review_engine.clock import as_utc, to_london
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import outbox
from review_engine.services.tick import TickReport, tick
from review_engine.store.schedule_tables import SchedulerBeat


@dataclass(frozen=True)
class SchedulerStatus:
    running_since_last_tick: bool
    holder: str | None
    last_tick_at: datetime | None
    next_tick_at: datetime | None
    ok: bool | None
    summary: str
    error: str | None


JOBS = ("tick", "send", "nightly")  # the heartbeat's summary: the last of each, in this order


def run(rt: Runtime, *, wait: bool = False, stop_event: threading.Event | None = None) -> None:
    """Block running the scheduler until stopped: tick at start, 06:00 London daily and
    hourly, each tick followed by a send of the outbox; a send every
    `send_every_minutes`; the nightly backup at 02:00 London when `backup_dir` is set."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_the_schedule(actor, "run the scheduler")
    holder = f"pid {os.getpid()} on {socket.gethostname()}"
    system = rt.acting_as(policy.SCHEDULER)

    def one_tick(at: datetime) -> TickReport:
        del at  # the scheduler's own clock: the tick reads the same one
        return tick(system)

    def one_send(at: datetime) -> str:
        del at
        return f"outbox: {outbox.send_outbox(system)}"

    run_scheduler(
        tick=one_tick,
        leader=leader_lock_for(rt.db.engine, rt.settings.data_dir),
        heartbeat=Heartbeat(rt, holder),
        clock=rt.clock,
        stop_event=stop_event,
        wait=wait,
        send=one_send,
        send_every=timedelta(minutes=rt.settings.send_every_minutes),
        nightly=_nightly(system),
    )


class Heartbeat:
    """Writes the scheduler's one heartbeat row after each job: when the last tick ran and
    the next is due, and the last of each job (tick, send, nightly) in its summary, so a
    send between ticks does not hide what the tick did; not ok while any of them failed."""

    def __init__(self, rt: Runtime, holder: str) -> None:
        self.rt = rt
        self.holder = holder
        self._last: dict[str, HeartbeatInfo] = {}

    def __call__(self, info: HeartbeatInfo) -> None:
        self._last[info.job] = info
        jobs = [self._last[j] for j in JOBS if j in self._last]
        errors = [j.error for j in jobs if j.error]
        with self.rt.db.transaction() as session:
            beat = session.get(SchedulerBeat, 1) or SchedulerBeat(
                id=1, holder=self.holder, last_tick_at=info.last_tick_at
            )
            if info.job == "tick":
                beat.last_tick_at = info.last_tick_at
            beat.holder, beat.next_tick_at = self.holder, info.next_tick_at
            beat.ok, beat.summary = not errors, "; ".join(_said(j) for j in jobs)
            beat.error = "; ".join(errors) or None
            session.add(beat)


def _said(info: HeartbeatInfo) -> str:
    """One job's part of the heartbeat's summary: a tick as it reported itself (with the send
    after it), the others with the London time they ran."""
    if info.job == "tick":
        return info.summary
    return f"{info.summary} (at {to_london(info.last_tick_at):%H:%M})"


def _nightly(system: Runtime) -> Callable[[datetime], str] | None:
    """The nightly backup, when a backup directory is set."""
    if system.settings.backup_dir is None:
        return None

    def backup(at: datetime) -> str:
        del at
        from review_engine.services.backup import nightly_backup

        return nightly_backup(system)

    return backup


def status(rt: Runtime) -> SchedulerStatus:
    """The last heartbeat, and when the next tick is due."""
    with rt.db.transaction() as session:
        beat = session.get(SchedulerBeat, 1)
        if beat is None:
            return SchedulerStatus(
                False,
                None,
                None,
                next_run_times(rt.clock.now())[0],
                None,
                "the scheduler has never run",
                None,
            )
        last = as_utc(beat.last_tick_at)
        upcoming = as_utc(beat.next_tick_at) if beat.next_tick_at else None
        fresh = upcoming is not None and rt.clock.now() <= upcoming
        return SchedulerStatus(
            fresh, beat.holder, last, upcoming, beat.ok, beat.summary, beat.error
        )
