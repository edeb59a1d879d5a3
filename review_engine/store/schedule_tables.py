"""SQLModel tables for term calendars, cycle plans, overdue marks, reminders and the scheduler."""

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class Calendar(SQLModel, table=True):
    """A named term calendar: a local authority's, or an academy's own."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)


class CalendarPeriod(SQLModel, table=True):
    """One half-term or closure of a calendar's academic year (dates inclusive)."""

    __table_args__ = (Index("ix_calendarperiod_calendar_year", "calendar_id", "academic_year"),)

    id: int | None = Field(default=None, primary_key=True)
    calendar_id: int = Field(foreign_key="calendar.id")
    academic_year: str
    kind: str
    label: str
    first_day: date
    last_day: date


class CalendarAssignment(SQLModel, table=True):
    """Which calendar a local authority's schools follow, or one school follows."""

    id: int | None = Field(default=None, primary_key=True)
    calendar_id: int = Field(foreign_key="calendar.id")
    la_code: str | None = Field(default=None, unique=True)
    school_urn: int | None = Field(default=None, foreign_key="school.urn", unique=True)


class PlanStep(SQLModel, table=True):
    """A dated step of a cycle's plan: a boundary (fire `trigger` on the cycle on `due_on`,
    once) or a deadline (per-school work of machine `trigger` is due on `due_on`)."""

    __table_args__ = (
        UniqueConstraint("cycle_id", "position"),
        Index("ix_planstep_due", "applied_at", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    position: int
    kind: str = "boundary"
    trigger: str
    from_state: str
    to_state: str
    due_on: date
    applied_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class OverdueMark(SQLModel, table=True):
    """A per-school item found late by a tick (kept; resolved when the work is done)."""

    __table_args__ = (UniqueConstraint("cycle_id", "school_urn", "item"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    school_urn: int = Field(foreign_key="school.urn")
    item: str
    due_on: date
    marked_at: datetime = Field(sa_column=_utc())


class OutboxMessage(SQLModel, table=True):
    """A notice waiting to be sent; `dedupe_key` makes the same reason and day unique."""

    __table_args__ = (Index("ix_outboxmessage_recipient_digest", "recipient", "held_for_digest"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    dedupe_key: str = Field(unique=True)
    recipient: str
    subject: str
    body: str
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id", index=True)
    school_urn: int | None = Field(default=None, foreign_key="school.urn")
    item: str = ""
    created_at: datetime = Field(sa_column=_utc())
    sent_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    attempts: int = 0
    last_error: str | None = None
    attachment_name: str | None = None
    attachment: str | None = None
    # A sender's lease while it sends (review outbox send): nobody else takes the message.
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # The event or reminder this is (core.notices), for the outbox page and the digests.
    notice: str = ""
    # Not before this moment: a failed message waits (backoff) before it is tried again.
    next_attempt_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # Held for the recipient's daily digest rather than sent on its own; once a digest has
    # carried it, the digest's message id.
    held_for_digest: bool = False
    digest_message_id: str | None = None


class SchedulerBeat(SQLModel, table=True):
    """The scheduler's heartbeat: one row, rewritten after each tick."""

    id: int = Field(default=1, primary_key=True)
    holder: str
    last_tick_at: datetime = Field(sa_column=_utc())
    next_tick_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    ok: bool = True
    summary: str = ""
    error: str | None = None
