"""The dashboard as a facilitator and a programme admin see it: every school by phase in
words with a RAG status, filters, what is overdue or waiting and on whom, the charts with
their tables, the CSV, and one school's whole year; 404 for anyone else."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from review_engine.core.domain import Rag, Role, SharingLevel
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import actions, cycles, people, schools
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR, SAMPLES
from tests.http.conftest import SignedIn
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
ADMIN = "admin@programme.example"
RAW_STATES = ("not_started", "awaiting_triad", "awaiting_draft", "awaiting_plan", "triad_assigned")
AFTER_SEF_DEADLINE = datetime(2026, 11, 2, 9, tzinfo=UTC)  # Autumn 1 has ended


def names(rt: Runtime) -> dict[int, str]:
    return {s.urn: s.name for s in schools.list_schools(rt)}


def head_name(urn: int) -> str:
    with (SAMPLES / "people.csv").open(encoding="utf-8", newline="") as handle:
        return next(r["name"] for r in csv.DictReader(handle) if r["email"] == HEADS[urn])


def year_url(urn: int) -> str:
    return f"/cycles/{CYCLE}/schools/{urn}"


def rows_of(html: str) -> list[str]:
    """The text of each row of the grid (the first table of the page)."""
    grid = html.split('class="dashboard-grid"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"<[^>]+>", " ", r) for r in grid.split("<tr")[2:]]


def test_a_facilitator_sees_every_school_by_phase_in_words(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    submit_sef(cycle_rt, CYCLE, URNS[0])
    page = signed_in(FACILITATOR).get("/dashboard")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<h1") == 1
    assert "Dashboard: Northbrook, 2026-27" in html
    for name in names(cycle_rt).values():
        if name in html:
            break
    rows = rows_of(html)
    assert len(rows) == len(URNS)
    for urn in URNS:
        assert f'href="{year_url(urn)}"' in html
    # The workflow's parts are the columns, each cell in words with its status.
    for heading in ("Self-review", "Peer visit", "Write-up", "Support"):
        assert f'<th scope="col">{heading}</th>' in html
    assert "Submitted: to accept or return" in html
    assert "Not started" in html and "Waiting for the triad" in html
    grid = html.split('class="dashboard-grid"', 1)[1].split("</table>", 1)[0]
    assert not [s for s in RAW_STATES if s in grid], "a state's internal name is shown"
    assert 'class="tag tag-amber">In progress' in grid
    assert 'class="tag tag-grey">Not started' in grid
    # What waits on the facilitator, in their words.
    first = names(cycle_rt)[URNS[0]]
    assert f"Waiting for you to accept or return the SEF of {first}" in html
    # Charts: inline SVG with a title and description, and the figures in tables.
    assert html.count("<svg") == 5
    assert 'role="img"' in html and '<title id="chart-progress-title">' in html
    assert "<caption>Support actions by RAG status</caption>" in html


def test_an_overdue_sef_is_red_marked_and_waits_on_the_head(
    cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn
) -> None:
    for urn in URNS[1:]:
        submit_sef(cycle_rt, CYCLE, urn)
    clock.set(AFTER_SEF_DEADLINE)
    late = URNS[0]
    school = names(cycle_rt)[late]
    head = head_name(late)
    client = signed_in(FACILITATOR)
    html = client.get("/dashboard").text
    row = next(r for r in rows_of(html) if school in r)
    assert "Overdue" in row and "Not started" in row
    assert 'tag-red">Overdue</span> <span class="overdue-mark"' in html
    waiting = html.split('id="waiting-heading"', 1)[1]
    line = f"Waiting for the head of {school} ({head}) to submit the SEF"
    assert line in waiting
    entry = waiting.split(line, 1)[1].split("</tr>", 1)[0]
    assert "Overdue" in entry and "2026" in entry  # with its due date
    # Overdue only: the late school alone.
    only = rows_of(client.get("/dashboard?overdue=1").text)
    assert len(only) == 1 and school in only[0]


def test_filters_by_phase_state_and_la(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    submit_sef(cycle_rt, CYCLE, URNS[2])
    client = signed_in(FACILITATOR)
    submitted = rows_of(client.get("/dashboard?state=self_review:submitted").text)
    assert len(submitted) == 1 and names(cycle_rt)[URNS[2]] in submitted[0]
    in_progress = client.get("/dashboard?phase=self_review&state=in_progress").text
    assert len(rows_of(in_progress)) == 1
    assert '<th scope="col">Peer visit</th>' not in in_progress  # only the chosen phase
    assert '<option value="self_review" selected>' in in_progress
    none = client.get("/dashboard?state=done").text
    assert "No school matches these filters." in none
    by_la = {s.urn: s.la_name for s in schools.list_schools(cycle_rt)}
    la = by_la[URNS[0]]
    assert la is not None
    same_la = [u for u in URNS if by_la[u] == la]
    assert 0 < len(same_la) < len(URNS), "the sample cluster spans several LAs"
    shown = rows_of(client.get("/dashboard", params={"la": la}).text)
    assert len(shown) == len(same_la)


def test_the_csv_has_the_same_figures(
    cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn
) -> None:
    submit_sef(cycle_rt, CYCLE, URNS[1])
    clock.set(AFTER_SEF_DEADLINE)
    client = signed_in(FACILITATOR)
    answer = client.get("/dashboard.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="dashboard-northbrook-2026-27.csv"' in answer.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(table) == len(URNS)
    by_urn = {int(r["URN"]): r for r in table}
    assert by_urn[URNS[1]]["Self-review"] == "Submitted: to accept or return"
    assert by_urn[URNS[1]]["Self-review overdue"] == "no"
    assert by_urn[URNS[0]]["Self-review"] == "Not started"
    assert by_urn[URNS[0]]["Self-review status"] == "Overdue"
    assert by_urn[URNS[0]]["Self-review overdue"] == "yes"
    page = client.get("/dashboard").text
    overdue_rows = sum(1 for r in rows_of(page) if "Overdue" in r)
    assert overdue_rows == sum(1 for r in table if r["Self-review overdue"] == "yes")
    filtered = client.get("/dashboard.csv?overdue=1").content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(filtered)))) == overdue_rows


def test_a_schools_year_page(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    urn = URNS[3]
    submit_sef(cycle_rt, CYCLE, urn)
    visitors = set_rotation_triads(cycle_rt, CYCLE, URNS)[urn]
    page = signed_in(FACILITATOR).get(year_url(urn))
    assert page.status_code == 200, page.text
    html = page.text
    school = names(cycle_rt)[urn]
    assert f"<h1>{school}: the year</h1>" in html
    assert "Submitted: to accept or return" in html
    assert "Triad formed: focus to choose" in html
    assert f"{names(cycle_rt)[visitors[0]]} (lead reviewer)" in html
    waiting = html.split("<h2", 2)[1]  # the school's own list, before its phases
    assert f"Waiting for you to accept or return the SEF of {school}" in waiting
    others = [names(cycle_rt)[u] for u in URNS if u != urn]
    assert not [n for n in others if f"SEF of {n}" in waiting]
    assert f"/cycles/{CYCLE}/schools/{urn}/sef/versions/1" in html
    assert f"/cycles/{CYCLE}/schools/{urn}/visit" in html
    assert "No support actions yet." in html
    assert "not_started" not in html and "awaiting_triad" not in html
    # The head sees their own school's year.
    own = signed_in(HEADS[urn]).get(year_url(urn))
    assert own.status_code == 200 and "Version 1" in own.text


def test_a_head_is_refused_the_dashboard_and_other_schools_years(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    head = signed_in(HEADS[URNS[0]])
    assert head.get("/dashboard").status_code == 404
    assert head.get("/dashboard.csv").status_code == 404
    other = head.get(year_url(URNS[1]))
    nowhere = head.get(year_url(999_999))
    assert other.status_code == 404 and nowhere.status_code == 404
    assert other.text.replace(str(URNS[1]), "URN") == nowhere.text.replace("999999", "URN")
    assert names(cycle_rt)[URNS[1]] not in other.text


def test_another_clusters_facilitator_sees_nothing_of_northbrook(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(OTHER_FACILITATOR)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Your clusters have no review cycle yet." in page.text
    for urn, name in names(cycle_rt).items():
        if urn in URNS:
            assert name not in page.text and str(urn) not in page.text
    assert client.get(f"/dashboard?cycle={CYCLE}").status_code == 404
    assert client.get(year_url(URNS[0])).status_code == 404
    csv_text = client.get("/dashboard.csv").content.decode("utf-8-sig")
    assert all(names(cycle_rt)[u] not in csv_text for u in URNS)


def test_the_programme_view_lists_clusters(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    people.add_person(cycle_rt.acting_as(OPERATOR), email=ADMIN, name="Ada Admin", role=Role.ADMIN)
    client = signed_in(ADMIN)
    page = client.get("/dashboard")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Programme dashboard, 2026-27" in html
    assert '<option value="Northbrook">Northbrook</option>' in html
    assert '<th scope="col">Cluster</th>' in html
    assert len(rows_of(html)) == len(URNS)
    assert "Waiting for the facilitator (Fran Facilitator) to" not in html  # nothing submitted
    submit_sef(cycle_rt, CYCLE, URNS[0])
    html = client.get("/dashboard?cluster=Northbrook").text
    assert "Waiting for the facilitator (Fran Facilitator) to accept or return the SEF" in html
    assert client.get(year_url(URNS[0])).status_code == 200
    southgate = client.get("/dashboard?cluster=Southgate").text  # no cycle this year
    assert "No school matches these filters." in southgate
    assert names(cycle_rt)[URNS[0]] not in southgate


def test_a_completed_action_is_not_overdue(
    cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn
) -> None:
    host = URNS[0]
    submit_sef(cycle_rt, CYCLE, host)
    visitors = set_rotation_triads(cycle_rt, CYCLE, URNS)[host]
    hold_visit(cycle_rt, clock, CYCLE, host, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, host, visitors, SharingLevel.CLUSTER)
    as_host = cycle_rt.acting_as(HEADS[host])
    for n in (1, 2):
        actions.add_action(
            as_host, cycle=CYCLE, urn=host, ebi=1, title=f"Keep-up sessions {n}",
            owner="English lead", success_criteria="Seen in every class", due=date(2026, 12, 1),
        )  # fmt: skip
    clock.set(datetime(2026, 12, 10, 9, tzinfo=UTC))
    from review_engine.services import tick

    tick.tick(cycle_rt.acting_as("scheduler"))  # marks both actions overdue
    actions.update_action(
        as_host, cycle=CYCLE, urn=host, number=1, rag=Rag.COMPLETE, note="Done everywhere."
    )
    client = signed_in(FACILITATOR)
    html = client.get("/dashboard").text
    waiting = html.split('id="waiting-heading"', 1)[1].split("</table>", 1)[0]
    assert "complete action 2: Keep-up sessions 2" in waiting
    assert "action 1" not in waiting
    table = list(csv.DictReader(io.StringIO(client.get("/dashboard.csv").text.lstrip("\ufeff"))))
    row = next(r for r in table if int(r["URN"]) == host)
    assert (row["Actions complete"], row["Actions amber"], row["Actions overdue"]) == (
        "1",
        "1",
        "1",
    )
    # The cycle's status (and so `review cycle status`) agrees: one action overdue, not two.
    status = cycles.cycle_status(cycle_rt, cycle=CYCLE)
    assert len([o for o in status.overdue if "action" in o]) == 1
    year = client.get(year_url(host)).text
    assert "Keep-up sessions 1" in year and "Keep-up sessions 2" in year


def test_charts_escape_every_text_and_carry_their_title() -> None:
    from review_engine.core import charts

    svg = charts.stacked_bar_chart(
        "c1", "Title <b>", "Desc & more", ["<script>x</script>"],
        [charts.Series("Done", (3.0,), "#00703c"), charts.Series("In progress", (2.0,), "#f47738")],
    )  # fmt: skip
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="c1-title">Title &lt;b&gt;</title>' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg and "Desc &amp; more" in svg
    assert 'fill="#0b0c0c">2</text>' in svg  # dark figures on amber, for contrast
    line = charts.line_chart("c2", "t", "d", ["Sep", "Oct"], [charts.Series("a", (0.0, 3.0))])
    assert ">0.8<" not in line and ">4<" in line  # whole schools on the axis


def test_a_long_grid_is_paged_and_the_csv_keeps_every_school(
    cycle_rt: Runtime, signed_in: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review_engine.web.pages import dashboard as page

    monkeypatch.setattr(page, "PAGE_ROWS", 3)
    client = signed_in(FACILITATOR)
    first = client.get("/dashboard")
    assert "Schools 1 to 3 of 8." in first.text and "page 1 of 3" in first.text
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    last = client.get("/dashboard?page=3")
    assert "Schools 7 to 8 of 8." in last.text and 'rel="next"' not in last.text
    assert client.get("/dashboard?page=99").status_code == 200  # the last page, not an error
    csv_rows = client.get("/dashboard.csv").text.strip().splitlines()
    assert sum(1 for line in csv_rows if ",99010" in line) == 8
