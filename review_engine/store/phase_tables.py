"""SQLModel tables for the work of each phase: self-evaluations, triads, visit plans,
write-ups, good practice, support actions and feedback.

Structured lists (SEF areas, agenda rows, WWW/EBI items) are JSON columns: they are read and
written whole with their parent, never queried item by item.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc() -> Column:
    return Column(DateTime(timezone=True), nullable=False)


def _json() -> Column:
    return Column(JSON, nullable=False)


class SelfEvaluation(SQLModel, table=True):
    """One submitted version of a school's SEF; every resubmission is a new version."""

    __table_args__ = (UniqueConstraint("review_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    version: int
    framework: str
    enquiry_question: str
    areas: list[dict[str, Any]] = Field(sa_column=_json())
    submitted_by: str
    submitted_at: datetime = Field(sa_column=_utc())


class TriadPlace(SQLModel, table=True):
    """One visitor place: `visitor_urn` visits `host_urn` in this cycle."""

    __table_args__ = (UniqueConstraint("cycle_id", "host_urn", "visitor_urn"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    host_urn: int = Field(foreign_key="school.urn")
    visitor_urn: int = Field(foreign_key="school.urn")
    is_lead: bool = False
    distance_km: float | None = None
    why: str = ""
    source: str = "solver"


class SchoolConflict(SQLModel, table=True):
    """Two schools of a cluster that must never review each other (stored low URN first)."""

    __table_args__ = (UniqueConstraint("cluster_id", "school_a", "school_b"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id", index=True)
    school_a: int = Field(foreign_key="school.urn")
    school_b: int = Field(foreign_key="school.urn")
    reason: str = ""


class Availability(SQLModel, table=True):
    """A school's declared availability for one cycle (to visit, to host)."""

    __table_args__ = (UniqueConstraint("cycle_id", "school_urn"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    school_urn: int = Field(foreign_key="school.urn")
    can_visit: bool = True
    can_host: bool = True
    reason: str = ""


class PinnedPair(SQLModel, table=True):
    """A pairing the facilitator fixed: `must` or `must_not` visit."""

    __table_args__ = (UniqueConstraint("cycle_id", "host_urn", "visitor_urn"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    host_urn: int = Field(foreign_key="school.urn")
    visitor_urn: int = Field(foreign_key="school.urn")
    kind: str


class VisitPlan(SQLModel, table=True):
    """The visit a host school receives: focus, enquiry question, date, slot, agenda."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", unique=True)
    focus: str | None = None
    focus_area: str | None = None
    enquiry_question: str | None = None
    visit_date: date | None = None
    slot: str | None = None
    agenda: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    host_staff: list[str] = Field(default_factory=list, sa_column=_json())
    sequence: int = 0
    cancelled: bool = False
    visited_on: date | None = None


class WriteUp(SQLModel, table=True):
    """The WWW/EBI summary of one host's visit, drafted by the lead reviewer."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", unique=True)
    lead_urn: int = Field(foreign_key="school.urn")
    version: int = 1
    activities: list[str] = Field(default_factory=list, sa_column=_json())
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    good_practice: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    next_steps: str = ""
    sharing: str | None = None
    shared_with: list[int] = Field(default_factory=list, sa_column=_json())
    drafted_at: datetime = Field(sa_column=_utc())
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class WriteUpDecision(SQLModel, table=True):
    """A co-reviewer's or the host's agreement with (or return of) one write-up version."""

    id: int | None = Field(default=None, primary_key=True)
    writeup_id: int = Field(foreign_key="writeup.id", index=True)
    version: int
    school_urn: int = Field(foreign_key="school.urn")
    role: str
    decision: str
    reason: str | None = None
    actor: str
    at: datetime = Field(sa_column=_utc())


class GoodPractice(SQLModel, table=True):
    """An entry of the cluster's directory: who to visit for what (from a published write-up)."""

    __table_args__ = (Index("ix_goodpractice_cluster_area", "cluster_id", "area"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id")
    cycle_id: int = Field(foreign_key="cycle.id")
    writeup_id: int = Field(foreign_key="writeup.id")
    school_urn: int = Field(foreign_key="school.urn")
    area: str
    description: str
    contact: str = ""


class SupportAction(SQLModel, table=True):
    """An action agreed from an EBI: owner, supporting school, criteria, due, RAG."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    number: int
    ebi: str
    title: str
    owner: str
    supporting_urn: int | None = Field(default=None, foreign_key="school.urn")
    success_criteria: str
    due_date: date | None = None
    due_half_term: str | None = None
    rag: str
    created_at: datetime = Field(sa_column=_utc())
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ActionUpdate(SQLModel, table=True):
    """A dated RAG update on a support action."""

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="supportaction.id", index=True)
    rag: str
    note: str
    actor: str
    at: datetime = Field(sa_column=_utc())


class Feedback(SQLModel, table=True):
    """Feedback on a visit: immediate (visitors and host) or later reflection (visitors)."""

    __table_args__ = (UniqueConstraint("review_id", "from_urn", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    from_urn: int = Field(foreign_key="school.urn")
    kind: str
    usefulness: int | None = None
    comment: str = ""
    changed_practice: str | None = None
    actor: str
    at: datetime = Field(sa_column=_utc())
