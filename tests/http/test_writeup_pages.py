"""The write-up pages as the people in a triad use them: the lead reviewer drafts, a
co-reviewer returns it with a reason, the lead redrafts, the co-reviewers and the host agree,
the host publishes; the report and its downloads; everyone else finds nothing."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from fastapi.testclient import TestClient

from review_engine.errors import NotFound
from review_engine.runtime import Runtime
from review_engine.services import drafts, writeups
from review_engine.testing import FakeClock
from review_engine.web.rendering import page_url
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    hold_visit,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
URL = page_url(CYCLE, HOST, "writeup")

WWW = "Phonics lessons follow the same routines in every class."
EBI = "Daily keep-up sessions were not happening in two classes."


@pytest.fixture
def triad(cycle_rt: Runtime, clock: FakeClock) -> list[int]:
    """The host's visit held; its visitors, lead reviewer first."""
    submit_sef(cycle_rt, CYCLE, HOST)
    visitors = set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    return visitors


def _form(page: str, client: TestClient, **fields: str) -> dict[str, str]:
    """The editor's fields as the page shows them (text inputs, textareas, selects), changed
    by `fields`, with the CSRF token."""
    found: dict[str, str] = {}
    for name, value in re.findall(
        r'<input type="text" id="[^"]+" name="([^"]+)" value="([^"]*)"', page
    ):
        found[name] = value
    for name, value in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page
    ):
        found[name] = value
    for name in re.findall(r'<select id="[^"]+" name="([^"]+)"', page):
        found.setdefault(name, "")
    found.update(fields)
    found["csrf_token"] = csrf_of(client, page)
    return found


def _lead_page(signed_in: SignedIn, lead: int) -> tuple[TestClient, str]:
    client = signed_in(HEADS[lead])
    page = client.get(URL)
    assert page.status_code == 200, page.text
    return client, page.text


def test_the_lead_saves_a_draft_that_survives_a_reload(
    cycle_rt: Runtime, signed_in: SignedIn, triad: list[int]
) -> None:
    lead = triad[0]
    client, page = _lead_page(signed_in, lead)
    assert "Send for agreement" in page
    data = _form(page, client, **{"line-1": "Catching up readers", "www-1-1-text": WWW})
    saved = client.post(URL, data={**data, "action": "save"})
    assert saved.status_code == 303
    again = client.get(saved.headers["location"]).text
    assert "Draft saved at" in again
    assert WWW in again and 'value="Catching up readers"' in again
    # Nothing was sent: the write-up is still waiting for its draft.
    assert "Waiting for the lead reviewer" in again


