"""Backups of the whole database, checked when restored; the scheduler's nightly backup.

A backup is one gzipped tar file holding `manifest.json` and the database: `database.sqlite`
(a copy taken with SQLite's online backup API) or `database.dump` (pg_dump's custom format,
of the same snapshot the manifest was counted in). The manifest says what a restore must find:
the schema revision, the rows of every table, and each cycle's history (its rows and the hash
its chain ends with), with the SHA-256 of the database file.

`restore` goes only into an empty database and then checks it: the schema revision is the
backup's and this code's, every table holds the backup's rows, and every cycle's history
verifies and ends where the backup's did. A SQLite restore is checked before it is moved into
place, so a failed one leaves nothing behind; PostgreSQL restores in one transaction.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, func, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, col, create_engine, select

from review_engine.adapters import backup as tools
from review_engine.clock import LONDON, SystemClock
from review_engine.config import Settings, normalise_url
from review_engine.errors import (
    DatabaseDamaged,
    InvalidInput,
    NotPermitted,
    ReviewEngineError,
    StorageError,
)
from review_engine.rules import policy
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import history
from review_engine.services._lookup import cycle_label
from review_engine.store import db as dbmod
from review_engine.store.history_chain import GENESIS
from review_engine.store.models import Cluster, Cycle, TransitionLog

FORMAT = "review-engine backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.dump"}
DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
NIGHTLY = re.compile(r"^review-(\d{4}-\d{2}-\d{2})\.backup$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Chain:
    """One cycle's history as the backup holds it."""

    rows: int
    head: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, and what a restore must find."""

    dialect: str
    schema_revision: str
    tables: dict[str, int]
    history_rows: int
    chains: dict[str, Chain]  # cycle (Cluster/year) -> its history
    created_at: str
    product_version: str
    database_file: str
    database_bytes: int
    database_sha256: str
    format_version: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "product_version": self.product_version,
            "created_at": self.created_at,
            "dialect": self.dialect,
            "schema_revision": self.schema_revision,
            "database": {
                "file": self.database_file,
                "bytes": self.database_bytes,
                "sha256": self.database_sha256,
            },
            "tables": self.tables,
            "history": {
                "rows": self.history_rows,
                "cycles": {
                    label: {"rows": c.rows, "head": c.head} for label, c in self.chains.items()
                },
            },
        }


@dataclass(frozen=True)
class BackupReport:
    path: Path
    dialect: str
    tables: int
    rows: int
    history_rows: int
    cycles: int
    bytes: int

    def __str__(self) -> str:
        return (
            f"backup written to {self.path} ({DIALECT_NAMES[self.dialect]}, {_size(self.bytes)}): "
            f"{self.tables} tables, {_rows(self.rows)}, {self.history_rows:,} history "
            f"{_plural(self.history_rows, 'row')} in {self.cycles} {_plural(self.cycles, 'cycle')}"
        )


@dataclass(frozen=True)
class RestoreReport:
    database: str
    dialect: str
    created_at: str
    product_version: str
    tables: int
    rows: int
    history_rows: int
    cycles: int
    checks: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"restored the backup of {_when(self.created_at)} (review-engine "
            f"{self.product_version}) into {self.database}: {self.tables} tables, "
            f"{_rows(self.rows)}, {self.history_rows:,} history "
            f"{_plural(self.history_rows, 'row')} in {self.cycles} "
            f"{_plural(self.cycles, 'cycle')}; checked: {', '.join(self.checks)}"
        )


# --- backing up ---------------------------------------------------------------------------------


def backup(rt: Runtime, *, path: Path, force: bool = False) -> BackupReport:
    """Write a backup of the whole database to `path` (a programme admin or the operator):
    atomically, and never over an existing file unless `force`."""
    with rt.db.transaction() as session:
        policy.require_admin(policy.resolve_actor(session, rt.actor), "back up the database")
    return _write(rt, Path(path), force=force)


def nightly_backup(rt: Runtime) -> str:
    """The scheduler's nightly job: `review-YYYY-MM-DD.backup` (today in London) in
    REVIEW_BACKUP_DIR, replacing one taken earlier today; keeps the newest REVIEW_BACKUP_KEEP
    backups there and deletes older ones. Returns one line saying what it did."""
    folder = rt.settings.backup_dir
    if folder is None:
        return "no nightly backup: REVIEW_BACKUP_DIR is not set"
    with rt.db.transaction() as session:
        policy.require_runs_the_schedule(
            policy.resolve_actor(session, rt.actor), "take the nightly backup"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the backup folder {folder}: {exc.strerror}") from exc
    day = rt.clock.now().astimezone(LONDON).date()
    report = _write(rt, folder / f"review-{day:%Y-%m-%d}.backup", force=True)
    deleted = rotate(folder, keep=rt.settings.backup_keep)
    kept = len(_nightly_files(folder))
    gone = f", deleted {len(deleted)} older" if deleted else ""
    return (
        f"nightly backup {report.path.name} written ({_size(report.bytes)}, "
        f"{_rows(report.rows)}); {kept} kept in {folder}{gone}"
    )


def rotate(folder: Path, *, keep: int) -> list[Path]:
    """Delete all but the newest `keep` nightly backups in `folder` (by the date in their
    names; other files are left alone); returns those deleted."""
    old = _nightly_files(folder)[max(keep, 1) :]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def _nightly_files(folder: Path) -> list[Path]:
    """The nightly backups in `folder`, newest first."""
    found = [p for p in folder.iterdir() if NIGHTLY.match(p.name) and p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def _write(rt: Runtime, path: Path, *, force: bool) -> BackupReport:
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give the backup file's name")
    if path.exists() and not force:
        raise InvalidInput(f"{path} already exists; choose another name or use --force")
    if not path.parent.is_dir():
        raise InvalidInput(f"the folder {path.parent} does not exist")
    dialect = rt.db.dialect
    if dialect not in MEMBERS:
        raise InvalidInput(f"cannot back up a {dialect} database")
    member = MEMBERS[dialect]
    with _work_folder(path.parent) as work:
        copy = work / member
        if dialect == "sqlite":
            tools.sqlite_copy(tools.sqlite_path(rt.settings.url), copy)
            engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    census = _census(conn)
            finally:
                engine.dispose()
        else:
            # The manifest is counted in the very snapshot pg_dump copies.
            with rt.db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                    census = _census(conn)
                    tools.pg_dump(rt.settings.url, copy, snapshot=snapshot)
        size, digest = _digest(copy)
        manifest = Manifest(
            dialect=dialect,
            schema_revision=census.revision,
            tables=census.tables,
            history_rows=sum(c.rows for c in census.chains.values()),
            chains=census.chains,
            created_at=rt.clock.now().astimezone(LONDON).isoformat(timespec="seconds"),
            product_version=_product_version(),
            database_file=member,
            database_bytes=size,
            database_sha256=digest,
        )
        packed = work / "backup.tmp"
        _pack(packed, manifest, copy)
        _publish(packed, path, force=force)
    return BackupReport(
        path=path,
        dialect=dialect,
        tables=len(manifest.tables),
        rows=manifest.rows,
        history_rows=manifest.history_rows,
        cycles=len(manifest.chains),
        bytes=path.stat().st_size,
    )


@dataclass(frozen=True)
class _Census:
    revision: str
    tables: dict[str, int]
    chains: dict[str, Chain]


def _census(conn: Connection) -> _Census:
    """The schema revision, every table's rows (one query) and each cycle's history (rows and
    the hash its chain ends with, two queries), as `conn` sees the database."""
    revision = ", ".join(
        sorted(conn.execute(text(f"SELECT version_num FROM {dbmod.VERSION_TABLE}")).scalars())
    )
    names = sorted(inspect(conn).get_table_names())
    quote = conn.dialect.identifier_preparer.quote
    counted = " UNION ALL ".join(
        f"SELECT {n}, count(*) FROM {quote(name)}" for n, name in enumerate(names)
    )
    tables: dict[str, int] = {names[n]: c for n, c in conn.execute(text(counted))} if names else {}
    rows = conn.execute(
        select(Cycle.id, Cycle.academic_year, Cluster.name, func.count(col(TransitionLog.id)))
        .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
        .outerjoin(TransitionLog, col(TransitionLog.cycle_id) == Cycle.id)
        .group_by(col(Cycle.id), col(Cycle.academic_year), col(Cluster.name))
        .order_by(col(Cycle.id))
    ).all()
    last = (
        select(func.max(TransitionLog.id))
        .where(col(TransitionLog.hash).is_not(None))
        .group_by(col(TransitionLog.cycle_id))
    )
    heads: dict[int, str] = {
        c: h
        for c, h in conn.execute(
            select(TransitionLog.cycle_id, TransitionLog.hash).where(
                col(TransitionLog.id).in_(last)
            )
        )
    }
    chains = {
        cycle_label(name, year): Chain(rows=count, head=heads.get(cycle_id, GENESIS))
        for cycle_id, year, name, count in rows
    }
    return _Census(revision=revision, tables=tables, chains=chains)


def _pack(target: Path, manifest: Manifest, database: Path) -> None:
    """The backup file: a gzipped tar with the manifest first, then the database."""
    data = json.dumps(manifest.as_json(), indent=2, ensure_ascii=False).encode()
    with open(target, "wb") as raw:
        with (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as zipped,
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, _Bytes(data))
            info = tar.gettarinfo(str(database), arcname=manifest.database_file)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o600
            with open(database, "rb") as handle:
                tar.addfile(info, handle)
        raw.flush()
        os.fsync(raw.fileno())


class _Bytes:
    """A file-like view of bytes for tarfile.addfile."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk = self._data[self._at : end]
        self._at += len(chunk)
        return chunk


