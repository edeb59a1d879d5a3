"""people and clusters over time: notice choices, visitors per host, archived clusters,
and the change logs of people and clusters

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy: history and memberships refer to both tables).
    op.add_column("person", sa.Column("notices", _S(), nullable=True))
    op.add_column(
        "cluster",
        sa.Column("visitors_per_host", sa.Integer(), nullable=False, server_default="3"),
    )
    op.add_column("cluster", _utc("archived_at", nullable=True))
    for table, subject, target in (
        ("cluster_change", "cluster_id", "cluster.id"),
        ("person_change", "person_id", "person.id"),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column(subject, sa.Integer(), nullable=False),
            sa.Column("setting", _S(), nullable=False),
            sa.Column("old", _S(), nullable=True),
            sa.Column("new", _S(), nullable=True),
            sa.Column("actor", _S(), nullable=False),
            _utc("at"),
            sa.ForeignKeyConstraint([subject], [target]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{table}_{subject}", table, [subject])
    op.create_index("ix_person_change_new", "person_change", ["new"])


def downgrade() -> None:
    op.drop_table("person_change")
    op.drop_table("cluster_change")
    for table, column in (
        ("cluster", "archived_at"),
        ("cluster", "visitors_per_host"),
        ("person", "notices"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL
