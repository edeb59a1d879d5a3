"""Database engine, SQLite pragmas, and schema migrations (Alembic) behind `review init`.

Every command checks the schema before it works; that check reads `alembic_version` with plain
SQL and compares it with `SCHEMA_HEAD`, so only `review init` imports Alembic (about a tenth of
a second, longer than a short command takes to run).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from review_engine.errors import HistoryUnprotected, SchemaOutOfDate, StorageError
from review_engine.store import history_protection
from review_engine.store.faults import install_translation, translate_os_error

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The newest revision in migrations/versions. A new migration changes it too; a test
# (tests/cli/test_startup.py) fails until it does.
SCHEMA_HEAD = "0009"
VERSION_TABLE = "alembic_version"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build the engine; SQLite gets foreign keys, WAL, synchronous=FULL, a busy timeout and
    write transactions that take the lock up front (BEGIN IMMEDIATE). A SQLite file that cannot
    be written (read-only media, no permission) is opened read-only: reads work, and a write
    says the database is read-only. Damaged files, read-only databases and full disks raise
    one-line StorageErrors from any use of the engine (store/faults.py)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        read_only = False
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise translate_os_error(exc, path) from exc
            read_only = _cannot_write(Path(path))
            if read_only:
                url = _read_only_url(Path(path))
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=NullPool,
        )
        _install_sqlite_pragmas(engine, read_only=read_only)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    install_translation(engine)
    return engine


def _cannot_write(path: Path) -> bool:
    """An existing file this process may not write (access() says so for read-only mounts
    even to root)."""
    return path.is_file() and not os.access(path, os.W_OK)


def _read_only_url(path: Path) -> str:
    """A read-only SQLite URI; `immutable` where the folder cannot hold the -wal/-shm files a
    WAL database otherwise needs even to be read (nothing can change it there anyway)."""
    immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
    return f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro{immutable}&uri=true"


def _install_sqlite_pragmas(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is ours to send.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not read_only:  # setting the journal mode writes the file's header
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only file cannot take the write lock up front; its writes fail anyway.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str:
    """The newest revision, as Alembic reads it from migrations/versions."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stored in the database; None before `review init`."""
    try:
        with engine.connect() as conn:
            return _revision(conn)
    except OperationalError as exc:
        raise StorageError(f"cannot open the database: {exc.orig}") from exc


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    stored = sorted(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    return ", ".join(stored) or None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as conn:  # put back any protective trigger someone dropped
        if history_protection.missing(conn):
            history_protection.install(conn)
    return before, head_revision(engine)


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing or older than this code, or
    whose history has lost its protective triggers (one catalog query)."""
    try:
        with engine.connect() as conn:
            current = _revision(conn)
            if current != SCHEMA_HEAD:
                raise SchemaOutOfDate(current, SCHEMA_HEAD)
            missing = history_protection.missing(conn)
    except OperationalError as exc:
        raise StorageError(f"cannot open the database: {exc.orig}") from exc
    if missing:
        raise HistoryUnprotected(missing)
