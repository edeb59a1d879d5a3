"""notices and data protection: outbox backoff, notice kinds and digests; notice routing per
school; the access log; sharing changes; retention periods, holds and purges; anonymised people

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy: history and memberships refer to person).
    op.add_column("person", _utc("anonymised_at", nullable=True))
    op.add_column(
        "outboxmessage", sa.Column("notice", _S(), nullable=False, server_default="")
    )
    op.add_column("outboxmessage", _utc("next_attempt_at", nullable=True))
    op.add_column(
        "outboxmessage",
        sa.Column("held_for_digest", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("outboxmessage", sa.Column("digest_message_id", _S(), nullable=True))
    op.create_index(
        "ix_outboxmessage_recipient_digest", "outboxmessage", ["recipient", "held_for_digest"]
    )

    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _utc("at"),
        sa.Column("actor", _S(), nullable=False),
        sa.Column("action", _S(), nullable=False),
        sa.Column("record", _S(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("school_urn", sa.Integer(), nullable=True),
        sa.Column("via", _S(), nullable=False),
        sa.Column("detail", _S(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
        sa.ForeignKeyConstraint(["school_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_cycle_school", "access_log", ["cycle_id", "school_urn"])
    op.create_index("ix_access_log_actor", "access_log", ["actor"])

    op.create_table(
        "sharing_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("writeup_id", sa.Integer(), nullable=False),
        _utc("at"),
        sa.Column("actor", _S(), nullable=False),
        sa.Column("sharing_before", _S(), nullable=True),
        sa.Column("sharing_after", _S(), nullable=True),
        sa.Column("shared_with_before", sa.JSON(), nullable=True),
        sa.Column("shared_with_after", sa.JSON(), nullable=True),
        sa.Column("reason", _S(), nullable=False),
        sa.ForeignKeyConstraint(["writeup_id"], ["writeup.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sharing_change_writeup_id", "sharing_change", ["writeup_id"])

    op.create_table(
        "retention_period",
        sa.Column("kind", _S(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("actor", _S(), nullable=False),
        _utc("at"),
        sa.PrimaryKeyConstraint("kind"),
    )
    op.create_table(
        "retention_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", _S(), nullable=False),
        sa.Column("subject", _S(), nullable=False),
        sa.Column("reason", _S(), nullable=False),
        sa.Column("held_by", _S(), nullable=False),
        _utc("held_at"),
        sa.Column("released_by", _S(), nullable=True),
        _utc("released_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "purge_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _utc("at"),
        sa.Column("actor", _S(), nullable=False),
        sa.Column("kind", _S(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", _S(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "school_notice_route",
        sa.Column("school_urn", sa.Integer(), nullable=False),
        sa.Column("kind", _S(), nullable=False),
        sa.Column("roles", _S(), nullable=False),
        sa.Column("actor", _S(), nullable=False),
        _utc("at"),
        sa.ForeignKeyConstraint(["school_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("school_urn", "kind"),
    )


def downgrade() -> None:
    for table in (
        "school_notice_route",
        "purge_log",
        "retention_hold",
        "retention_period",
        "sharing_change",
        "access_log",
    ):
        op.drop_table(table)
    op.drop_index("ix_outboxmessage_recipient_digest", table_name="outboxmessage")
    for table, column in (
        ("outboxmessage", "digest_message_id"),
        ("outboxmessage", "held_for_digest"),
        ("outboxmessage", "next_attempt_at"),
        ("outboxmessage", "notice"),
        ("person", "anonymised_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL
