"""Set-up shared by the phase and confidentiality tests: the shipped sample cluster with its
heads (review_engine/samples/people.csv), a started cycle, triads, visits and write-ups,
driven through the same services the CLI calls, as the people who would do each step."""

from __future__ import annotations

import csv
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from review_engine.config import Settings, normalise_url
from review_engine.core.domain import Role, SharingLevel, Slot, VisitFocus
from review_engine.core.sef_file import SefFormat
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import (
    admin,
    calendars,
    clusters,
    cycles,
    people,
    schools,
    sef,
    transitions,
    triads,
    visits,
    writeups,
)
from review_engine.store.models import Cluster, Cycle, Review
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR, POSTGRES_ENV, SAMPLES

CLUSTER = "Northbrook"
YEAR = "2026-27"
CYCLE = f"{CLUSTER}/{YEAR}"
CALENDAR = "Sample LA"
SAMPLE_LAS = ("352", "356", "358")  # every open sample school follows the Sample LA dates
QUESTION = "To what extent do pupils who fall behind in reading catch up quickly?"
DEPUTY = "deputy@northbrook.example"  # a deputy of 990101, from people.csv
OTHER_FACILITATOR = "facilitator@southgate.example"
OTHER_CLUSTER = "Southgate"
UNREGISTERED = "stranger@nowhere.example"
SECONDARY = {990103, 990108}
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # the clock of tests/conftest.py
# School days in the Sample LA calendar (Autumn 2 to Spring 1), all inside the peer-review window.
VISIT_DAYS = [
    date(2026, 11, 10),
    date(2026, 11, 17),
    date(2026, 11, 24),
    date(2026, 12, 3),
    date(2027, 1, 12),
    date(2027, 1, 19),
    date(2027, 1, 26),
    date(2027, 2, 2),
]


def read_heads() -> dict[int, str]:
    """Head teachers of the sample schools by URN, from people.csv."""
    with (SAMPLES / "people.csv").open(encoding="utf-8", newline="") as handle:
        return {int(r["urn"]): r["email"] for r in csv.DictReader(handle) if r["role"] == "head"}


HEADS = read_heads()


def at(day: date, hour: int = 16) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def build_cluster(rt: Runtime) -> list[int]:
    """Import the sample schools, people and term dates; a cluster of the open schools run by
    the facilitator, and another cluster (with its own facilitator) that shares none of it."""
    schools.import_gias(rt.acting_as(OPERATOR), path=SAMPLES / "gias-sample.csv")
    people.add_person(
        rt.acting_as(OPERATOR), email=FACILITATOR, name="Fran Facilitator", role=Role.FACILITATOR
    )
    people.add_person(
        rt.acting_as(OPERATOR), email=OTHER_FACILITATOR, name="Sol Other", role=Role.FACILITATOR
    )
    with (SAMPLES / "people.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            people.add_person(
                rt.acting_as(OPERATOR),
                email=row["email"],
                name=row["name"],
                role=Role(row["role"]),
                school_urn=int(row["urn"]),
            )
    clusters.create_cluster(rt.acting_as(OPERATOR), name=CLUSTER, facilitator_email=FACILITATOR)
    urns = sorted(s.urn for s in schools.list_schools(rt) if s.status != "Closed")
    clusters.add_schools(rt, cluster=CLUSTER, urns=urns)
    clusters.create_cluster(
        rt.acting_as(OPERATOR), name=OTHER_CLUSTER, facilitator_email=OTHER_FACILITATOR
    )
    calendars.import_calendar(
        rt.acting_as(OPERATOR), name=CALENDAR, path=SAMPLES / "term-dates-2026-27.csv"
    )
    for la in SAMPLE_LAS:
        calendars.assign_calendar(rt.acting_as(OPERATOR), name=CALENDAR, la_code=la)
    return urns


def start_cycle(rt: Runtime) -> str:
    """Start the cycle (its plan follows the term dates) and open self-review."""
    cycle = cycles.start_cycle(rt, cluster=CLUSTER, year=YEAR).cycle
    transitions.fire(rt, cycle=cycle, machine="cycle", trigger="open_self_review")
    return cycle


