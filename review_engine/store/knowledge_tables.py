"""SQLModel tables for Inside Knowledge: the programme and its topics, the stakeholders who
nominate, nominations of hosts, visit offers, bookings, agenda questions, feedback and the
append-only log of every offer and booking transition.

An offer carries what the prospectus searches on (its host's region and National Grid point,
copied when it is made, and a lower-case search text), so a search is one indexed query over
offers without joining 20,000 schools. `places_taken` counts the schools confirmed on an
offer: bookings change it only while holding the offer row's lock (PostgreSQL `FOR UPDATE`;
SQLite writers are serialised by BEGIN IMMEDIATE), so it never goes past `schools_max`.
"""

from datetime import date, datetime

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from review_engine.store.models import School


def _utc(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class IkProgramme(SQLModel, table=True):
    """One round of Inside Knowledge (e.g. "Inside Knowledge" 2026-27) and its settings."""

    __tablename__ = "ik_programme"
    __table_args__ = (UniqueConstraint("name", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    year: str
    workflow_name: str
    workflow_hash: str = Field(foreign_key="workflowsnapshot.hash")
    region_rule: str = "own_region"  # core.knowledge.RegionRule
    reflection_weeks: int = 8  # reflection due this many weeks after the visit
    reminder_days: int = 7  # visit reminder this many days before the visit
    created_at: datetime = Field(sa_column=_utc())
    created_by: str


class IkTopic(SQLModel, table=True):
    """A topic hosts excel in; `phases` (comma-separated PhaseKey values, '' for all) limits
    which offers and visiting schools it suits."""

    __tablename__ = "ik_topic"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="ik_programme.id", index=True)
    code: str
    title: str
    description: str = ""
    phases: str = ""


class IkStakeholder(SQLModel, table=True):
    """A registered person who may nominate schools (e.g. a local authority officer)."""

    __tablename__ = "ik_stakeholder"
    __table_args__ = (UniqueConstraint("programme_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="ik_programme.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    organisation: str
    added_by: str
    added_at: datetime = Field(sa_column=_utc())


class IkNomination(SQLModel, table=True):
    """A school nominated as a host for a topic, with the reason; approved or declined by a
    programme admin. One per school and topic."""

    __tablename__ = "ik_nomination"
    __table_args__ = (
        UniqueConstraint("topic_id", "school_urn"),
        Index("ix_ik_nomination_programme_status", "programme_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="ik_programme.id")
    topic_id: int = Field(foreign_key="ik_topic.id")
    school_urn: int = Field(foreign_key="school.urn", index=True)
    nominated_by: str  # the stakeholder's e-mail (or the operator)
    organisation: str = ""
    reason: str
    status: str = "pending"  # pending | approved | declined
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    decision_note: str = ""
    created_at: datetime = Field(sa_column=_utc())


class IkOffer(SQLModel, table=True):
    """A host's half-day visit offer; `state` is the offer machine's, `version` its check."""

    __tablename__ = "ik_offer"
    __table_args__ = (
        Index("ix_ik_offer_search", "programme_id", "state", "visit_date"),
        Index("ix_ik_offer_region", "programme_id", "region", "state", "visit_date"),
        Index("ix_ik_offer_topic", "topic_id", "state", "visit_date"),
        Index("ix_ik_offer_point", "easting", "northing"),
        Index("ix_ik_offer_host", "host_urn"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="ik_programme.id")
    topic_id: int = Field(foreign_key="ik_topic.id")
    host_urn: int = Field(foreign_key="school.urn")
    title: str
    summary: str  # what visitors will see
    visit_date: date
    slot: str  # core.domain.Slot
    phases: str = ""  # comma-separated PhaseKey values
    schools_max: int
    practitioners_per_school: int
    booking_deadline: date
    state: str = "draft"
    version: int = 1
    places_taken: int = 0  # schools confirmed
    # Copied from the host school when the offer is made: what search filters and sorts on.
    region: str | None = None
    easting: int | None = None
    northing: int | None = None
    search_text: str = ""
    # The outline agenda the host publishes (each publication a new version).
    agenda: str = ""
    agenda_version: int = 0
    agenda_published_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_by: str
    created_at: datetime = Field(sa_column=_utc())


class IkBooking(SQLModel, table=True):
    """A visiting school's booking on an offer, for named practitioners. The waiting list is
    the offer's waitlisted bookings in `id` order (ids are given under the offer's lock)."""

    __tablename__ = "ik_booking"
    __table_args__ = (
        Index("ix_ik_booking_offer_state", "offer_id", "state"),
        Index("ix_ik_booking_school", "school_urn", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="ik_offer.id")
    school_urn: int = Field(foreign_key="school.urn")
    state: str = "requested"
    version: int = 1
    # [{"name": ..., "email": ..., "role": ...}], at most the offer's practitioners per school
    practitioners: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    requested_by: str
    requested_at: datetime = Field(sa_column=_utc())
    agenda_ack_version: int = 0  # the agenda version the school acknowledged (0: none)
    agenda_ack_by: str | None = None
    agenda_ack_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class IkQuestion(SQLModel, table=True):
    """A question or item a visiting school proposes for the outline agenda."""

    __tablename__ = "ik_question"

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="ik_offer.id", index=True)
    booking_id: int = Field(foreign_key="ik_booking.id")
    text: str
    asked_by: str
    asked_at: datetime = Field(sa_column=_utc())


class IkFeedback(SQLModel, table=True):
    """Feedback on a visit: on the day from a visiting school (`visitor`) or the host
    (`host`), and the visitor's later `reflection` on what it changed. One of each kind per
    school and offer."""

    __tablename__ = "ik_feedback"
    __table_args__ = (UniqueConstraint("offer_id", "school_urn", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="ik_offer.id", index=True)
    school_urn: int = Field(foreign_key="school.urn")
    kind: str  # visitor | host | reflection
    rating: int | None = None  # 1-5
    comment: str = ""
    changed_practice: bool | None = None  # reflections: did the visitor change its practice
    what_changed: str = ""
    given_by: str
    given_at: datetime = Field(sa_column=_utc())


class IkTransition(SQLModel, table=True):
    """Append-only log of every offer and booking transition: what, from, to, trigger, who,
    when, why. Written in the same transaction as the change; never updated or deleted."""

    __tablename__ = "ik_transition"
    __table_args__ = (Index("ix_ik_transition_offer", "offer_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="ik_programme.id")
    offer_id: int = Field(foreign_key="ik_offer.id")
    booking_id: int | None = Field(default=None, foreign_key="ik_booking.id")
    machine: str  # offer | booking
    from_state: str
    to_state: str
    trigger: str
    actor: str
    reason: str | None = None
    at: datetime = Field(sa_column=_utc())


# The prospectus finds "the reader's school" by postcode as well as URN.
Index("ix_school_postcode", School.__table__.c.postcode)  # type: ignore[attr-defined]
