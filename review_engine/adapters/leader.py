"""The scheduler's leader lock: at most one scheduler per database, across processes and
machines. A PostgreSQL session advisory lock on a connection of its own, or a file lock beside
the SQLite database (a sidecar file names the holder)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

SCHEDULER_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"review-engine scheduler").digest()[:8], "big", signed=True
)
LOCK_FILE_NAME = "scheduler.lock"


class LeaderLock(Protocol):
    """At most one holder across processes and machines."""

    def acquire(self, wait: bool) -> bool:
        """Take the lock; with ``wait=False`` return False at once if someone else holds it."""
        ...

    def release(self) -> None:
        """Give the lock up (safe to call when not held)."""
        ...

    def holder(self) -> str:
        """Who holds the lock, for messages; best effort."""
        ...


def whoami() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class FileLeaderLock:
    """A leader lock on a file (for SQLite); a sidecar file names the holder."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.sidecar = self.path.with_name(self.path.name + ".holder")
        self._lock = FileLock(str(self.path), thread_local=False)

    def acquire(self, wait: bool) -> bool:
        """Take the file lock, blocking when ``wait`` is true; write who we are beside it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(blocking=wait)
        except Timeout:
            return False
        since = datetime.now(UTC).isoformat(timespec="seconds")
        tmp = self.sidecar.with_name(f"{self.sidecar.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{whoami()}, since {since}\n", encoding="utf-8")
        os.replace(tmp, self.sidecar)
        return True

    def release(self) -> None:
        """Remove the holder note and release the file lock."""
        if not self._lock.is_locked:
            return
        with contextlib.suppress(FileNotFoundError):
            self.sidecar.unlink()
        self._lock.release(force=True)

    def holder(self) -> str:
        """The holder note written by the process that took the lock."""
        try:
            note = self.sidecar.read_text(encoding="utf-8").strip()
        except OSError:
            note = ""
        return f"{note or 'holder unknown'}; lock file {self.path}"


class PostgresAdvisoryLock:
    """A PostgreSQL session advisory lock on a dedicated connection held while leading."""

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None

    def acquire(self, wait: bool) -> bool:
        """Take the advisory lock (pg_advisory_lock if ``wait``, else pg_try_advisory_lock)."""
        if self._conn is not None:
            return True
        # AUTOCOMMIT: a session lock outlives transactions, and we never sit idle in one.
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
                got = True
            else:
                got = bool(
                    conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
                )
            if got:
                name = f"review scheduler {whoami()}"[:63]
                conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": name})
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        """Unlock and close the dedicated connection (closing alone would also unlock)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:
            log.warning("could not unlock advisory lock %s; closing its connection", self.key)
        finally:
            conn.close()

    def holder(self) -> str:
        """The backend holding the lock, from pg_locks and pg_stat_activity."""
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        query = text(
            "SELECT a.pid, a.application_name, a.client_addr, a.backend_start"
            " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid::text::bigint = :hi AND l.objid::text::bigint = :lo"
        )
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    query, {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}
                ).first()
        except Exception as exc:
            return f"advisory lock {self.key}; holder unknown ({type(exc).__name__})"
        if row is None:
            return f"advisory lock {self.key}; no holder now"
        pid, app, addr, started = row
        where = f" from {addr}" if addr else ""
        since = f", since {started.isoformat(timespec='seconds')}" if started else ""
        return f"{app or 'unnamed session'}, PostgreSQL backend {pid}{where}{since}"


def leader_lock_for(engine: Engine, data_dir: Path | str) -> LeaderLock:
    """The leader lock for this database: advisory lock on PostgreSQL, else a lock file.

    For a SQLite file the lock file sits beside the database, so every process using that file
    agrees on it whatever its data directory; otherwise it goes in ``data_dir``.
    """
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine, SCHEDULER_LOCK_KEY)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        db_path = Path(database)
        return FileLeaderLock(db_path.with_name(f"{db_path.name}.{LOCK_FILE_NAME}"))
    return FileLeaderLock(Path(data_dir) / LOCK_FILE_NAME)
