"""web app: people who may sign in, sign-in links, sessions, API tokens, rate limit, drafts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite supports it with a constant default): a batch copy of the
    # table would drop `person`, which every history and membership row refers to.
    op.add_column(
        "person", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_table(
        "signin_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("expires_at"),
        _utc("used_at", nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_signin_link_person_id", "signin_link", ["person_id"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", _S(), nullable=False),
        sa.Column("client", _S(), nullable=False),
        _utc("created_at"),
        _utc("last_seen_at"),
        _utc("expires_at"),
        _utc("ended_at", nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_session_person_id", "web_session", ["person_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", _S(), nullable=False),
        _utc("created_at"),
        _utc("last_used_at", nullable=True),
        _utc("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_token_person_id", "api_token", ["person_id"])
    op.create_table(
        "signin_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", _S(), nullable=False),
        sa.Column("client", _S(), nullable=False),
        _utc("at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_attempt_address_hash", "signin_attempt", ["address_hash"])
    op.create_index("ix_signin_attempt_client", "signin_attempt", ["client"])
    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("kind", _S(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("saved_by", _S(), nullable=False),
        _utc("saved_at"),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id", "kind"),
    )
    op.create_index("ix_draft_review_id", "draft", ["review_id"])


def downgrade() -> None:
    for table in ("draft", "signin_attempt", "api_token", "web_session", "signin_link"):
        op.drop_table(table)
    op.execute("ALTER TABLE person DROP COLUMN active")  # SQLite 3.35+ and PostgreSQL
