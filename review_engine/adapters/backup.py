"""The database's own copying tools: SQLite's online backup API, PostgreSQL's pg_dump and
pg_restore.

A SQLite copy is taken with the backup API in one step: it reads one consistent snapshot while
other processes go on writing (WAL), never by copying the file. PostgreSQL is dumped in pg_dump's
custom format and restored with pg_restore in a single transaction (all or nothing). Both tools
run as subprocesses without a shell; the database URL's parts go to them as a libpq URI without
its password, and the password through PGPASSWORD, so it never shows in a process listing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from review_engine.errors import InvalidInput, StorageError

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
PG_CONNECT_TIMEOUT_SECONDS = "10"
PG_CLIENT_HINT = "install the PostgreSQL client tools (e.g. apt-get install postgresql-client)"


def sqlite_path(url: str) -> Path:
    """The file a sqlite:/// URL names; an in-memory database has none to copy."""
    try:
        database = make_url(url).database
    except ArgumentError as exc:
        raise InvalidInput(f"cannot read the database URL: {exc}") from None
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InvalidInput("only a SQLite database in a file can be backed up or restored")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy the SQLite database at `source` into the new file `target` with the online backup
    API, in one step (one snapshot, however busy the source is); the copy is a single file
    (rollback journal, not WAL), ready to be packed."""
    if not source.is_file():
        raise StorageError(f"the database {source} does not exist")
    try:
        with (
            closing(sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)  # pages=-1: every page in one step, from one read transaction
            dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot copy the database {source}: {exc}") from exc


def sqlite_checkpoint(file: Path) -> None:
    """Fold the database's write-ahead log into the file and empty it."""
    try:
        with closing(sqlite3.connect(file, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as conn:
            conn.isolation_level = None
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot open the database {file}: {exc}") from exc


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for `url` without its password, and the environment to run a tool in (the
    password in PGPASSWORD, a connect timeout unless one is set)."""
    parsed: URL = make_url(url)
    plain = parsed.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    env.setdefault("PGCONNECT_TIMEOUT", PG_CONNECT_TIMEOUT_SECONDS)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StorageError(f"{name} was not found on this machine; {PG_CLIENT_HINT}")
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise StorageError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        # pg_dump and pg_restore say what went wrong on their first "error:" line.
        errors = [line for line in lines if "error:" in line]
        detail = (errors or lines or [f"exit status {done.returncode}"])[0]
        raise StorageError(f"{what}: {detail}")


def pg_dump(url: str, target: Path, *, snapshot: str | None = None) -> None:
    """Dump the PostgreSQL database at `url` into `target` (custom format, no owners or
    grants, so it restores into a database owned by anyone); with `snapshot` (from
    pg_export_snapshot() in a transaction the caller keeps open) it dumps exactly what that
    transaction sees."""
    uri, env = _libpq(url)
    argv = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    if snapshot is not None:
        argv.append(f"--snapshot={snapshot}")
    argv += [f"--file={target}", f"--dbname={uri}"]
    _run(argv, env, "pg_dump could not dump the database")


def pg_restore(url: str, source: Path) -> None:
    """Restore the custom-format dump `source` into the database at `url` in one transaction:
    it stops at the first error, and then nothing of it stays."""
    uri, env = _libpq(url)
    argv = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={uri}",
        str(source),
    ]
    _run(argv, env, "pg_restore could not restore the dump, nothing was restored")
