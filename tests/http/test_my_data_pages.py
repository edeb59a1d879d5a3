"""/account/my-data: a signed-in person sees what the service holds about them and downloads
it as JSON and PDF; only their own, whatever they ask for."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader

from review_engine.runtime import Runtime
from review_engine.services import retention
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn
from tests.integration.phase_helpers import CYCLE, HEADS, submit_sef

URNS = sorted(HEADS)
HEAD = HEADS[URNS[0]]
OTHER = HEADS[URNS[1]]


def test_a_head_sees_and_downloads_her_own_data(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    submit_sef(cycle_rt, CYCLE, URNS[0])
    submit_sef(cycle_rt, CYCLE, URNS[1])
    retention.set_period(cycle_rt.acting_as("operator"), kind="drafts", months=6)
    client = signed_in(HEAD)
    page = client.get("/account/my-data")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    for text in (
        "Your data",
        'href="/account/my-data.pdf"',
        'href="/account/my-data.json"',
        "Self-evaluations you submitted",
        "6 months after it was last saved, then deleted",
    ):
        assert text in page.text, text
    answer = client.get("/account/my-data.json", params={"email": OTHER})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"].startswith('attachment; filename="subject-access-')
    data = json.loads(answer.content)
    assert data["person"]["email"] == HEAD
    assert [s["school"] for s in data["sef_versions"]] == [data["person"]["school"]]
    assert OTHER not in answer.text and FACILITATOR not in answer.text
    pdf = client.get("/account/my-data.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "About you" in text and "Self-evaluations you submitted" in text
    assert HEAD in text and OTHER not in text


def test_another_person_gets_their_own_not_hers(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    submit_sef(cycle_rt, CYCLE, URNS[0])
    data = signed_in(FACILITATOR).get("/account/my-data.json").json()
    assert data["person"]["email"] == FACILITATOR
    assert data["sef_versions"] == []
    assert HEAD not in json.dumps(data)


def test_nobody_signed_in_is_sent_to_sign_in(site) -> None:  # type: ignore[no-untyped-def]
    for path in ("/account/my-data", "/account/my-data.json", "/account/my-data.pdf"):
        answer = site().get(path)
        assert answer.status_code in (303, 401), path
        assert "Aisha" not in answer.text
