"""Database faults as one line that names the database: damaged, read-only, disk full.

SQLite tells these apart by result code (``sqlite_errorcode``), PostgreSQL by SQLSTATE.
`install_translation` hooks SQLAlchemy's ``handle_error`` on an engine, so every connection,
statement and migration on it raises the `StorageError` subclass instead of a driver error,
whichever code path it came through (the schema check, `review init`, a unit of work, the
scheduler).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from review_engine.errors import DatabaseDamaged, DatabaseReadOnly, DiskFull, StorageError

# SQLite primary result codes (https://sqlite.org/rescode.html); extended codes add high bits.
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
# PostgreSQL SQLSTATEs.
PG_DISK_FULL = "53100"
PG_READ_ONLY = "25006"
PG_CORRUPT = ("XX001", "XX002")
#: Below this much free space, an I/O error while writing is reported as a full disk.
NEARLY_FULL_BYTES = 256 * 1024


def describe(engine: Engine) -> str:
    """How messages name the database: a SQLite file's path, else the URL without password."""
    if engine.dialect.name == "sqlite":
        return (engine.url.database or ":memory:").removeprefix("file:")
    return engine.url.set(password=None).render_as_string()


def translate(exc: BaseException, where: str) -> StorageError | None:
    """The StorageError a driver error means, or None when it is none of these faults."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return DatabaseDamaged(where)
        if primary == SQLITE_READONLY:
            return DatabaseReadOnly(where)
        if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _nearly_full(where)):
            return DiskFull(where)
        if primary == SQLITE_CANTOPEN:
            return StorageError(f"cannot open the database {where}: {_first_line(exc)}")
        return None
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if state == PG_DISK_FULL:
        return DiskFull(where)
    if state == PG_READ_ONLY:
        return DatabaseReadOnly(where)
    if state in PG_CORRUPT:
        return DatabaseDamaged(where)
    return None


def translate_os_error(exc: OSError, where: str) -> StorageError:
    """A file-system error met while opening a database (creating its folder, say)."""
    if exc.errno == errno.ENOSPC:
        return DiskFull(where)
    if exc.errno == errno.EROFS:
        return DatabaseReadOnly(where)
    return StorageError(f"cannot open the database {where}: {exc.strerror or exc}")


def install_translation(engine: Engine) -> None:
    """Raise the faults above, from any use of the engine, as their StorageError."""
    where = describe(engine)

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        error = translate(context.original_exception, where)
        if error is not None:
            raise error from context.original_exception


def _nearly_full(where: str) -> bool:
    try:
        return shutil.disk_usage(Path(where).parent).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
