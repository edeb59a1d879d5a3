"""Every page and API read issues a fixed number of SQL statements, however many schools the
cluster has: each GET route is counted on the sample cluster (8 schools) and on the same
cluster grown to 40, as the same head and the same facilitator, and the counts must match.

Both databases hold Northbrook's 2026-27 cycle with self-review open and every school's SEF
submitted, so the pages have a row per school to read. Routes that answer an error in one of
the set-ups (a record not there yet, say) are compared only where both answer alike and below
400; at least a handful must answer, or the test would prove nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, insert
from starlette.routing import BaseRoute

from review_engine.core.domain import Role
from review_engine.core.sef_file import SefFormat
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import clusters, people, sef
from review_engine.store.models import School
from review_engine.testing import FakeClock
from review_engine.web.app import create_app
from tests.conftest import FACILITATOR
from tests.http.conftest import BASE, sign_in
from tests.integration.phase_helpers import (
    CLUSTER,
    CYCLE,
    HEADS,
    START,
    Template,
    _empty_database,
    build_cluster,
    open_runtime,
    sample_sef,
    start_cycle,
    submit_sef,
)

HOST = min(HEADS)  # the head whose school every per-school route is asked about
EXTRA = 32  # schools added for the larger cluster: 8 + 32 = 40
FIRST_EXTRA = 990_300
PEOPLE = {"head": HEADS[HOST], "facilitator": FACILITATOR}
# Path parameters as the records give them; a route with any other parameter is left out.
PARAMS = {"cycle": CYCLE, "urn": str(HOST), "host": str(HOST), "version": "1", "fmt": "pdf"}
# A link's own page; the load balancer's check; a download that renders every document of the
# cycle (a PDF each, in worker processes): its cost is the rendering, read school by school.
SKIP = {"/sign-in/{token}", "/healthz", "/cycles/{cycle:path}/documents.zip"}


def extra_head(urn: int) -> str:
    return f"head.{urn}@grown.example"


def grow_cluster(rt: Runtime) -> None:
    """32 more open schools in the Sample LA, each with a head, joined to Northbrook."""
    urns = [FIRST_EXTRA + n for n in range(EXTRA)]
    with rt.db.engine.begin() as conn:
        conn.execute(
            insert(School),
            [{"urn": u, "name": f"Grown School {u}", "la_code": "352", "is_closed": False}
             for u in urns],
        )  # fmt: skip
    for urn in urns:
        people.add_person(
            rt.acting_as(OPERATOR),
            email=extra_head(urn),
            name=f"Head of {urn}",
            role=Role.HEAD,
            school_urn=urn,
        )
    clusters.add_schools(rt, cluster=CLUSTER, urns=urns)


def submit_every_sef(rt: Runtime, grown: bool) -> None:
    for urn in sorted(HEADS):
        submit_sef(rt, CYCLE, urn)
    for n in range(EXTRA if grown else 0):
        urn = FIRST_EXTRA + n
        sef.submit_sef(
            rt.acting_as(extra_head(urn)),
            cycle=CYCLE,
            urn=urn,
            text=sample_sef(min(HEADS)),
            fmt=SefFormat.MD,
        )


@dataclass(frozen=True)
class Site:
    size: int
    rt: Runtime
    app: FastAPI


def _build(template: Template, request: pytest.FixtureRequest, grown: bool) -> Site:
    url = template.copy()
    request.addfinalizer(lambda: template.discard(url))
    clock = FakeClock(START)
    folder = template.folder / ("large" if grown else "small")
    folder.mkdir()
    rt = open_runtime(url, folder, clock)
    request.addfinalizer(rt.db.engine.dispose)
    build_cluster(rt)
    if grown:
        grow_cluster(rt)
    start_cycle(rt)
    submit_every_sef(rt, grown)
    size = len(HEADS) + (EXTRA if grown else 0)
    return Site(size, rt, create_app(rt.settings, clock=clock))


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def sites(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Site, Site]:
    """The sample cluster and the grown one, each with its web app, on one backend: two
    copies of one empty, migrated database."""
    folder = tmp_path_factory.mktemp("statements")
    url, remove = _empty_database(request.param, request, folder)
    request.addfinalizer(remove)
    template = Template(request.param, url, folder)
    return _build(template, request, grown=False), _build(template, request, grown=True)


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI 0.16x keeps an included router
    as one entry holding the original; the app includes them without a prefix of its own)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from api_routes(inner.routes)


def get_paths(app: FastAPI) -> list[str]:
    """Every GET route of the app with its path parameters filled in from the records."""
    paths = []
    for route in api_routes(app.routes):
        if "GET" not in (route.methods or ()) or route.path in SKIP:
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", route.path)
        if all(n in PARAMS for n in names):
            paths.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS[m.group(1)], route.path))
    return sorted(set(paths))


def statements(site: Site, client: TestClient, path: str) -> tuple[int, int]:
    """(status, SQL statements) of a GET, asked twice: the second is counted, so a cache
    filled on first use counts the same on both sites."""
    client.get(path)
    with counting(site.app.state.runtime.db.engine) as seen:
        status = client.get(path).status_code
    return status, len(seen)


@pytest.mark.parametrize("person", sorted(PEOPLE), ids=sorted(PEOPLE))
def test_every_page_issues_as_many_statements_for_40_schools_as_for_8(
    sites: tuple[Site, Site], person: str
) -> None:
    small, large = sites
    assert get_paths(small.app) == get_paths(large.app)
    counts: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    clients = []
    for site in (small, large):
        client = TestClient(site.app, base_url=BASE, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        sign_in(site.rt, client, PEOPLE[person])
    try:
        for path in get_paths(small.app):
            counts[path] = (
                statements(small, clients[0], path),
                statements(large, clients[1], path),
            )
    finally:
        for client in clients:
            client.__exit__(None, None, None)

    table = "\n".join(
        f"  {path}: {s_status} {s_count} statements ({small.size} schools), "
        f"{l_status} {l_count} statements ({large.size} schools)"
        for path, ((s_status, s_count), (l_status, l_count)) in counts.items()
    )
    backend = small.rt.db.engine.dialect.name
    print(f"\n{backend}, as the {person}:\n{table}")
    compared = {p: c for p, c in counts.items() if c[0][0] == c[1][0] and c[0][0] < 400}
    differ = [p for p, ((_, a), (_, b)) in compared.items() if a != b]
    assert not differ, f"as the {person}, statements grow with the cluster:\n{table}"
    answered = [p for p, ((status, _), _) in compared.items() if status == 200]
    assert len(answered) >= 5, f"as the {person}, too few pages answered 200:\n{table}"
