"""Backup and restore: a backup restored into an empty database holds every row of every table
and a history that verifies, on SQLite and PostgreSQL; a database that is not empty, a damaged
file, or a restore that does not check out are refused in one line, leaving nothing behind
(SQLite); a SQLite backup taken while another connection writes restores and checks out;
the nightly backup keeps the newest few."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from review_engine.config import Settings, normalise_url
from review_engine.core.domain import Role
from review_engine.errors import InvalidInput, NotPermitted, StorageError
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin, clusters, cycles, history, people, schools, transitions
from review_engine.services import backup as backups
from review_engine.store.db import SCHEMA_HEAD
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR, POSTGRES_ENV, SAMPLES, copy_sqlite, use_sample_calendar

CYCLE = "Northbrook/2026-27"


@dataclass
class Backend:
    name: str
    source: str  # the URL of the database backed up
    fresh: Callable[[], str]  # a new, empty database to restore into


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Backend]:
    if request.param == "sqlite":
        source = tmp_path / "source.sqlite"
        copy_sqlite(sqlite_template, source)
        made = iter(range(1, 100))
        yield Backend(
            "sqlite",
            f"sqlite:///{source}",
            lambda: f"sqlite:///{tmp_path / 'restored' / f'review-{next(made)}.sqlite'}",
        )
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run)")
    server = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def fresh() -> str:
        name = f"review_restore_{secrets.token_hex(5)}"
        with server.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        created.append(name)
        return make_url(normalise_url(base)).set(database=name).render_as_string(False)

    try:
        source = fresh()
    except OperationalError as exc:
        server.dispose()
        pytest.skip(f"no PostgreSQL server answers at {base}: {exc.orig}")
    admin.init_database(Settings(database_url=source, data_dir=tmp_path), rehearsal=True)
    try:
        yield Backend("postgres", source, fresh)
    finally:
        with server.connect() as conn:
            for name in created:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


def _settings(url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(database_url=url, data_dir=tmp_path / "data", **extra)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 9, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def source(backend: Backend, tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    """The sample cluster with a cycle started, its self-review opened and five schools
    started on theirs (history in its hash chain), as the facilitator sees it."""
    rt = Runtime.open(_settings(backend.source, tmp_path), clock=clock, actor=FACILITATOR)
    operator = rt.acting_as(OPERATOR)
    schools.import_gias(operator, path=SAMPLES / "gias-sample.csv")
    people.add_person(operator, email=FACILITATOR, name="Fran Facilitator", role=Role.FACILITATOR)
    clusters.create_cluster(operator, name="Northbrook", facilitator_email=FACILITATOR)
    urns = sorted(s.urn for s in schools.list_schools(rt) if s.status != "Closed")
    clusters.add_schools(rt, cluster="Northbrook", urns=urns)
    use_sample_calendar(rt)
    cycles.start_cycle(rt, cluster="Northbrook", year="2026-27")
    clock.advance(days=2)
    transitions.fire(rt, cycle=CYCLE, machine="cycle", trigger="open_self_review")
    for urn in urns[:5]:
        transitions.fire(rt, cycle=CYCLE, machine="self_review", trigger="start", school_urn=urn)
        clock.advance(minutes=5)
    yield rt
    rt.db.engine.dispose()


def _every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in a stable order."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: sorted(
                    (tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))),
                    key=repr,
                )
                for name in sorted(inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_a_backup_restored_into_an_empty_database_holds_every_row(
    backend: Backend, source: Runtime, tmp_path: Path
) -> None:
    file = tmp_path / "review.backup"
    report = backups.backup(source.acting_as(OPERATOR), path=file)
    assert file.is_file() and report.path == file
    assert report.history_rows == 7 and report.cycles == 1
    assert f"backup written to {file}" in str(report)
    assert oct(file.stat().st_mode & 0o777) == "0o600"  # personal data: its owner alone
    with tarfile.open(file) as tar:
        assert tar.getnames() == ["manifest.json", backups.MEMBERS[source.db.dialect]]
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.loads(member.read())
    assert manifest["schema_revision"] == SCHEMA_HEAD
    assert manifest["dialect"] == source.db.dialect
    assert manifest["history"]["rows"] == 7
    assert manifest["tables"]["school"] > 0 and manifest["tables"]["transitionlog"] == 7
    [chain] = history.verify(source.acting_as(SCHEDULER))
    assert manifest["history"]["cycles"] == {CYCLE: {"rows": 7, "head": chain.head}}

    target = backend.fresh()
    restored = backups.restore(_settings(backend.source, tmp_path), path=file, database_url=target)
    assert restored.rows == sum(manifest["tables"].values())
    assert "checked: schema revision, rows of every table, history hash chains" in str(restored)

    assert _every_row(target) == _every_row(backend.source)
    again = Runtime.open(_settings(target, tmp_path), actor=FACILITATOR)
    try:
        [check] = history.verify(again, cycle=CYCLE)
        assert check.ok and check.rows == 7 and check.head == chain.head
        assert history.history(again, cycle=CYCLE) == history.history(source, cycle=CYCLE)
        # The restored database works: the next change chains onto the restored head.
        transitions.fire(again, cycle=CYCLE, machine="cycle", trigger="open_peer_review")
        [check] = history.verify(again, cycle=CYCLE)
        assert check.ok and check.rows == 8
    finally:
        again.db.engine.dispose()


def test_a_database_that_is_not_empty_is_refused(
    backend: Backend, source: Runtime, tmp_path: Path
) -> None:
    file = tmp_path / "review.backup"
    backups.backup(source.acting_as(OPERATOR), path=file)
    before = _every_row(backend.source)
    with pytest.raises(InvalidInput, match=r"is not empty .* restore only into a new, empty"):
        backups.restore(_settings(backend.source, tmp_path), path=file)
    assert _every_row(backend.source) == before


def test_a_history_that_does_not_verify_is_refused(
    backend: Backend, source: Runtime, tmp_path: Path
) -> None:
    # A row slipped in by hand, without a hash: the backup copies it, the restore's check
    # names it.
    _sql(
        backend.source,
        "INSERT INTO transitionlog (cycle_id, school_urn, machine, from_state, to_state, "
        "trigger, actor, reason, at) SELECT cycle_id, school_urn, machine, from_state, to_state, "
        "trigger, actor, 'forged', at FROM transitionlog WHERE id = (SELECT max(id) FROM "
        "transitionlog)",
    )
    file = tmp_path / "review.backup"
    backups.backup(source.acting_as(OPERATOR), path=file)
    target = backend.fresh()
    with pytest.raises(StorageError) as refused:
        backups.restore(_settings(backend.source, tmp_path), path=file, database_url=target)
    message = str(refused.value)
    assert message.startswith("restore check failed: history does not verify: row 8 of ")
    assert "(forged)" in message and "\n" not in message
    if backend.name == "sqlite":  # checked before it was moved into place: nothing left
        folder = Path(make_url(target).database or "").parent
        assert list(folder.iterdir()) == []
    else:
        assert "drop and recreate it" in message


def _rewrite(file: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the manifest of a backup, keeping it otherwise intact."""
    with tarfile.open(file) as tar:
        manifest_member = tar.extractfile("manifest.json")
        assert manifest_member is not None
        manifest = json.loads(manifest_member.read())
        database = tar.getmembers()[1]
        data = tar.extractfile(database)
        assert data is not None
        payload = data.read()
    change(manifest)
    encoded = json.dumps(manifest).encode()
    with tarfile.open(file, "w:gz") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(encoded)
        tar.addfile(info, _reader(encoded))
        tar.addfile(database, _reader(payload))


