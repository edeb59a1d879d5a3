"""The dashboard issues a fixed number of SQL statements however large the programme: the
programme view (a programme admin over every cluster) for 3 clusters and for 30, and the
facilitator's view (with its CSV and a school's year page) for a cluster of 8 schools and of
40, on SQLite and PostgreSQL.

The programme is built as bench/web_load.py builds the national one: schools and people by
Core inserts, clusters and cycles through the services; the clock stands after the SEF
deadline, so every school's self-review is overdue and the waiting list is full.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from review_engine.core.domain import Role
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import calendars, clusters, cycles, transitions
from review_engine.store.models import Person, School
from review_engine.testing import FakeClock
from review_engine.web.app import create_app
from tests.conftest import SAMPLES
from tests.http.conftest import BASE, sign_in
from tests.http.test_page_statements import counting
from tests.integration.phase_helpers import (
    CALENDAR,
    START,
    YEAR,
    Template,
    _empty_database,
    open_runtime,
)

ADMIN = "admin@programme.example"
SIZE = 5  # schools per cluster, as in the national programme (1,300 in 260)
FIRST_URN = 600_000
LA = "352"  # follows the Sample LA term dates
LATE = datetime(2026, 11, 2, 9, tzinfo=UTC)  # after the SEF deadline (end of Autumn 1)


@dataclass(frozen=True)
class Programme:
    clusters: int
    rt: Runtime
    app: FastAPI


def build_programme(rt: Runtime, n_clusters: int) -> None:
    """n clusters of 5 schools, each with a head and a facilitator, each 2026-27 cycle
    started with self-review open, some SEFs submitted; and a programme admin."""
    urns = [FIRST_URN + n for n in range(n_clusters * SIZE)]
    with rt.db.engine.begin() as conn:
        conn.execute(
            insert(School),
            [{"urn": u, "name": f"Programme School {u}", "la_code": LA, "is_closed": False}
             for u in urns],
        )  # fmt: skip
        conn.execute(
            insert(Person),
            [{"email": f"head.{u}@programme.example", "name": f"Head of {u}",
              "role": Role.HEAD.value, "school_urn": u, "active": True} for u in urns]
            + [{"email": f"facilitator.{c}@programme.example", "name": f"Facilitator {c}",
                "role": Role.FACILITATOR.value, "school_urn": None, "active": True}
               for c in range(n_clusters)]
            + [{"email": ADMIN, "name": "Ada Admin", "role": Role.ADMIN.value,
                "school_urn": None, "active": True}],
        )  # fmt: skip
    operator = rt.acting_as(OPERATOR)
    calendars.import_calendar(operator, name=CALENDAR, path=SAMPLES / "term-dates-2026-27.csv")
    calendars.assign_calendar(operator, name=CALENDAR, la_code=LA)
    for c in range(n_clusters):
        name = f"Cluster {c:03d}"
        facilitator = rt.acting_as(f"facilitator.{c}@programme.example")
        clusters.create_cluster(
            operator, name=name, facilitator_email=f"facilitator.{c}@programme.example"
        )
        clusters.add_schools(facilitator, cluster=name, urns=urns[c * SIZE : (c + 1) * SIZE])
        label = cycles.start_cycle(facilitator, cluster=name, year=YEAR).cycle
        transitions.fire(facilitator, cycle=label, machine="cycle", trigger="open_self_review")


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def programmes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Programme, Programme]]:
    folder = tmp_path_factory.mktemp("programme")
    url, remove = _empty_database(request.param, request, folder)
    request.addfinalizer(remove)
    template = Template(request.param, url, folder)
    built = []
    for n in (3, 30):
        copy = template.copy()
        request.addfinalizer(lambda copy=copy: template.discard(copy))  # type: ignore[misc]
        clock = FakeClock(START)
        (folder / str(n)).mkdir()
        rt = open_runtime(copy, folder / str(n), clock)
        request.addfinalizer(rt.db.engine.dispose)
        build_programme(rt, n)
        clock.set(LATE)
        built.append(Programme(n, rt, create_app(rt.settings, clock=clock)))
    yield built[0], built[1]


def count(app: FastAPI, rt: Runtime, email: str, paths: list[str]) -> dict[str, tuple[int, int]]:
    """(status, statements) of each GET, asked twice and the second counted."""
    found = {}
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        sign_in(rt, client, email)
        for path in paths:
            client.get(path)
            with counting(app.state.runtime.db.engine) as seen:
                status = client.get(path).status_code
            found[path] = (status, len(seen))
    return found


PROGRAMME_PATHS = [
    "/dashboard",
    "/dashboard?overdue=1",
    "/dashboard?state=self_review:submitted&la=352",
    "/dashboard.csv",
]


def test_the_programme_view_issues_as_many_statements_for_30_clusters_as_for_3(
    programmes: tuple[Programme, Programme],
) -> None:
    small, large = programmes
    a = count(small.app, small.rt, ADMIN, PROGRAMME_PATHS)
    b = count(large.app, large.rt, ADMIN, PROGRAMME_PATHS)
    table = "\n".join(
        f"  {p}: {a[p][1]} statements ({small.clusters} clusters), "
        f"{b[p][1]} ({large.clusters} clusters)"
        for p in PROGRAMME_PATHS
    )
    print(f"\n{small.rt.db.engine.dialect.name}, the programme view:\n{table}")
    assert all(a[p][0] == b[p][0] == 200 for p in PROGRAMME_PATHS), (a, b)
    assert a == b, f"statements grow with the programme:\n{table}"
    with TestClient(large.app, base_url=BASE, follow_redirects=False) as client:
        sign_in(large.rt, client, ADMIN)
        page = client.get("/dashboard").text
    assert page.count("<tr") > large.clusters * SIZE  # every school is on the page
    assert "Cluster 029" in page
    assert "Waiting for the head of Programme School 600000 (Head of 600000) to submit" in page
