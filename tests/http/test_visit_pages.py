"""The visit page as the triad uses it: the host sets the focus, books a day from those every
school of the triad is open, writes the agenda (a bad time is refused beside its row) and
records the visit as held; reviewers read the plan and take the pack and the invitation;
anyone else finds nothing."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from review_engine.core.phases import VisitState
from review_engine.runtime import Runtime
from review_engine.services import cycles, visits
from review_engine.testing import FakeClock
from review_engine.web.rendering import page_url
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    QUESTION,
    at,
    plan_visit,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
URL = page_url(CYCLE, HOST, "visit")
DAY = date(2026, 11, 10)  # a Tuesday every sample school is open


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _state(rt: Runtime) -> str:
    status = cycles.cycle_status(rt, cycle=CYCLE)
    return next(s.states["peer_visit"] for s in status.schools if s.urn == HOST)


def _offered(page: str) -> list[str]:
    select = re.search(r'<select id="f-visit_date".*?</select>', page, re.S)
    assert select, "no day to choose from"
    return re.findall(r'<option value="(\d{4}-\d\d-\d\d)"', select.group(0))


def _error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    assert found, f"no error shown beside {field_id}"
    return _text(found.group(1))


@pytest.fixture
def visitors(cycle_rt: Runtime) -> list[int]:
    """The host's triad (lead reviewer first), its SEF submitted."""
    submit_sef(cycle_rt, CYCLE, HOST)
    return set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST]


@pytest.fixture
def host(signed_in: SignedIn, visitors: list[int]) -> TestClient:
    return signed_in(HEADS[HOST])


def _agenda(page: str, client: TestClient, rows: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {"csrf_token": csrf_of(client, page), "rows": str(len(rows))}
    for n, (time, activity, who) in enumerate(rows, start=1):
        data |= {f"agenda-{n}-time": time, f"agenda-{n}-activity": activity, f"agenda-{n}-who": who}
    return data


def test_the_host_sets_the_focus_books_an_offered_day_and_writes_the_agenda(
    cycle_rt: Runtime, host: TestClient
) -> None:
    page = host.get(URL)
    assert page.status_code == 200
    assert "Triad formed: focus to choose" in _text(page.text)
    assert "Day of the visit" not in page.text  # a day comes after the focus
    token = csrf_of(host, page.text)
    focus = host.post(
        f"{URL}/focus",
        data={
            "csrf_token": token,
            "focus": "learning_walk",
            "area": "quality_of_education",
            "question": QUESTION,
        },
    )
    assert focus.status_code == 303
    page = host.get(focus.headers["location"]).text
    assert "The focus is saved." in page
    assert "Learning walk (Quality of education)" in _text(page)
    offered = _offered(page)
    assert DAY.isoformat() in offered
    assert "2026-11-14" not in offered  # a Saturday
    assert "2026-12-25" not in offered  # Christmas Day, in the holidays
    # Peer review runs from the start of Autumn 2 to the start of Spring 2.
    assert offered[0] == "2026-10-26" and offered[-1] <= "2027-02-22"
    assert "2026-10-01" not in offered  # self-review time
    assert "Week beginning Monday 9 November 2026" in page

    booked = host.post(
        f"{URL}/date", data={"csrf_token": token, "visit_date": DAY.isoformat(), "slot": "morning"}
    )
    assert booked.status_code == 303
    page = host.get(URL).text
    assert "Tuesday 10 November 2026, morning (09:00 to 12:30)" in _text(page)
    assert "Booked" in _text(page)

    rows = [("10:30", "Learning walk, Key Stage 1", "Head"), ("09:15", "Welcome", "Head")]
    saved = host.post(f"{URL}/agenda", data=_agenda(page, host, rows))
    assert saved.status_code == 303
    page = host.get(URL).text
    table = re.search(r"<table>.*?</table>", page, re.S)
    assert table
    assert re.findall(r'<th scope="row">(\d\d:\d\d)</th>', table.group(0)) == ["09:15", "10:30"]
    view = visits.show(cycle_rt, cycle=CYCLE, host=HOST)
    assert (view.state, view.visit_date, view.slot) == (VisitState.SCHEDULED, DAY, "morning")
    assert [a.activity for a in view.agenda] == ["Welcome", "Learning walk, Key Stage 1"]


def test_a_day_someone_is_closed_or_no_day_is_refused_beside_the_field(
    cycle_rt: Runtime, host: TestClient
) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)
    page = host.get(URL).text
    token = csrf_of(host, page)
    refused = host.post(
        f"{URL}/date", data={"csrf_token": token, "visit_date": "2026-12-25", "slot": "morning"}
    )
    assert refused.status_code == 400
    assert "is closed on Fri 25 Dec 2026 (Christmas Day)" in _error_beside(
        refused.text, "f-visit_date"
    )
    empty = host.post(f"{URL}/date", data={"csrf_token": token, "visit_date": "", "slot": ""})
    assert empty.status_code == 400
    assert "Choose a day" in _error_beside(empty.text, "f-visit_date")
    assert "Choose morning or afternoon" in _error_beside(empty.text, "f-slot")
    assert visits.show(cycle_rt, cycle=CYCLE, host=HOST).visit_date == DAY


