"""The facilitator's dashboard, its CSV and a school's year page issue a fixed number of SQL
statements: Northbrook as shipped (8 schools) and grown to 40, every SEF submitted (the set-up
of tests/http/test_page_statements.py), on SQLite and PostgreSQL. (A module of its own: each
module's PostgreSQL databases are named after it.)"""

from __future__ import annotations

import pytest

from tests.conftest import FACILITATOR
from tests.http.test_dashboard_statements import count
from tests.http.test_page_statements import Site, _build
from tests.integration.phase_helpers import CYCLE, HEADS, Template, _empty_database


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def clusters_8_and_40(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Site, Site]:
    """Northbrook as shipped (8 schools) and grown to 40, every SEF submitted (the page
    statements test's set-up)."""
    folder = tmp_path_factory.mktemp("facilitator")
    url, remove = _empty_database(request.param, request, folder)
    request.addfinalizer(remove)
    template = Template(request.param, url, folder)
    return _build(template, request, grown=False), _build(template, request, grown=True)


def test_the_facilitators_view_issues_as_many_statements_for_40_schools_as_for_8(
    clusters_8_and_40: tuple[Site, Site],
) -> None:
    small, large = clusters_8_and_40
    host = min(HEADS)
    paths = ["/dashboard", "/dashboard.csv", f"/cycles/{CYCLE}/schools/{host}"]
    a = count(small.app, small.rt, FACILITATOR, paths)
    b = count(large.app, large.rt, FACILITATOR, paths)
    table = "\n".join(
        f"  {p}: {a[p][1]} statements ({small.size} schools), {b[p][1]} ({large.size} schools)"
        for p in paths
    )
    print(f"\n{small.rt.db.engine.dialect.name}, the facilitator's view:\n{table}")
    assert all(a[p][0] == b[p][0] == 200 for p in paths), (a, b)
    assert a == b, f"statements grow with the cluster:\n{table}"
