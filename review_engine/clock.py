"""Time is injected: services take a Clock; nothing deep inside calls datetime.now()."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def as_utc(instant: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def to_london(instant: datetime) -> datetime:
    """Show an instant in Europe/London (stored instants are UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(LONDON)


class FixedClock:
    """A clock stopped at one instant: `--now` / REVIEW_NOW, to rehearse a year ahead."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._now = instant.astimezone(UTC)

    def now(self) -> datetime:
        return self._now