def _reader(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


@pytest.fixture
def sqlite_backup(tmp_path: Path, sqlite_template: Path) -> tuple[Path, Settings]:
    """A backup of a new SQLite database, and settings whose database does not exist yet."""
    source = tmp_path / "source.sqlite"
    copy_sqlite(sqlite_template, source)
    rt = Runtime.open(_settings(f"sqlite:///{source}", tmp_path), actor=OPERATOR)
    file = tmp_path / "review.backup"
    backups.backup(rt, path=file)
    rt.db.engine.dispose()
    return file, _settings(f"sqlite:///{tmp_path / 'restored' / 'review.sqlite'}", tmp_path)


def _restored_folder(settings: Settings) -> list[Path]:
    folder = Path(make_url(settings.url).database or "").parent
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: f.write_text("name,urn\nA,1\n"), "damaged or truncated"),
        (lambda f: f.write_bytes(f.read_bytes()[: f.stat().st_size // 2]), "truncated"),
        (
            lambda f: f.write_bytes(f.read_bytes()[:200] + b"\x00" * 64 + f.read_bytes()[264:]),
            "damaged",
        ),
        (
            lambda f: _rewrite(f, lambda m: m.update(format_version=9, product_version="9.0")),
            "backup format 9 (made by review-engine 9.0); this version reads format 1",
        ),
        (
            lambda f: _rewrite(f, lambda m: m.update(schema_revision="0007")),
            f"its schema is 0007 and this version runs {SCHEMA_HEAD}",
        ),
        (lambda f: _rewrite(f, lambda m: m.pop("tables")), "manifest.json is incomplete"),
        (lambda f: _rewrite(f, lambda m: m.update(format="zip")), "not a review-engine manifest"),
        (
            lambda f: _rewrite(f, lambda m: m["database"].update(sha256="0" * 64)),
            "database.sqlite does not match its manifest",
        ),
    ],
    ids=[
        "not-a-backup",
        "truncated",
        "bytes-overwritten",
        "newer-format",
        "older-schema",
        "manifest-incomplete",
        "other-format",
        "checksum",
    ],
)
def test_a_damaged_or_foreign_file_is_refused_in_one_line(
    sqlite_backup: tuple[Path, Settings], damage: Callable[[Path], None], expected: str
) -> None:
    file, settings = sqlite_backup
    damage(file)
    with pytest.raises(InvalidInput) as refused:
        backups.restore(settings, path=file)
    assert expected in str(refused.value)
    assert str(refused.value).startswith(f"{file} is not a usable review backup: ")
    assert "\n" not in str(refused.value)
    assert _restored_folder(settings) == []


def test_an_empty_sqlite_file_is_restored_into(sqlite_backup: tuple[Path, Settings]) -> None:
    file, settings = sqlite_backup
    target = Path(make_url(settings.url).database or "")
    target.parent.mkdir()
    with closing(sqlite3.connect(target)) as conn:  # an empty database, in WAL mode
        conn.execute("PRAGMA journal_mode=WAL")
    backups.restore(settings, path=file)
    assert [p.name for p in _restored_folder(settings)] == ["review.sqlite"]
    rt = Runtime.open(settings, actor=OPERATOR)  # the schema check passes
    rt.db.engine.dispose()


def test_row_counts_that_differ_from_the_manifest_are_refused(
    sqlite_backup: tuple[Path, Settings],
) -> None:
    file, settings = sqlite_backup
    _rewrite(file, lambda m: m["tables"].update(person=3))
    expected = r"^restore check failed: table person has 0 rows, the backup says 3 rows$"
    with pytest.raises(StorageError, match=expected):
        backups.restore(settings, path=file)
    assert _restored_folder(settings) == []


def test_only_the_operator_restores_and_an_admin_backs_up(
    sqlite_backup: tuple[Path, Settings], source: Runtime, tmp_path: Path
) -> None:
    file, settings = sqlite_backup
    with pytest.raises(NotPermitted, match="may not restore a database: only the operator"):
        backups.restore(settings, path=file, actor=FACILITATOR)
    with pytest.raises(NotPermitted, match="may not back up the database: only a programme admin"):
        backups.backup(source, path=tmp_path / "mine.backup")
    with pytest.raises(NotPermitted, match="may not take the nightly backup"):
        backups.nightly_backup(
            Runtime(
                source.db, source.clock, FACILITATOR, _with_dir(source, tmp_path), source.catalog
            )
        )
    assert not (tmp_path / "mine.backup").exists()
    people.add_person(
        source.acting_as(OPERATOR), email="admin@example.org", name="Ada Admin", role=Role.ADMIN
    )
    backups.backup(source.acting_as("admin@example.org"), path=tmp_path / "mine.backup")
    assert (tmp_path / "mine.backup").is_file()


def _with_dir(rt: Runtime, tmp_path: Path, keep: int = 7) -> Settings:
    return rt.settings.model_copy(update={"backup_dir": tmp_path / "nightly", "backup_keep": keep})


def test_an_existing_file_is_replaced_only_with_force(source: Runtime, tmp_path: Path) -> None:
    file = tmp_path / "review.backup"
    file.write_text("keep me")
    operator = source.acting_as(OPERATOR)
    with pytest.raises(InvalidInput, match="already exists; choose another name or use --force"):
        backups.backup(operator, path=file)
    assert file.read_text() == "keep me"
    backups.backup(operator, path=file, force=True)
    assert tarfile.is_tarfile(file)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_nightly_backup_keeps_the_newest(
    source: Runtime, tmp_path: Path, clock: FakeClock
) -> None:
    settings = _with_dir(source, tmp_path, keep=3)
    scheduler = Runtime(source.db, clock, SCHEDULER, settings, source.catalog)
    folder = tmp_path / "nightly"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    lines = []
    for _ in range(5):
        lines.append(backups.nightly_backup(scheduler))
        clock.advance(days=1)
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "review-2026-09-05.backup",
        "review-2026-09-06.backup",
        "review-2026-09-07.backup",
    ]
    assert lines[0].startswith("nightly backup review-2026-09-03.backup written (")
    assert lines[-1].endswith(f"3 kept in {folder}, deleted 1 older")
    # A second run on one day replaces that day's backup.
    clock.advance(days=-1)
    assert "3 kept" in backups.nightly_backup(scheduler)
    unset = Runtime(source.db, clock, SCHEDULER, source.settings, source.catalog)
    assert backups.nightly_backup(unset) == "no nightly backup: REVIEW_BACKUP_DIR is not set"