def test_autosave_answers_a_saved_line(
    cycle_rt: Runtime, signed_in: SignedIn, triad: list[int]
) -> None:
    client, page = _lead_page(signed_in, triad[0])
    data = _form(page, client, **{"activity-1": "Learning walk"})
    answer = client.post(URL + "/autosave", data=data, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert answer.text.startswith("Draft saved at")
    stored = drafts.load_draft(
        cycle_rt.acting_as(HEADS[triad[0]]), cycle=CYCLE, urn=HOST, kind="writeup"
    )
    assert stored is not None and stored.content["activities"] == ["Learning walk"]


def test_adding_a_row_keeps_what_was_typed(
    cycle_rt: Runtime, signed_in: SignedIn, triad: list[int]
) -> None:
    client, page = _lead_page(signed_in, triad[0])
    data = _form(page, client, **{"www-1-1-text": WWW})
    more = client.post(URL, data={**data, "add": "www-1"})
    assert more.status_code == 200
    assert 'name="www-1-2-text"' in more.text and WWW in more.text
    fewer = client.post(URL, data={**_form(more.text, client), "remove": "www-1-1"})
    assert WWW not in fewer.text and 'name="www-1-1-text"' in fewer.text


def test_sending_without_an_ebi_shows_the_error_and_stores_nothing(
    cycle_rt: Runtime, signed_in: SignedIn, triad: list[int]
) -> None:
    client, page = _lead_page(signed_in, triad[0])
    data = _form(
        page,
        client,
        **{"line-1": "Reading", "www-1-1-text": WWW, "www-1-1-evidence": "Learning walk"},
    )
    sent = client.post(URL, data={**data, "action": "send"})
    assert sent.status_code == 400
    assert 'id="lines-error"' in sent.text
    assert "at least one What Went Well and one Even Better If" in sent.text
    assert WWW in sent.text  # what was typed is kept
    with pytest.raises(NotFound, match="has not drafted it"):
        writeups.show(cycle_rt, cycle=CYCLE, host=HOST)


def test_a_missing_evidence_is_shown_beside_its_field(
    cycle_rt: Runtime, signed_in: SignedIn, triad: list[int]
) -> None:
    client, page = _lead_page(signed_in, triad[0])
    data = _form(
        page,
        client,
        **{
            "line-1": "Reading",
            "www-1-1-text": WWW,
            "ebi-1-1-text": EBI,
            "ebi-1-1-evidence": "Interview",
        },
    )
    sent = client.post(URL, data={**data, "action": "send"})
    assert sent.status_code == 400
    assert 'id="www-1-1-evidence-error"' in sent.text
    assert 'aria-describedby="www-1-1-evidence-error"' in sent.text


def _send(client: TestClient, page: str, ebi: str = EBI) -> None:
    data = _form(
        page,
        client,
        **{
            "activity-1": "Learning walk",
            "line-1": "Catching up readers",
            "www-1-1-text": WWW,
            "www-1-1-evidence": "Learning walk in Year 2",
            "ebi-1-1-text": ebi,
            "ebi-1-1-evidence": "Interview with the English lead",
            "next_steps": "Revisit keep-up sessions before Easter.",
        },
    )
    client_page = client.post(URL, data={**data, "add": "gp"})
    data = _form(
        client_page.text,
        client,
        **{
            "gp-1-area": "quality_of_education",
            "gp-1-description": "The keep-up tracker",
            "gp-1-contact": "English lead",
        },
    )
    sent = client.post(URL, data={**data, "action": "send"})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith("?sent=1")


def test_return_redraft_agree_publish_and_read_the_report(
    cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn, triad: list[int]
) -> None:
    lead, co1, co2 = triad
    client, page = _lead_page(signed_in, lead)
    _send(client, page)
    assert "gone to the co-reviewers" in client.get(URL + "?sent=1").text

    # A co-reviewer returns it with a reason; the lead sees it.
    co = signed_in(HEADS[co1])
    seen = co.get(URL).text
    assert WWW in seen and "Agree this draft" in seen
    empty = co.post(URL + "/return", data={"csrf_token": csrf_of(co, seen), "reason": " "})
    assert empty.status_code == 400 and 'id="reason-error"' in empty.text
    back = co.post(
        URL + "/return",
        data={"csrf_token": csrf_of(co, seen), "reason": "Name the two classes in the EBI."},
    )
    assert back.status_code == 303
    lead_view = client.get(URL).text
    assert "Returned to the lead reviewer" in lead_view
    assert "Name the two classes in the EBI." in lead_view

    # An hour later the lead redrafts; the notice goes.
    clock.advance(hours=1)
    _send(client, lead_view, ebi="Keep-up sessions were not happening in Years 3 and 5.")
    assert "Returned to the lead reviewer" not in client.get(URL).text

    for urn in (co1, co2):
        reviewer = signed_in(HEADS[urn])
        page = reviewer.get(URL).text
        assert "Years 3 and 5" in page
        assert (
            reviewer.post(URL + "/agree", data={"csrf_token": csrf_of(reviewer, page)}).status_code
            == 303
        )
    host = signed_in(HEADS[HOST])
    page = host.get(URL).text
    assert "Agree: the facts are right" in page
    assert host.post(URL + "/agree", data={"csrf_token": csrf_of(host, page)}).status_code == 303
    page = host.get(URL).text
    assert "Who may read the published write-up?" in page
    missing = host.post(URL + "/publish", data={"csrf_token": csrf_of(host, page)})
    assert missing.status_code == 400 and 'id="sharing-error"' in missing.text
    published = host.post(
        URL + "/publish", data={"csrf_token": csrf_of(host, page), "sharing": "cluster"}
    )
    assert published.status_code == 303

    # A school of the cluster outside the triad reads the report and downloads it.
    outsider = next(u for u in URNS if u not in (HOST, *triad))
    reader = signed_in(HEADS[outsider])
    report = reader.get(URL)
    assert report.status_code == 200
    assert WWW in report.text and "Years 3 and 5" in report.text
    assert "Every school in the cluster" in report.text
    assert "Agree this draft" not in report.text and "Publish the write-up" not in report.text
    pdf = reader.get(URL + "/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment; filename=")
    assert pdf.headers["content-disposition"].endswith('.pdf"')
    word = reader.get(URL + "/report.docx")
    assert word.status_code == 200
    assert zipfile.is_zipfile(io.BytesIO(word.content))


def test_a_head_outside_the_triad_finds_no_writeup_before_publication(
    cycle_rt: Runtime, signed_in: SignedIn, triad: list[int]
) -> None:
    outsider = next(u for u in URNS if u not in (HOST, *triad))
    client = signed_in(HEADS[outsider])
    before = client.get(URL)
    assert before.status_code == 404
    lead_client, page = _lead_page(signed_in, triad[0])
    _send(lead_client, page)
    after = client.get(URL)
    assert after.status_code == 404
    assert after.text == before.text  # drafted or not, the same answer
    assert client.get(URL + "/report.pdf").status_code == 404
    nowhere = client.get(page_url(CYCLE, 999999, "writeup"))
    assert nowhere.status_code == 404
    token = csrf_of(client, client.get("/").text)
    assert client.post(URL + "/agree", data={"csrf_token": token}).status_code == 404
