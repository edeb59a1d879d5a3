"""What the database does to keep history append-only, and the check that it still does.

The triggers refuse UPDATE and DELETE on `transitionlog` (both backends) and TRUNCATE
(PostgreSQL; SQLite has none). On PostgreSQL a function also reads the latest hash of each
cycle's chain after locking the cycles (see `store/history_chain.py`). Migrations 0001 and 0003
create them; `review init` puts back any that went missing; every command checks they are all
there with one catalog query (`missing`).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

TABLE = "transitionlog"
REFUSAL = "history is append-only"

# SQLite: a trigger per refused verb.
SQLITE_TRIGGERS = {
    f"transitionlog_no_{verb.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS transitionlog_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )
    for verb in ("UPDATE", "DELETE")
}

# PostgreSQL: one function that refuses, behind a row trigger and a statement trigger.
PG_REFUSE = "transitionlog_append_only"
PG_REFUSE_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION {PG_REFUSE}() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
)
PG_TRIGGERS = {
    PG_REFUSE: (
        f"CREATE TRIGGER {PG_REFUSE} BEFORE UPDATE OR DELETE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_REFUSE}()"
    ),
    "transitionlog_no_truncate": (
        f"CREATE TRIGGER transitionlog_no_truncate BEFORE TRUNCATE ON {TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_REFUSE}()"
    ),
}
# Locks the given cycles, then (VOLATILE: its second query takes a fresh snapshot, so it sees
# what a writer that held the lock before us committed) returns the latest hash of each chain.
PG_HEADS = "transitionlog_heads"
PG_HEADS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {PG_HEADS}(cycles integer[])
RETURNS TABLE (head_cycle integer, head_hash varchar) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM cycle WHERE id = ANY(cycles) ORDER BY id FOR UPDATE;
    RETURN QUERY SELECT DISTINCT ON (t.cycle_id) t.cycle_id, t.hash::varchar
        FROM {TABLE} AS t WHERE t.cycle_id = ANY(cycles) AND t.hash IS NOT NULL
        ORDER BY t.cycle_id, t.id DESC;
END $$
"""


def expected(dialect: str) -> list[str]:
    """The names of the triggers (and, on PostgreSQL, functions) history relies on."""
    if dialect == "sqlite":
        return sorted(SQLITE_TRIGGERS)
    return sorted([*PG_TRIGGERS, f"{PG_HEADS}()"])


def missing(conn: Connection) -> list[str]:
    """What is missing (or disabled), in one catalog query; [] when history is protected."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
    else:
        query = (
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:table) "
            "AND NOT tgisinternal AND tgenabled <> 'D' "
            f"UNION ALL SELECT proname || '()' FROM pg_proc WHERE proname = '{PG_HEADS}' "
            "AND pronamespace = to_regnamespace(current_schema())"
        )
    present = set(conn.execute(text(query), {"table": TABLE}).scalars())
    return [name for name in expected(dialect) if name not in present]


def install(conn: Connection) -> None:
    """Create whatever is missing or disabled (idempotent): migrations and `review init`."""
    if conn.dialect.name == "sqlite":
        for ddl in SQLITE_TRIGGERS.values():
            conn.exec_driver_sql(ddl)
        return
    conn.exec_driver_sql(PG_REFUSE_FUNCTION)
    conn.exec_driver_sql(PG_HEADS_FUNCTION)
    for name, ddl in PG_TRIGGERS.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
        conn.exec_driver_sql(ddl)