def sample_sef(urn: int) -> str:
    name = "sef-secondary.md" if urn in SECONDARY else "sef-primary.md"
    return (SAMPLES / name).read_text(encoding="utf-8")


def submit_sef(rt: Runtime, cycle: str, urn: int) -> sef.SefView:
    return sef.submit_sef(
        rt.acting_as(HEADS[urn]),
        cycle=cycle,
        urn=urn,
        text=sample_sef(urn),
        fmt=SefFormat.MD,
        source="sef.md",
    )


def rotation(urns: list[int]) -> dict[int, list[int]]:
    """Host i is visited by i+1 (the lead), i+2 and i+3: every school hosts 3 and visits 3,
    and school i+4 neither visits host i nor is visited by it."""
    n = len(urns)
    return {h: [urns[(i + k) % n] for k in (1, 2, 3)] for i, h in enumerate(urns)}


def set_rotation_triads(rt: Runtime, cycle: str, urns: list[int]) -> dict[int, list[int]]:
    """Form the triads by hand (`review triads set`), lead reviewer first in each list."""
    triads_by_host = rotation(urns)
    for host, visitors in triads_by_host.items():
        triads.set_triad(rt, cycle=cycle, host=host, visitors=visitors, lead=visitors[0])
    return triads_by_host


def propose_triads(rt: Runtime, cycle: str) -> dict[int, triads.TriadRow]:
    """Form the triads with the solver; the rows by host."""
    triads.propose(rt, cycle=cycle, visitors=3)
    return {row.host: row for row in triads.show(rt, cycle=cycle)}


def plan_visit(rt: Runtime, cycle: str, host: int, day: date) -> visits.VisitView:
    """The host sets its focus and dates its visit."""
    as_host = rt.acting_as(HEADS[host])
    visits.set_focus(
        as_host,
        cycle=cycle,
        host=host,
        focus=VisitFocus.LEARNING_WALK,
        question=QUESTION,
        area="quality_of_education",
    )
    return visits.schedule(as_host, cycle=cycle, host=host, on=day, slot=Slot.MORNING)


def hold_visit(rt: Runtime, clock: FakeClock, cycle: str, host: int, day: date) -> None:
    """Plan the visit, move the clock to the afternoon of the day, and record it happened."""
    plan_visit(rt, cycle, host, day)
    clock.set(at(day))
    visits.complete(rt.acting_as(HEADS[host]), cycle=cycle, host=host)


def sample_draft() -> writeups.Draft:
    return writeups.read_draft((SAMPLES / "writeup-sample.yaml").read_text(encoding="utf-8"))


def draft_writeup(rt: Runtime, cycle: str, host: int, lead: int) -> writeups.WriteUpView:
    d = sample_draft()
    return writeups.draft(
        rt.acting_as(HEADS[lead]),
        cycle=cycle,
        host=host,
        items=d.items,
        good_practice=d.good_practice,
        activities=d.activities,
        next_steps=d.next_steps,
    )


def agree_writeup(rt: Runtime, cycle: str, host: int, visitors: list[int]) -> None:
    """Every co-reviewer (all visitors but the lead, who is first) agrees, then the host."""
    for visitor in visitors[1:]:
        writeups.agree(rt.acting_as(HEADS[visitor]), cycle=cycle, host=host)
    writeups.agree(rt.acting_as(HEADS[host]), cycle=cycle, host=host)


def publish_writeup(
    rt: Runtime,
    cycle: str,
    host: int,
    visitors: list[int],
    sharing: SharingLevel,
    named: list[int] | None = None,
) -> writeups.WriteUpView:
    """Draft (lead), agree (co-reviewers, host) and publish (host) one write-up."""
    draft_writeup(rt, cycle, host, visitors[0])
    agree_writeup(rt, cycle, host, visitors)
    return writeups.publish(
        rt.acting_as(HEADS[host]), cycle=cycle, host=host, sharing=sharing, named=named
    )


