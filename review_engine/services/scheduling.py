"""The scheduler service: run ticks on a timetable as the single leader, and its heartbeat."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime

from review_engine.adapters.scheduler import (
    HeartbeatInfo,
    leader_lock_for,
    next_run_times,
    run_scheduler,
)
from review_engine.clock import as_utc
from review_engine.rules import policy
from review_engine.runtime import Runtime
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


def run(rt: Runtime, *, wait: bool = False, stop_event: threading.Event | None = None) -> None:
    """Block running the scheduler (tick at start, 06:00 London daily, hourly) until stopped."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_the_schedule(actor, "run the scheduler")
    holder = f"pid {os.getpid()} on {socket.gethostname()}"
    system = rt.acting_as(policy.SCHEDULER)

    def one_tick(at: datetime) -> TickReport:
        del at  # the scheduler's own clock: the tick reads the same one
        return tick(system)

    def heartbeat(info: HeartbeatInfo) -> None:
        with rt.db.transaction() as session:
            beat = session.get(SchedulerBeat, 1) or SchedulerBeat(
                id=1, holder=holder, last_tick_at=info.last_tick_at
            )
            beat.holder, beat.last_tick_at = holder, info.last_tick_at
            beat.next_tick_at, beat.ok = info.next_tick_at, info.ok
            beat.summary, beat.error = info.summary, info.error
            session.add(beat)

    run_scheduler(
        tick=one_tick,
        leader=leader_lock_for(rt.db.engine, rt.settings.data_dir),
        heartbeat=heartbeat,
        clock=rt.clock,
        stop_event=stop_event,
        wait=wait,
    )


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
