"""SQLModel tables for the data protection duties and notice routing: who read what (the access
log), changes to a published write-up's sharing, retention periods, holds and purges, and which
roles at a school take each kind of notice."""

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel


def _utc(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class AccessLog(SQLModel, table=True):
    """One viewing or download of a SEF, write-up, visit pack or report: who, when, how (web,
    api, cli) and which record. Append-only: nothing updates or deletes a row but a purge
    past its retention period."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_cycle_school", "cycle_id", "school_urn"),
        Index("ix_access_log_actor", "actor"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    actor: str  # the person's e-mail, or "operator (LOGIN)"
    action: str  # viewed | downloaded
    record: str  # sef | writeup | visit_pack | writeup_report | support_plan | cluster_report ...
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id")
    school_urn: int | None = Field(default=None, foreign_key="school.urn")
    via: str  # web | api | cli
    detail: str = ""  # the format or version read, e.g. "pdf", "version 2"


class SharingChange(SQLModel, table=True):
    """One change to a published write-up's sharing (widened or withdrawn): who, when, why,
    from what to what."""

    __tablename__ = "sharing_change"

    id: int | None = Field(default=None, primary_key=True)
    writeup_id: int = Field(foreign_key="writeup.id", index=True)
    at: datetime = Field(sa_column=_utc())
    actor: str
    sharing_before: str | None = None
    sharing_after: str | None = None
    shared_with_before: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    shared_with_after: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    reason: str = ""


class RetentionPeriod(SQLModel, table=True):
    """A programme's own retention period for one kind of record (months), overriding the
    default in `core`."""

    __tablename__ = "retention_period"

    kind: str = Field(primary_key=True)
    months: int
    actor: str
    at: datetime = Field(sa_column=_utc())


class RetentionHold(SQLModel, table=True):
    """A hold that keeps a person or a cycle's records past their retention period (a
    complaint, a safeguarding matter) until released."""

    __tablename__ = "retention_hold"

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str  # person | cycle
    subject: str  # the person's e-mail, or the cycle's id
    reason: str
    held_by: str
    held_at: datetime = Field(sa_column=_utc())
    released_by: str | None = None
    released_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class PurgeLog(SQLModel, table=True):
    """What one retention purge did, in counts (it names nobody)."""

    __tablename__ = "purge_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    actor: str
    kind: str
    count: int
    detail: str = ""


class SchoolNoticeRoute(SQLModel, table=True):
    """Which staff roles at a school take one kind of notice by default (until a person
    chooses their own); no row: the programme's default for the kind."""

    __tablename__ = "school_notice_route"

    school_urn: int = Field(foreign_key="school.urn", primary_key=True)
    kind: str = Field(primary_key=True)
    roles: str  # comma-separated core.domain.Role values; "" for nobody by role
    actor: str
    at: datetime = Field(sa_column=_utc())
