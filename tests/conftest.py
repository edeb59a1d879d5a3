"""Shared fixtures: a fresh database on each storage backend, a fake clock, sample data."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from review_engine.config import Settings, normalise_url
from review_engine.core.domain import Role
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin, calendars, clusters, people, schools
from review_engine.testing import FakeClock

SAMPLES = Path(__file__).resolve().parents[1] / "review_engine" / "samples"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FACILITATOR = "facilitator@example.org"
POSTGRES_ENV = "REVIEW_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    """A URL whose search_path is a schema of this test process's own, or None."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        return None
    sep = "&" if "?" in base else "?"
    return normalise_url(base) + f"{sep}options=-csearch_path%3Dpytest_{os.getpid()}"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    schema = f"pytest_{os.getpid()}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schema() -> Iterator[None]:
    """Leave the shared server as we found it: drop this process's schema at the end."""
    yield
    url = _postgres_url()
    if url is None:
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS pytest_{os.getpid()} CASCADE"))
    except OperationalError:
        pass  # no server: nothing was created
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test session, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "review.sqlite"
    admin.init_database(
        Settings(database_url=f"sqlite:///{path}", data_dir=path.parent), rehearsal=True
    )
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database with the backup API (never by copying a WAL-mode file)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a SQLite file, or a schema on the PostgreSQL server."""
    if request.param == "sqlite":
        target = tmp_path / "review.sqlite"
        copy_sqlite(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = _postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run)")
    try:
        _reset_postgres(url)
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {os.environ[POSTGRES_ENV]}: {exc.orig}")
    admin.init_database(Settings(database_url=url, data_dir=tmp_path), rehearsal=True)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 9, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path)


@pytest.fixture
def rt(settings: Settings, clock: FakeClock) -> Iterator[Runtime]:
    runtime = Runtime.open(settings, clock=clock, actor=FACILITATOR)
    yield runtime
    runtime.db.engine.dispose()


@pytest.fixture
def sample_cluster(rt: Runtime) -> list[int]:
    """The shipped sample schools in a cluster 'Northbrook' run by the facilitator."""
    schools.import_gias(rt.acting_as(OPERATOR), path=SAMPLES / "gias-sample.csv")
    people.add_person(
        rt.acting_as(OPERATOR), email=FACILITATOR, name="Fran Facilitator", role=Role.FACILITATOR
    )
    clusters.create_cluster(
        rt.acting_as(OPERATOR), name="Northbrook", facilitator_email=FACILITATOR
    )
    open_urns = [s.urn for s in schools.list_schools(rt) if s.status != "Closed"]
    clusters.add_schools(rt, cluster="Northbrook", urns=open_urns)
    use_sample_calendar(rt)
    return sorted(open_urns)


def use_sample_calendar(rt: Runtime, las: tuple[str, ...] = ("352", "356", "358")) -> None:
    """The sample term dates (2026-27 and 2027-28) as 'Sample LA', followed by the schools of
    `las`: a cycle starts only for a year a term calendar covers."""
    operator = rt.acting_as(OPERATOR)
    calendars.import_calendar(operator, name="Sample LA", path=SAMPLES / "term-dates-2026-27.csv")
    for la in las:
        calendars.assign_calendar(operator, name="Sample LA", la_code=la)