def test_a_bad_agenda_time_is_refused_beside_its_row_and_nothing_is_saved(
    cycle_rt: Runtime, host: TestClient
) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)  # a morning visit
    page = host.get(URL).text
    rows = [
        ("09:30", "Welcome", "Head"),
        ("8:70", "Learning walk", "Head"),
        ("14:00", "Feedback", "Head"),
        ("", "", ""),
    ]
    refused = host.post(f"{URL}/agenda", data=_agenda(page, host, rows))
    assert refused.status_code == 400
    assert "'8:70' is not a time" in _error_beside(refused.text, "f-agenda-2")
    assert "outside the morning visit (09:00 to 12:30)" in _error_beside(refused.text, "f-agenda-3")
    assert 'id="f-agenda-1-error"' not in refused.text
    assert 'value="Learning walk"' in refused.text  # what was typed is kept
    assert 'href="#f-agenda-2"' in refused.text  # the summary links to the row
    assert visits.show(cycle_rt, cycle=CYCLE, host=HOST).agenda == []


def test_rows_are_added_and_removed_without_javascript(cycle_rt: Runtime, host: TestClient) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)
    page = host.get(URL).text
    assert page.count("<legend>Row ") == 1
    data = _agenda(page, host, [("09:30", "Welcome", "Head")])
    longer = host.post(f"{URL}/agenda", data={**data, "add_row": "1"})
    assert longer.status_code == 200
    assert longer.text.count("<legend>Row ") == 2
    assert "not saved yet" in longer.text
    data = _agenda(longer.text, host, [("09:30", "Welcome", "Head"), ("10:00", "Walk", "")])
    saved = host.post(f"{URL}/agenda", data={**data, "agenda-1-remove": "1"})
    assert saved.status_code == 303
    assert [a.activity for a in visits.show(cycle_rt, cycle=CYCLE, host=HOST).agenda] == ["Walk"]


def test_a_reviewer_reads_the_plan_and_takes_the_invite_and_the_pack(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)
    visits.set_agenda(
        cycle_rt.acting_as(HEADS[HOST]),
        cycle=CYCLE,
        host=HOST,
        items=[visits.AgendaItem("09:15", "Welcome and context", "Head")],
        host_staff=[],
    )
    reviewer = signed_in(HEADS[visitors[1]])
    page = reviewer.get(URL)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Welcome and context" in text and QUESTION in text
    assert "Plan the visit" not in text and "/focus" not in page.text  # read-only
    sef_link = page_url(CYCLE, HOST, "sef")
    assert f'href="{sef_link}"' in page.text
    assert reviewer.get(sef_link).status_code == 200

    invite = reviewer.get(f"{URL}/invite.ics")
    assert invite.status_code == 200
    assert invite.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in invite.text and "DTSTART" in invite.text
    pack = reviewer.get(f"{URL}/pack")
    assert pack.status_code == 200 and "Welcome and context" in pack.text
    pdf = reviewer.get(f"{URL}/pack.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_stranger_gets_404_for_the_page_and_its_downloads(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)
    outsider = next(u for u in URNS if u != HOST and u not in visitors)
    for email in (HEADS[outsider], OTHER_FACILITATOR):
        client = signed_in(email)
        page = client.get(URL)
        assert page.status_code == 404, email
        assert "There is no such page." in page.text
        for suffix in ("/invite.ics", "/pack", "/pack.pdf"):
            assert client.get(URL + suffix).status_code == 404, (email, suffix)
        token = csrf_of(client, page.text)
        sent = client.post(f"{URL}/cancel", data={"csrf_token": token, "reason": "No"})
        assert sent.status_code == 404
    assert _state(cycle_rt) == VisitState.SCHEDULED


def test_the_host_records_the_visit_as_held_once_the_day_has_come(
    cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn, host: TestClient
) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)
    before = host.get(URL).text
    assert "Record the visit as held" not in before
    assert "On the day, or after it, the host records the visit as held." in before
    clock.set(at(DAY))
    host = signed_in(HEADS[HOST])  # weeks later: a new session
    page = host.get(URL).text
    assert "Record the visit as held" in page
    held = host.post(f"{URL}/held", data={"csrf_token": csrf_of(host, page)})
    assert held.status_code == 303
    after = _text(host.get(URL).text)
    assert "Visit held" in after and "lead reviewer now writes up" in after
    assert _state(cycle_rt) == VisitState.VISITED


def test_the_facilitator_cancels_with_a_reason_which_everyone_sees(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    plan_visit(cycle_rt, CYCLE, HOST, DAY)
    facilitator = signed_in(FACILITATOR)
    page = facilitator.get(URL).text
    assert "Plan the visit" in page  # the facilitator can act as the host can
    token = csrf_of(facilitator, page)
    refused = facilitator.post(f"{URL}/cancel", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 400
    assert "Say why the visit is cancelled" in _error_beside(refused.text, "f-reason")
    reason = "The host school is closed for building work."
    done = facilitator.post(f"{URL}/cancel", data={"csrf_token": token, "reason": reason})
    assert done.status_code == 303
    reviewer = signed_in(HEADS[visitors[0]])
    seen = _text(reviewer.get(URL).text)
    assert "Cancelled" in seen and reason in seen
    assert "STATUS:CANCELLED" in reviewer.get(f"{URL}/invite.ics").text
    assert _state(cycle_rt) == VisitState.CANCELLED
