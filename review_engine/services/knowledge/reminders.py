"""Reminders through the outbox: the visit (days before), feedback (the day after) and the
reflection (the programme's weeks after); each goes once (dedupe keys). Also closes offers
whose visit day has passed. Idempotent: run it from the tick or `review ik tick`."""

from __future__ import annotations

from dataclasses import dataclass

from review_engine.runtime import Runtime


@dataclass(frozen=True)
class TickResult:
    closed: int  # offers closed because their day passed
    queued: int  # reminders queued


def tick(rt: Runtime) -> TickResult:
    """Close past offers and queue due reminders (the scheduler, an admin or the operator)."""
    raise NotImplementedError
