"""SQLModel tables: the persistent state of schools, clusters, cycles, reviews and history.

No relationships are declared: services load what they need in set-based queries, which keeps
every query visible (no lazy loads inside loops).
"""

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc() -> Column:
    return Column(DateTime(timezone=True), nullable=False)


class School(SQLModel, table=True):
    """An establishment from GIAS; the URN is its natural key."""

    urn: int = Field(primary_key=True)
    name: str
    la_code: str | None = None
    la_name: str | None = None
    establishment_number: str | None = None
    establishment_type: str | None = None
    type_group: str | None = None
    status: str | None = None
    is_closed: bool = False
    phase: str | None = None
    statutory_low_age: int | None = None
    statutory_high_age: int | None = None
    open_date: date | None = None
    close_date: date | None = None
    town: str | None = None
    postcode: str | None = None
    easting: int | None = None
    northing: int | None = None
    trust_code: str | None = None
    trust_name: str | None = None
    federation_code: str | None = None
    federation_name: str | None = None
    ofsted_rating: str | None = None
    ofsted_framework: str | None = None
    ofsted_last_inspection: date | None = None
    region: str | None = None
    number_of_pupils: int | None = None


class Person(SQLModel, table=True):
    """A head, deputy, senior leader or facilitator; email is the login-like key."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str
    role: str
    school_urn: int | None = Field(default=None, foreign_key="school.urn", index=True)
    active: bool = True  # a deactivated person signs in no more; history keeps their name
    # The notice kinds (core.domain.NoticeKind) they take, comma-separated, each alone (sent
    # at once) or as "kind:digest" (in their daily digest); a kind not listed is off. None:
    # what their school's routing (or the programme's default) gives their role.
    notices: str | None = None
    # When a retention purge replaced their name and e-mail (the row stays for history).
    anonymised_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Cluster(SQLModel, table=True):
    """A group of schools that review each other."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    facilitator_id: int | None = Field(default=None, foreign_key="person.id")
    framework: str = "eif2019"
    trust_conflicts: bool = False
    created_at: datetime = Field(sa_column=_utc())
    visitors_per_host: int = 3  # the triads' size when they are proposed
    # Archived: no new cycles, left out of lists unless asked for; its history is kept.
    archived_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ClusterChange(SQLModel, table=True):
    """One change to a cluster's settings (name, framework, visitors per host, facilitator,
    archived): who, when, what from and to. Appended, never changed."""

    __tablename__ = "cluster_change"

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id", index=True)
    setting: str
    old: str | None = None
    new: str | None = None
    actor: str
    at: datetime = Field(sa_column=_utc())


class PersonChange(SQLModel, table=True):
    """One change to a person (name, e-mail, role, school, active, notices): who, when, what
    from and to. A changed e-mail is found here, so history written under the old address
    still names the person."""

    __tablename__ = "person_change"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    setting: str
    old: str | None = None
    new: str | None = Field(default=None, index=True)
    actor: str
    at: datetime = Field(sa_column=_utc())


class Membership(SQLModel, table=True):
    """A school's membership of a cluster, with when it joined and left."""

    __table_args__ = (Index("ix_membership_cluster_school", "cluster_id", "school_urn"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id")
    school_urn: int = Field(foreign_key="school.urn", index=True)
    joined: date
    left: date | None = None


class WorkflowSnapshot(SQLModel, table=True):
    """The exact workflow definition a cycle started with, keyed by its content hash."""

    hash: str = Field(primary_key=True)
    name: str
    version: int
    source: str
    created_at: datetime = Field(sa_column=_utc())


class Cycle(SQLModel, table=True):
    """One pass of review for a cluster, usually one academic year."""

    __table_args__ = (UniqueConstraint("cluster_id", "academic_year"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id", index=True)
    academic_year: str
    workflow_name: str
    workflow_version: int
    workflow_hash: str = Field(foreign_key="workflowsnapshot.hash")
    state: str = Field(index=True)
    version: int = 1
    started_at: datetime = Field(sa_column=_utc())


class Review(SQLModel, table=True):
    """One school's part in one cycle; its phase states live in ReviewState."""

    __table_args__ = (UniqueConstraint("cycle_id", "school_urn"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    school_urn: int = Field(foreign_key="school.urn", index=True)
    version: int = 1


class ReviewState(SQLModel, table=True):
    """The state of one per-school phase machine (self_review, peer_visit...) of a review."""

    __table_args__ = (Index("ix_reviewstate_machine_state", "machine", "state"),)

    review_id: int = Field(foreign_key="review.id", primary_key=True)
    machine: str = Field(primary_key=True)
    state: str


class TransitionLog(SQLModel, table=True):
    """Append-only history of every state change: what, from, to, trigger, who, when, why."""

    __table_args__ = (Index("ix_transitionlog_cycle_school", "cycle_id", "school_urn"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    school_urn: int | None = Field(default=None, foreign_key="school.urn")
    machine: str
    from_state: str
    to_state: str
    trigger: str
    actor: str
    reason: str | None = None
    at: datetime = Field(sa_column=_utc())
    # The hash chain (store/history_chain.py): this row's hash and its cycle's previous one.
    # Nullable so a row written by hand shows as one; the state writer always sets both.
    prev_hash: str | None = None
    hash: str | None = None


class DatabaseSetting(SQLModel, table=True):
    """A fact about the database itself, e.g. `rehearsal` = `yes` for `review init --rehearsal`."""

    name: str = Field(primary_key=True)
    value: str
