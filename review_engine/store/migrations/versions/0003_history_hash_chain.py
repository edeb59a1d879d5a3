"""history hash chain, TRUNCATE refused

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:50:00.000000

Each transitionlog row gets `prev_hash` and `hash` (review_engine/store/history_chain.py); the
rows already written get their chains here, per cycle in id order, so an upgraded database
verifies. PostgreSQL also refuses TRUNCATE, and gains the function the state writer reads
(and locks) chain heads with (review_engine/store/history_protection.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from review_engine.store import history_protection
from review_engine.store.history_chain import GENESIS, row_hash

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table("transitionlog", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    conn = op.get_bind()
    # The backfill is the one UPDATE history ever gets: lift the refusal for it alone.
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS transitionlog_no_update")
    else:
        op.execute("ALTER TABLE transitionlog DISABLE TRIGGER transitionlog_append_only")
    _backfill(conn)
    if conn.dialect.name != "sqlite":
        op.execute("ALTER TABLE transitionlog ENABLE TRIGGER transitionlog_append_only")
    history_protection.install(conn)


def _backfill(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text(
            "SELECT id, cycle_id, school_urn, machine, from_state, to_state, trigger, actor, "
            "reason, at FROM transitionlog ORDER BY cycle_id, id"
        ).columns(at=sa.DateTime(timezone=True))
    ).all()
    heads: dict[int, str] = {}
    updates = []
    for row_id, cycle_id, urn, machine, from_state, to_state, trigger, actor, reason, at in rows:
        prev = heads.get(cycle_id, GENESIS)
        new = row_hash(
            prev, cycle_id, urn, machine, from_state, to_state, trigger, actor, reason, at
        )
        heads[cycle_id] = new
        updates.append({"id": row_id, "prev_hash": prev, "hash": new})
    statement = sa.text(
        "UPDATE transitionlog SET prev_hash = :prev_hash, hash = :hash WHERE id = :id"
    )
    for start in range(0, len(updates), BACKFILL_BATCH):
        conn.execute(statement, updates[start : start + BACKFILL_BATCH])


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS transitionlog_no_update")
        op.execute("DROP TRIGGER IF EXISTS transitionlog_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS transitionlog_no_truncate ON transitionlog")
        op.execute(f"DROP FUNCTION IF EXISTS {history_protection.PG_HEADS}(integer[])")
    with op.batch_alter_table("transitionlog", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    if conn.dialect.name == "sqlite":  # the batch copy dropped them; 0001's triggers return
        history_protection.install(conn)
