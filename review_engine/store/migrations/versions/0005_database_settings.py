"""database settings: facts about the database itself, such as being made for rehearsal

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:20:00.000000

`review init --rehearsal` marks a new database as a rehearsal: only there may a tick pretend
another time (`review tick --now`) and change anything.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "databasesetting",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("databasesetting")