def _publish(packed: Path, path: Path, *, force: bool) -> None:
    """Put the finished file in place at once; without `force`, never over a file that
    appeared meanwhile (a hard link fails if the name is taken)."""
    os.chmod(packed, 0o600)  # a backup holds personal data: its owner alone reads it
    try:
        if force:
            os.replace(packed, path)
        else:
            try:
                os.link(packed, path)
            except FileExistsError:
                raise InvalidInput(
                    f"{path} already exists; choose another name or use --force"
                ) from None
            except OSError:  # a filesystem without hard links
                if path.exists():
                    raise InvalidInput(
                        f"{path} already exists; choose another name or use --force"
                    ) from None
                os.replace(packed, path)
        _sync_folder(path.parent)
    except OSError as exc:
        raise StorageError(f"cannot write the backup {path}: {exc.strerror or exc}") from exc


# --- reading a backup ---------------------------------------------------------------------------


def _bad(path: Path, why: str) -> InvalidInput:
    return InvalidInput(f"{path} is not a usable review backup: {why}")


@contextmanager
def _open_backup(path: Path) -> Iterator[tuple[Manifest, IO[bytes]]]:
    """The backup's manifest, and its database member to read."""
    if not path.is_file():
        raise InvalidInput(f"backup file {path} not found")
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise _bad(path, f"it does not start with {MANIFEST}")
            if first.size > 64 * _CHUNK:
                raise _bad(path, f"its {MANIFEST} is too large")
            handle = tar.extractfile(first)
            assert handle is not None
            manifest = _read_manifest(path, handle.read())
            member = tar.next()
            if member is None or member.name != manifest.database_file or not member.isfile():
                raise _bad(path, f"it holds no {manifest.database_file} (truncated?)")
            database = tar.extractfile(member)
            assert database is not None
            yield manifest, database
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _bad(path, f"damaged or truncated ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_manifest(path: Path, data: bytes) -> Manifest:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise _bad(path, f"its {MANIFEST} is not JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise _bad(path, f"its {MANIFEST} is not a review-engine manifest")
    made_by = str(raw.get("product_version", "unknown"))
    if raw.get("format_version") != FORMAT_VERSION:
        raise _bad(
            path,
            f"it is in backup format {raw.get('format_version')!r} (made by review-engine "
            f"{made_by}); this version reads format {FORMAT_VERSION}",
        )
    try:
        chains = {
            str(label): Chain(rows=_int(c["rows"]), head=str(c["head"]))
            for label, c in raw["history"]["cycles"].items()
        }
        manifest = Manifest(
            dialect=str(raw["dialect"]),
            schema_revision=str(raw["schema_revision"]),
            tables={str(k): _int(v) for k, v in raw["tables"].items()},
            history_rows=_int(raw["history"]["rows"]),
            chains=chains,
            created_at=str(raw["created_at"]),
            product_version=made_by,
            database_file=str(raw["database"]["file"]),
            database_bytes=_int(raw["database"]["bytes"]),
            database_sha256=str(raw["database"]["sha256"]),
        )
    except (KeyError, TypeError, AttributeError, ValueError):
        raise _bad(path, f"its {MANIFEST} is incomplete") from None
    if manifest.dialect not in MEMBERS or manifest.database_file != MEMBERS[manifest.dialect]:
        raise _bad(path, f"its {MANIFEST} names an unknown kind of database")
    return manifest


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(value)
    return value


def _extract(path: Path, manifest: Manifest, database: IO[bytes], target: Path) -> None:
    """Write the database member to `target`, checking its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(target, "wb") as out:
            while chunk := database.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _bad(path, f"damaged or truncated ({exc or type(exc).__name__})") from None
    if size != manifest.database_bytes or digest.hexdigest() != manifest.database_sha256:
        raise _bad(path, f"its {manifest.database_file} does not match its manifest (damaged)")


# --- restoring ----------------------------------------------------------------------------------


def restore(
    settings: Settings, *, path: Path, database_url: str | None = None, actor: str | None = None
) -> RestoreReport:
    """Restore the backup at `path` into an empty database (`database_url`, else the
    configured one), then check it. Only the operator restores: an empty database has nobody
    registered in it yet."""
    name = actor or settings.actor or OPERATOR
    if name != OPERATOR:
        raise NotPermitted(
            name,
            "restore a database",
            "only the operator at the database may (run it without --as or REVIEW_ACTOR)",
        )
    path = Path(path)
    url = normalise_url(database_url) if database_url else settings.url
    engine = dbmod.make_engine(url)
    try:
        with Session(engine) as session:  # the operator is resolved without reading it
            policy.require_admin(policy.resolve_actor(session, name), "restore a database")
    finally:
        engine.dispose()
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    target = settings.model_copy(update={"database_url": url, "now": None})
    with _open_backup(path) as (manifest, database):
        if manifest.schema_revision != dbmod.SCHEMA_HEAD:
            raise _bad(
                path,
                f"its schema is {manifest.schema_revision} and this version runs "
                f"{dbmod.SCHEMA_HEAD}; restore it with review-engine {manifest.product_version}",
            )
        if manifest.dialect != dialect:
            raise InvalidInput(
                f"{path} is a {DIALECT_NAMES[manifest.dialect]} backup and cannot be restored "
                f"into a {DIALECT_NAMES[dialect]} database"
            )
        ours = set(manifest.tables) | set(SQLModel.metadata.tables) | {dbmod.VERSION_TABLE}
        if dialect == "sqlite":
            checks = _restore_sqlite(path, manifest, database, target, ours)
        else:
            checks = _restore_postgres(path, manifest, database, target, ours)
    return RestoreReport(
        database=_redact(url),
        dialect=dialect,
        created_at=manifest.created_at,
        product_version=manifest.product_version,
        tables=len(manifest.tables),
        rows=manifest.rows,
        history_rows=manifest.history_rows,
        cycles=len(manifest.chains),
        checks=checks,
    )


def _restore_sqlite(
    path: Path, manifest: Manifest, database: IO[bytes], target: Settings, ours: set[str]
) -> list[str]:
    """Unpack next to the target, check the copy there, and only then move it into place."""
    file = tools.sqlite_path(target.url)
    _refuse_filled(target.url, ours, exists=file.exists())
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the folder {file.parent}: {exc.strerror}") from exc
    staged = file.with_name(f".{file.name}.restore-{secrets.token_hex(6)}")
    try:
        _extract(path, manifest, database, staged)
        checks = _check(target.model_copy(update={"database_url": f"sqlite:///{staged}"}), manifest)
        _settle_sqlite(file)
        os.replace(staged, file)
        _sync_folder(file.parent)
    except ReviewEngineError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot write {file}: {exc.strerror or exc}; nothing restored") from exc
    finally:
        for leftover in (staged, *_sidecars(staged)):
            leftover.unlink(missing_ok=True)
    return checks


def _settle_sqlite(file: Path) -> None:
    """An empty database about to be replaced: let SQLite fold its write-ahead log in (and
    remove it), so no stale log is replayed over the restored file."""
    if file.exists():
        tools.sqlite_checkpoint(file)
    for sidecar in _sidecars(file):
        sidecar.unlink(missing_ok=True)


def _sidecars(file: Path) -> list[Path]:
    """The files SQLite keeps beside a database while it is open."""
    return [file.with_name(file.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _restore_postgres(
    path: Path, manifest: Manifest, database: IO[bytes], target: Settings, ours: set[str]
) -> list[str]:
    _refuse_filled(target.url, ours, exists=True)
    with tempfile.TemporaryDirectory(prefix="review-restore-") as folder:
        dump = Path(folder) / manifest.database_file
        _extract(path, manifest, database, dump)
        tools.pg_restore(target.url, dump)
    try:
        return _check(target, manifest)
    except ReviewEngineError as exc:
        raise StorageError(
            f"{exc}; the database now holds this unchecked copy: drop and recreate it "
            "(DROP DATABASE, CREATE DATABASE) before restoring again"
        ) from exc


def _refuse_filled(url: str, ours: set[str], *, exists: bool) -> None:
    """One clear line if the target already holds any of our tables."""
    if not exists:
        return
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn:
            found = sorted(ours & set(inspect(conn).get_table_names()))
    except DatabaseDamaged:
        raise InvalidInput(
            f"{_redact(url)} is not an empty database (it is not a database at all); restore "
            "only into a new, empty database"
        ) from None
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        hint = "; create it (empty) first" if "does not exist" in reason else ""
        raise StorageError(f"cannot open the database {_redact(url)}: {reason}{hint}") from exc
    finally:
        engine.dispose()
    if found:
        raise InvalidInput(
            f"the database {_redact(url)} is not empty (it has {len(found)} of our tables, e.g. "
            f"{found[0]}); restore only into a new, empty database"
        )


def _check(settings: Settings, manifest: Manifest) -> list[str]:
    """The restored database against the manifest: schema revision, rows of every table, and
    each cycle's history (its chain verifies, with the backup's rows and head)."""
    engine = dbmod.make_engine(settings.url)
    try:
        revision = dbmod.current_revision(engine)
        if revision != manifest.schema_revision or revision != dbmod.SCHEMA_HEAD:
            raise StorageError(
                f"restore check failed: the schema revision is {revision or 'missing'}, the "
                f"backup says {manifest.schema_revision} and this version runs "
                f"{dbmod.SCHEMA_HEAD}"
            )
        with engine.connect() as conn:
            census = _census(conn)
    finally:
        engine.dispose()
    for table in sorted(set(manifest.tables) | set(census.tables)):
        want, got = manifest.tables.get(table), census.tables.get(table)
        if want != got:
            raise StorageError(
                f"restore check failed: table {table} has {_rows(got)}, the backup says "
                f"{_rows(want)}"
            )
    rt = Runtime.open(settings, clock=SystemClock(), actor=policy.SCHEDULER)
    try:
        verified = history.verify(rt)
    finally:
        rt.db.engine.dispose()
    for check in verified:
        if check.problems:
            raise StorageError(
                f"restore check failed: history does not verify: {check.problems[0]}"
            )
        chain = manifest.chains.get(check.cycle)
        if chain is None or (chain.rows, chain.head) != (check.rows, check.head):
            raise StorageError(
                f"restore check failed: the history of {check.cycle} ends elsewhere than the "
                "backup's"
            )
    if len(verified) != len(manifest.chains):
        raise StorageError(
            f"restore check failed: {len(verified)} cycles have history, the backup has "
            f"{len(manifest.chains)}"
        )
    return ["schema revision", "rows of every table", "history hash chains"]


# --- small helpers ------------------------------------------------------------------------------


@contextmanager
def _work_folder(beside: Path) -> Iterator[Path]:
    """A private folder next to the backup (same disk: the final rename is atomic)."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=".review-backup-", dir=beside))
    except OSError as exc:
        raise StorageError(f"cannot write in {beside}: {exc.strerror or exc}") from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _digest(file: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(file, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _product_version() -> str:
    try:
        return dist_version("review-engine")
    except PackageNotFoundError:
        return "unknown"


def _rows(count: int | None) -> str:
    if count is None:
        return "no such table"
    return f"{count:,} {_plural(count, 'row')}"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _when(created_at: str) -> str:
    """The manifest's ISO time as people read it (London)."""
    try:
        return f"{datetime.fromisoformat(created_at).astimezone(LONDON):%d %b %Y %H:%M}"
    except ValueError:
        return created_at


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = size / 1024
    for unit in ("KB", "MB"):
        if scaled < 1024:
            return f"{scaled:.1f} {unit}"
        scaled /= 1024
    return f"{scaled:.1f} GB"


def _redact(url: str) -> str:
    """The URL as people typed it: no password, no driver name."""
    url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
