"""outbox claims: a sender's lease on the messages it is sending

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:50:00.000000

`review outbox send` claims a batch (claimed_by, claimed_until) and commits, sends each message
outside any transaction, and marks it sent in its own short transaction: two senders never take
the same message, and a killed sender's claims lapse when their lease runs out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