def review_id(rt: Runtime, cycle: str, urn: int) -> int:
    name, year = cycle.rsplit("/", 1)
    with rt.db.transaction() as session:
        found = session.exec(
            select(Review.id)
            .join(Cycle, Cycle.id == Review.cycle_id)  # type: ignore[arg-type]
            .join(Cluster, Cluster.id == Cycle.cluster_id)  # type: ignore[arg-type]
            .where(Cluster.name == name, Cycle.academic_year == year, Review.school_urn == urn)
        ).one()
        assert found is not None
        return found


# --- databases: one built per module and backend, copied for each test --------------------


@dataclass
class Template:
    """A database built once (the sample cluster with its cycle started), copied for each
    test in a fraction of the time the set-up takes: a SQLite file copied with the backup
    API, or a PostgreSQL database created from it as a template."""

    backend: str
    url: str
    folder: Path
    copies: int = 0

    def copy(self) -> str:
        self.copies += 1
        if self.backend == "sqlite":
            target = self.folder / f"copy-{self.copies}.sqlite"
            with (
                closing(sqlite3.connect(_sqlite_path(self.url))) as source,
                closing(sqlite3.connect(target)) as copy,
            ):
                source.backup(copy)
            return f"sqlite:///{target}"
        name = f"{make_url(self.url).database}_{self.copies}"
        _server(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(self.url).database}"')
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def discard(self, url: str) -> None:
        if self.backend == "postgres":
            _server(f'DROP DATABASE IF EXISTS "{make_url(url).database}"')


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _server(statement: str) -> None:
    """Run one statement on the PostgreSQL server (outside a transaction, as CREATE DATABASE
    needs)."""
    engine = create_engine(normalise_url(os.environ[POSTGRES_ENV]), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _empty_database(
    backend: str, request: pytest.FixtureRequest, folder: Path
) -> tuple[str, Callable[[], None]]:
    """A new, migrated database for one module; and how to remove it."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'template.sqlite'}"
        admin.init_database(Settings(database_url=url, data_dir=folder), rehearsal=True)
        return url, lambda: None
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run)")
    module = request.module.__name__.rsplit(".", 1)[-1]
    name = f"pytest_{os.getpid()}_{module}"[:50]
    try:
        _server(f'DROP DATABASE IF EXISTS "{name}"')
        _server(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {base}: {exc.orig}")
    url = make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    admin.init_database(Settings(database_url=url, data_dir=folder), rehearsal=True)
    return url, lambda: _server(f'DROP DATABASE IF EXISTS "{name}"')


def open_runtime(url: str, folder: Path, clock: FakeClock) -> Runtime:
    return Runtime.open(Settings(database_url=url, data_dir=folder), clock=clock, actor=FACILITATOR)


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def cycle_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    """The sample cluster with its cycle started and self-review open, built once."""
    folder = tmp_path_factory.mktemp("template")
    url, remove = _empty_database(request.param, request, folder)
    runtime = open_runtime(url, folder, FakeClock(START))
    try:
        build_cluster(runtime)
        start_cycle(runtime)
    finally:
        runtime.db.engine.dispose()
    template = Template(request.param, url, folder)
    yield template
    remove()


@pytest.fixture
def cycle_rt(cycle_template: Template, clock: FakeClock, tmp_path: Path) -> Iterator[Runtime]:
    """A fresh copy of the template for one test, as the facilitator, on the test's clock."""
    url = cycle_template.copy()
    runtime = open_runtime(url, tmp_path, clock)
    yield runtime
    runtime.db.engine.dispose()
    cycle_template.discard(url)


@pytest.fixture(scope="module")
def module_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="module")
def module_rt(
    cycle_template: Template, module_clock: FakeClock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """One copy of the template kept for a whole module (for set-ups that tests only read)."""
    url = cycle_template.copy()
    runtime = open_runtime(url, tmp_path_factory.mktemp("module"), module_clock)
    yield runtime
    runtime.db.engine.dispose()
    cycle_template.discard(url)