def test_a_sqlite_backup_taken_while_another_connection_writes_is_consistent(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "busy.sqlite"
    copy_sqlite(sqlite_template, database)
    rt = Runtime.open(_settings(f"sqlite:///{database}", tmp_path), actor=OPERATOR)
    stop = threading.Event()
    written = 0

    def write() -> None:
        nonlocal written
        with closing(sqlite3.connect(database, timeout=30)) as conn:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO databasesetting (name, value) VALUES (?, 'x')", (f"k{written}",)
                )
                conn.commit()
                written += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        files = []
        for n in range(3):
            files.append(tmp_path / f"busy-{n}.backup")
            backups.backup(rt, path=files[-1])
    finally:
        stop.set()
        writer.join()
        rt.db.engine.dispose()
    assert written > 0
    for n, file in enumerate(files):
        target = f"sqlite:///{tmp_path / 'restored' / f'busy-{n}.sqlite'}"
        restored = backups.restore(rt.settings, path=file, database_url=target)
        assert restored.rows > 0  # row counts, schema and history checked against the copy


def test_a_database_that_cannot_be_reached_is_named(
    backend: Backend, source: Runtime, tmp_path: Path
) -> None:
    file = tmp_path / "review.backup"
    backups.backup(source.acting_as(OPERATOR), path=file)
    if backend.name == "sqlite":
        target = f"sqlite:///{tmp_path / 'a-file.txt' / 'review.sqlite'}"
        (tmp_path / "a-file.txt").write_text("not a folder")
        expected = "cannot open the database"
    else:
        target = (
            make_url(backend.source).set(database="review_restore_missing").render_as_string(False)
        )
        expected = 'database "review_restore_missing" does not exist; create it (empty) first'
    with pytest.raises(StorageError) as refused:
        backups.restore(_settings(backend.source, tmp_path), path=file, database_url=target)
    assert expected in str(refused.value) and "\n" not in str(refused.value)
