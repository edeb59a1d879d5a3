"""The self-evaluation page as people use it: the head fills in the form (drafts kept as they
go), submits, sees it returned with the facilitator's reason, resubmits; earlier versions
stay readable; the file upload still works; anyone outside the school's circle finds nothing."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from fastapi.testclient import TestClient

from review_engine.core.domain import Role
from review_engine.core.phases import SelfReviewState
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import cycles, people, sef
from review_engine.web.rendering import page_url
from tests.conftest import FACILITATOR, SAMPLES
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
SCHOOL = URNS[0]
URL = page_url(CYCLE, SCHOOL, "sef")
QUESTION = "To what extent do pupils who fall behind in reading catch up quickly?"
AREA = {
    "grade": "good",
    "strengths": "A well-sequenced phonics programme.",
    "areas_for_development": "Catching up pupils who fall behind in Year 2.",
    "evidence": "Phonics check results; reading records.",
}


def _state(rt: Runtime, urn: int = SCHOOL) -> str:
    status = cycles.cycle_status(rt, cycle=CYCLE)
    return next(s.states["self_review"] for s in status.schools if s.urn == urn)


def _text(page: str) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _filled(page: str, client: TestClient, **changed: str) -> dict[str, str]:
    """Every field of the form with a grade and text in each required area (optional areas
    left empty), then `changed`, with the CSRF token."""
    names = re.findall(r'name="(area\.[a-z_]+\.[a-z_]+)"', page)
    data = {name: "" for name in names}
    for name in names:
        _, key, field = name.split(".")
        if key not in ("early_years", "sixth_form", "post_16"):
            data[name] = AREA[field]
    data["enquiry_question"] = QUESTION
    data.update(changed)
    data["csrf_token"] = csrf_of(client, page)
    return data


def _main(page: str) -> str:
    found = re.search(r"<main[^>]*>(.*)</main>", page, re.S)
    assert found
    return _text(found.group(1))


def _error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    assert found, f"no error shown beside {field_id}"
    return _text(found.group(1))


@pytest.fixture
def head(signed_in: SignedIn) -> TestClient:
    return signed_in(HEADS[SCHOOL])


def test_the_form_shows_every_area_of_the_framework_with_its_grade_scale(
    head: TestClient,
) -> None:
    page = head.get(URL)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Not started" in text
    assert "Quality of education" in text and "Leadership and management" in text
    assert '<option value="requires_improvement">Requires improvement</option>' in page.text
    assert '<label for="f-area-quality_of_education-strengths">Strengths</label>' in page.text
    assert "<legend>Early years (optional)</legend>" in page.text


def test_a_saved_draft_comes_back_on_reload(cycle_rt: Runtime, head: TestClient) -> None:
    page = head.get(URL).text
    data = _filled(page, head, **{"area.quality_of_education.strengths": "Reading for pleasure"})
    saved = head.post(f"{URL}/draft", data=data)
    assert saved.status_code == 303
    again = head.get(saved.headers["location"]).text
    assert "Your draft is saved." in again
    assert ">Reading for pleasure</textarea>" in again
    assert "Being drafted" in _text(again)
    assert _state(cycle_rt) == SelfReviewState.DRAFTING
    with pytest.raises(Exception, match="none submitted yet"):
        sef.show_sef(cycle_rt, cycle=CYCLE, urn=SCHOOL)


def test_htmx_autosave_answers_with_the_time_it_was_saved(head: TestClient) -> None:
    page = head.get(URL).text
    assert 'hx-post="' in page and 'hx-trigger="input changed delay:1s"' in page
    answer = head.post(f"{URL}/draft", data=_filled(page, head), headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert re.fullmatch(r"Saved at \d\d:\d\d", answer.text.strip())


def test_a_missing_grade_is_shown_beside_its_field_and_nothing_is_submitted(
    cycle_rt: Runtime, head: TestClient
) -> None:
    page = head.get(URL).text
    typed = "Calm corridors, typed before the mistake."
    data = _filled(
        page,
        head,
        **{
            "area.behaviour_and_attitudes.grade": "",
            "area.behaviour_and_attitudes.strengths": typed,
        },
    )
    refused = head.post(f"{URL}/submit", data=data)
    assert refused.status_code == 400
    beside = _error_beside(refused.text, "f-area-behaviour_and_attitudes-grade")
    assert "Behaviour and attitudes: grade is empty" in beside
    assert 'aria-describedby="f-area-behaviour_and_attitudes-grade-error"' in refused.text
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S)
    assert summary and 'href="#f-area-behaviour_and_attitudes-grade"' in summary.group(0)
    assert f">{typed}</textarea>" in refused.text  # what was typed is kept
    assert _state(cycle_rt) == SelfReviewState.NOT_STARTED
    with pytest.raises(Exception, match="none submitted yet"):
        sef.show_sef(cycle_rt, cycle=CYCLE, urn=SCHOOL)


def test_submit_return_with_a_reason_resubmit_and_both_versions_listed(
    cycle_rt: Runtime, head: TestClient, signed_in: SignedIn
) -> None:
    page = head.get(URL).text
    sent = head.post(f"{URL}/submit", data=_filled(page, head))
    assert sent.status_code == 303
    after = _text(head.get(sent.headers["location"]).text)
    assert "Submitted, waiting for the facilitator" in after
    assert _state(cycle_rt) == SelfReviewState.SUBMITTED
    assert sef.show_sef(cycle_rt, cycle=CYCLE, urn=SCHOOL).areas[0].grade == "good"

    facilitator = signed_in(FACILITATOR)
    review = facilitator.get(URL)
    assert review.status_code == 200
    assert "Accept" in review.text and "Return to the school" in review.text
    assert "A well-sequenced phonics programme." in review.text  # read-only
    token = csrf_of(facilitator, review.text)
    no_reason = facilitator.post(
        f"{URL}/decision", data={"csrf_token": token, "decision": "return"}
    )
    assert no_reason.status_code == 400
    assert "Say why you are returning it" in _error_beside(no_reason.text, "f-reason")
    assert _state(cycle_rt) == SelfReviewState.SUBMITTED
    reason = "Please add attendance evidence by pupil group."
    returned = facilitator.post(
        f"{URL}/decision", data={"csrf_token": token, "decision": "return", "reason": reason}
    )
    assert returned.status_code == 303

    seen = head.get(URL).text
    assert "Returned by the facilitator" in _text(seen)
    assert reason in _text(seen)
    assert ">A well-sequenced phonics programme.</textarea>" in seen  # prefilled from v1
    again = head.post(
        f"{URL}/submit",
        data=_filled(
            seen, head, **{"area.behaviour_and_attitudes.evidence": "Attendance by group."}
        ),
    )
    assert again.status_code == 303
    final = head.get(URL).text
    assert "Version 1" in final and "Version 2" in final
    assert "Aisha Rahman" in _text(final)  # who submitted, by name
    assert sef.show_sef(cycle_rt, cycle=CYCLE, urn=SCHOOL).version == 2
    first = head.get(f"{URL}/versions/1")
    assert first.status_code == 200
    assert "Self-evaluation version 1" in first.text
    assert "Attendance by group." not in first.text
    assert "Attendance by group." in head.get(f"{URL}/versions/2").text
    assert head.get(f"{URL}/versions/3").status_code == 404


def test_the_facilitator_accepts_and_the_head_sees_it_accepted(
    cycle_rt: Runtime, head: TestClient, signed_in: SignedIn
) -> None:
    submit_sef(cycle_rt, CYCLE, SCHOOL)
    facilitator = signed_in(FACILITATOR)
    token = csrf_of(facilitator, facilitator.get(URL).text)
    done = facilitator.post(f"{URL}/decision", data={"csrf_token": token, "decision": "accept"})
    assert done.status_code == 303
    assert _state(cycle_rt) == SelfReviewState.ACCEPTED
    page = head.get(URL).text
    assert "Accepted" in _text(page)
    assert '<form id="sef-form"' not in page  # nothing left to edit


def test_people_outside_the_school_s_circle_get_404_as_for_a_page_that_does_not_exist(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    submit_sef(cycle_rt, CYCLE, SCHOOL)
    people.add_person(
        cycle_rt.acting_as(OPERATOR),
        email="head@levenbridge.example",
        name="Lee Outside",
        role=Role.HEAD,
        school_urn=990109,
    )
    missing = signed_in(HEADS[SCHOOL]).get(page_url(CYCLE, 990109, "sef"))
    assert missing.status_code == 404
    for email in (HEADS[URNS[1]], OTHER_FACILITATOR, "head@levenbridge.example"):
        client = signed_in(email)
        answer = client.get(URL)
        assert answer.status_code == 404, email
        assert _main(answer.text) == _main(missing.text)  # the same as a school not there
        token = csrf_of(client, answer.text)
        assert client.post(f"{URL}/submit", data={"csrf_token": token}).status_code == 404
        assert client.get(f"{URL}/versions/1").status_code == 404
    assert "There is no such page." in missing.text


def test_a_reviewer_of_the_school_reads_it_without_a_form(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    submit_sef(cycle_rt, CYCLE, SCHOOL)
    visitors = set_rotation_triads(cycle_rt, CYCLE, URNS)[SCHOOL]
    page = signed_in(HEADS[visitors[1]]).get(URL)
    assert page.status_code == 200
    assert "Submitted self-evaluation" in page.text
    assert "sef-form" not in page.text and "/decision" not in page.text


def test_uploading_the_sample_markdown_submits_it(cycle_rt: Runtime, head: TestClient) -> None:
    page = head.get(URL).text
    sample = (SAMPLES / "sef-primary.md").read_bytes()
    sent = head.post(
        f"{URL}/upload",
        data={"csrf_token": csrf_of(head, page)},
        files={"file": ("sef-primary.md", sample, "text/markdown")},
    )
    assert sent.status_code == 303, sent.text
    assert "Submitted, waiting for the facilitator" in _text(head.get(URL).text)
    view = sef.show_sef(cycle_rt, cycle=CYCLE, urn=SCHOOL)
    assert view.enquiry_question.startswith("To what extent does our reading curriculum")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [("sef.docx", _docx()), ("sef.md", b"\x00\x01\x02binary"), ("sef.bin", b"\x89PNG\r\n")],
    ids=["word", "binary-named-md", "image"],
)
def test_a_word_or_binary_upload_is_refused_in_one_line(
    cycle_rt: Runtime, head: TestClient, name: str, content: bytes
) -> None:
    page = head.get(URL).text
    refused = head.post(
        f"{URL}/upload",
        data={"csrf_token": csrf_of(head, page)},
        files={"file": (name, content, "application/octet-stream")},
    )
    assert refused.status_code == 400
    line = _error_beside(refused.text, "f-file")
    assert "\n" not in line and len(line) < 250
    assert "Markdown" in line or "text file" in line
    assert _state(cycle_rt) == SelfReviewState.NOT_STARTED


def test_an_upload_over_256_kb_is_refused_in_one_line(cycle_rt: Runtime, head: TestClient) -> None:
    page = head.get(URL).text
    big = (SAMPLES / "sef-primary.md").read_bytes() + b"\n" + b"x" * (256 * 1024)
    refused = head.post(
        f"{URL}/upload",
        data={"csrf_token": csrf_of(head, page)},
        files={"file": ("sef.md", big, "text/markdown")},
    )
    assert refused.status_code == 400
    assert "larger than the 256 KB limit" in _error_beside(refused.text, "f-file")
    assert _state(cycle_rt) == SelfReviewState.NOT_STARTED
