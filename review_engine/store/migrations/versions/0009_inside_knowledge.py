"""inside knowledge: programmes, topics, stakeholders, nominations, visit offers, bookings,
agenda questions, feedback and the log of offer and booking transitions; schools by postcode

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_index("ix_school_postcode", "school", ["postcode"])
    op.create_table(
        "ik_programme",
        _id(),
        sa.Column("name", _S(), nullable=False),
        sa.Column("year", _S(), nullable=False),
        sa.Column("workflow_name", _S(), nullable=False),
        sa.Column("workflow_hash", _S(), nullable=False),
        sa.Column("region_rule", _S(), nullable=False),
        sa.Column("reflection_weeks", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        _utc("created_at"),
        sa.Column("created_by", _S(), nullable=False),
        sa.ForeignKeyConstraint(["workflow_hash"], ["workflowsnapshot.hash"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "year"),
    )
    op.create_table(
        "ik_topic",
        _id(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("code", _S(), nullable=False),
        sa.Column("title", _S(), nullable=False),
        sa.Column("description", _S(), nullable=False),
        sa.Column("phases", _S(), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["ik_programme.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("programme_id", "code"),
    )
    op.create_index("ix_ik_topic_programme_id", "ik_topic", ["programme_id"])
    op.create_table(
        "ik_stakeholder",
        _id(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation", _S(), nullable=False),
        sa.Column("added_by", _S(), nullable=False),
        _utc("added_at"),
        sa.ForeignKeyConstraint(["programme_id"], ["ik_programme.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("programme_id", "person_id"),
    )
    op.create_index("ix_ik_stakeholder_person_id", "ik_stakeholder", ["person_id"])
    op.create_table(
        "ik_nomination",
        _id(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("school_urn", sa.Integer(), nullable=False),
        sa.Column("nominated_by", _S(), nullable=False),
        sa.Column("organisation", _S(), nullable=False),
        sa.Column("reason", _S(), nullable=False),
        sa.Column("status", _S(), nullable=False),
        sa.Column("decided_by", _S(), nullable=True),
        _utc("decided_at", nullable=True),
        sa.Column("decision_note", _S(), nullable=False),
        _utc("created_at"),
        sa.ForeignKeyConstraint(["programme_id"], ["ik_programme.id"]),
        sa.ForeignKeyConstraint(["topic_id"], ["ik_topic.id"]),
        sa.ForeignKeyConstraint(["school_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic_id", "school_urn"),
    )
    op.create_index("ix_ik_nomination_school_urn", "ik_nomination", ["school_urn"])
    op.create_index(
        "ix_ik_nomination_programme_status", "ik_nomination", ["programme_id", "status"]
    )
    op.create_table(
        "ik_offer",
        _id(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("host_urn", sa.Integer(), nullable=False),
        sa.Column("title", _S(), nullable=False),
        sa.Column("summary", _S(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("slot", _S(), nullable=False),
        sa.Column("phases", _S(), nullable=False),
        sa.Column("schools_max", sa.Integer(), nullable=False),
        sa.Column("practitioners_per_school", sa.Integer(), nullable=False),
        sa.Column("booking_deadline", sa.Date(), nullable=False),
        sa.Column("state", _S(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("places_taken", sa.Integer(), nullable=False),
        sa.Column("region", _S(), nullable=True),
        sa.Column("easting", sa.Integer(), nullable=True),
        sa.Column("northing", sa.Integer(), nullable=True),
        sa.Column("search_text", _S(), nullable=False),
        sa.Column("agenda", _S(), nullable=False),
        sa.Column("agenda_version", sa.Integer(), nullable=False),
        _utc("agenda_published_at", nullable=True),
        sa.Column("created_by", _S(), nullable=False),
        _utc("created_at"),
        sa.ForeignKeyConstraint(["programme_id"], ["ik_programme.id"]),
        sa.ForeignKeyConstraint(["topic_id"], ["ik_topic.id"]),
        sa.ForeignKeyConstraint(["host_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ik_offer_search", "ik_offer", ["programme_id", "state", "visit_date"])
    op.create_index(
        "ix_ik_offer_region", "ik_offer", ["programme_id", "region", "state", "visit_date"]
    )
    op.create_index("ix_ik_offer_topic", "ik_offer", ["topic_id", "state", "visit_date"])
    op.create_index("ix_ik_offer_point", "ik_offer", ["easting", "northing"])
    op.create_index("ix_ik_offer_host", "ik_offer", ["host_urn"])
    op.create_table(
        "ik_booking",
        _id(),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("school_urn", sa.Integer(), nullable=False),
        sa.Column("state", _S(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("practitioners", sa.JSON(), nullable=True),
        sa.Column("requested_by", _S(), nullable=False),
        _utc("requested_at"),
        sa.Column("agenda_ack_version", sa.Integer(), nullable=False),
        sa.Column("agenda_ack_by", _S(), nullable=True),
        _utc("agenda_ack_at", nullable=True),
        sa.ForeignKeyConstraint(["offer_id"], ["ik_offer.id"]),
        sa.ForeignKeyConstraint(["school_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ik_booking_offer_state", "ik_booking", ["offer_id", "state"])
    op.create_index("ix_ik_booking_school", "ik_booking", ["school_urn", "state"])
    op.create_table(
        "ik_question",
        _id(),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("text", _S(), nullable=False),
        sa.Column("asked_by", _S(), nullable=False),
        _utc("asked_at"),
        sa.ForeignKeyConstraint(["offer_id"], ["ik_offer.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["ik_booking.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ik_question_offer_id", "ik_question", ["offer_id"])
    op.create_table(
        "ik_feedback",
        _id(),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("school_urn", sa.Integer(), nullable=False),
        sa.Column("kind", _S(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", _S(), nullable=False),
        sa.Column("changed_practice", sa.Boolean(), nullable=True),
        sa.Column("what_changed", _S(), nullable=False),
        sa.Column("given_by", _S(), nullable=False),
        _utc("given_at"),
        sa.ForeignKeyConstraint(["offer_id"], ["ik_offer.id"]),
        sa.ForeignKeyConstraint(["school_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offer_id", "school_urn", "kind"),
    )
    op.create_index("ix_ik_feedback_offer_id", "ik_feedback", ["offer_id"])
    op.create_table(
        "ik_transition",
        _id(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("machine", _S(), nullable=False),
        sa.Column("from_state", _S(), nullable=False),
        sa.Column("to_state", _S(), nullable=False),
        sa.Column("trigger", _S(), nullable=False),
        sa.Column("actor", _S(), nullable=False),
        sa.Column("reason", _S(), nullable=True),
        _utc("at"),
        sa.ForeignKeyConstraint(["programme_id"], ["ik_programme.id"]),
        sa.ForeignKeyConstraint(["offer_id"], ["ik_offer.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["ik_booking.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ik_transition_offer", "ik_transition", ["offer_id", "id"])
    _protect_log()


def _protect_log() -> None:
    """The log of offer and booking transitions is append-only, like `transitionlog`: the
    database refuses UPDATE and DELETE (and, on PostgreSQL, TRUNCATE), reusing history's
    refusing function there."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS ik_transition_no_{verb.lower()} BEFORE {verb} "
                "ON ik_transition BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
            )
        return
    op.execute(
        "CREATE TRIGGER ik_transition_append_only BEFORE UPDATE OR DELETE ON ik_transition "
        "FOR EACH ROW EXECUTE FUNCTION transitionlog_append_only()"
    )
    op.execute(
        "CREATE TRIGGER ik_transition_no_truncate BEFORE TRUNCATE ON ik_transition "
        "FOR EACH STATEMENT EXECUTE FUNCTION transitionlog_append_only()"
    )


def downgrade() -> None:
    for table in (
        "ik_transition",
        "ik_feedback",
        "ik_question",
        "ik_booking",
        "ik_offer",
        "ik_nomination",
        "ik_stakeholder",
        "ik_topic",
        "ik_programme",
    ):
        op.drop_table(table)
    op.drop_index("ix_school_postcode", table_name="school")
