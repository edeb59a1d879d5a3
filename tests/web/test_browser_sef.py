"""A head teacher's self-evaluation in Chromium: opened from My work, filled in by framework
area with the draft autosaved as they type, kept over a reload, refused with the missing grade
shown beside its field and in the summary, submitted; returned by the facilitator (in a
browser of their own) with a reason the head sees on the page and on My work; changed and
submitted again as version 2. axe-core runs on every page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.cli.test_cli_phases import HEADS
from tests.conftest import FACILITATOR
from tests.web.browser import Artefacts, LiveApp
from tests.web.journeys import another_person, checked, open_self_review, sign_in, url, watch

SCHOOL, URN = "Northbrook Primary School", "990101"
QUESTION = "To what extent do pupils who fall behind in reading catch up quickly?"
AREAS = {  # the required areas of the 2019 framework: grade, strengths, development, evidence
    "quality_of_education": (
        "Good",
        "Phonics is taught consistently from Reception.",
        "Pupils who fall behind in Year 2 do not always catch up quickly.",
        "Phonics screening results; learning walks each half-term.",
    ),
    "behaviour_and_attitudes": (
        "Outstanding",
        "Pupils are calm and purposeful in lessons.",
        "Attendance of a small group of disadvantaged pupils.",
        "Behaviour logs; pupil voice in Years 4 and 6.",
    ),
    "personal_development": (
        "Good",
        "Every pupil has a leadership role by Year 6.",
        "Wider careers education in Key Stage 2.",
        "Club registers; the school council's minutes.",
    ),
    "leadership_and_management": (
        "Good",
        "Leaders know the school's strengths well.",
        "Middle leaders' checks on their subjects.",
        "Governors' visit notes; subject leaders' reviews.",
    ),
}
MISSING = "behaviour_and_attitudes"
REASON = "Please add the evidence from your own learning walks to Leadership and management."
CHANGED = "Leaders know the school well: termly learning walks with governors since September."


def area(page: Any, key: str) -> Any:
    """The fieldset of one framework area (each has its own Grade, Strengths, ... fields)."""
    title = key.replace("_", " ").capitalize()
    return page.get_by_role("group", name=title, exact=True)


def autosaved(page: Any, change: Any) -> None:
    """Make a change in the form and wait for htmx to save the draft and say so."""
    with page.expect_response(lambda r: r.url.endswith("/sef/draft") and r.ok):
        change()
    expect(page.locator("#saved-status")).to_contain_text(re.compile(r"Saved at \d\d:\d\d"))


def test_a_head_fills_in_submits_and_resubmits_their_sef_after_it_is_returned(
    live_app: LiveApp, page: Any, chromium: Any, artefacts: Artefacts
) -> None:
    errors: list[str] = []
    watch(page, errors)
    open_self_review(live_app)
    sef_url = url(live_app, URN, "sef")

    sign_in(page, live_app, HEADS[URN])
    page.get_by_role("link", name="Submit your self-evaluation").click()
    expect(page).to_have_url(sef_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Self-evaluation: {SCHOOL}")
    expect(page.locator(".lead")).to_contain_text("Not started")
    checked(page, "the SEF form, empty")

    # Filled in by area; htmx saves the draft a second after each pause in typing.
    autosaved(page, lambda: page.get_by_label("Enquiry question").fill(QUESTION))
    for key, (grade, strengths, development, evidence) in AREAS.items():
        fields = area(page, key)
        fields.get_by_label("Grade").select_option(label=grade)
        fields.get_by_label("Strengths").fill(strengths)
        fields.get_by_label("Areas for development").fill(development)
        autosaved(page, lambda f=fields, e=evidence: f.get_by_label("Evidence").fill(e))
    checked(page, "the SEF form, filled in")
    artefacts.screenshot(page, "sef-form")

    # The draft is kept on the server: a reload shows it all, and who saved it.
    page.reload()
    expect(page.get_by_label("Enquiry question")).to_have_value(QUESTION)
    for key, (grade, strengths, development, evidence) in AREAS.items():
        fields = area(page, key)
        expect(fields.get_by_label("Grade").locator("option:checked")).to_have_text(grade)
        expect(fields.get_by_label("Strengths")).to_have_value(strengths)
        expect(fields.get_by_label("Areas for development")).to_have_value(development)
        expect(fields.get_by_label("Evidence")).to_have_value(evidence)
    expect(page.locator("#saved-status")).to_contain_text("Draft saved")
    expect(page.locator("#saved-status")).to_contain_text(HEADS[URN])  # who saved it
    expect(page.locator(".lead")).to_contain_text("Being drafted")

    # One grade left out: refused, with the problem beside the field and in the summary.
    grade = area(page, MISSING).get_by_label("Grade")
    autosaved(page, lambda: grade.select_option(value=""))
    page.get_by_role("button", name="Submit to the facilitator").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem: nothing was submitted")
    grade = area(page, MISSING).get_by_label("Grade")
    expect(grade).to_have_attribute("aria-invalid", "true")
    beside = area(page, MISSING).locator(".field-error")
    expect(beside).to_have_count(1)
    problem = beside.inner_text().removeprefix("Error:").strip()
    assert problem, "the error beside the grade says nothing"
    expect(grade).to_have_accessible_description(re.compile(re.escape(problem)))
    link = summary.get_by_role("link", name=problem)
    expect(link).to_have_attribute("href", f"#f-area-{MISSING}-grade")
    expect(page.get_by_label("Enquiry question")).to_have_value(QUESTION)  # what was typed stays
    checked(page, "the SEF form with a missing grade")

    grade.select_option(label="Outstanding")
    page.get_by_role("button", name="Submit to the facilitator").click()
    expect(page.get_by_role("status").first).to_contain_text("Your self-evaluation is submitted")
    expect(page.locator(".lead")).to_contain_text("Submitted, waiting for the facilitator")
    expect(page.get_by_role("link", name="Version 1")).to_be_visible()
    checked(page, "the SEF, submitted")

    # The facilitator, in a browser of their own, returns it with a reason.
    with another_person(chromium, errors) as facilitator:
        sign_in(facilitator, live_app, FACILITATOR)
        facilitator.get_by_role("link", name=f"Accept or return the SEF of {SCHOOL}").click()
        expect(facilitator).to_have_url(sef_url)
        expect(facilitator.locator("main")).to_contain_text(QUESTION)
        checked(facilitator, "the SEF as the facilitator reads it")
        facilitator.get_by_label("Reason for returning it").fill(REASON)
        facilitator.get_by_role("button", name="Return to the school").click()
        expect(facilitator.get_by_role("status").first).to_contain_text(
            f"You returned the self-evaluation to {SCHOOL}"
        )
        checked(facilitator, "the SEF, returned")

    # The head sees the reason on the page and on My work, changes a field and resubmits.
    page.goto(live_app.url + "/")
    redraft = page.get_by_role("link", name=f"Redraft your self-evaluation (returned: {REASON})")
    expect(redraft).to_be_visible()
    checked(page, "My work with the SEF returned")
    redraft.click()
    expect(page).to_have_url(sef_url)
    returned = page.locator(".notice.returned")
    expect(returned).to_contain_text("Returned by the facilitator")
    expect(returned).to_contain_text(REASON)
    expect(page.locator(".lead")).to_contain_text("Returned by the facilitator")
    checked(page, "the SEF form, returned")
    strengths = area(page, "leadership_and_management").get_by_label("Strengths")
    expect(strengths).to_have_value(AREAS["leadership_and_management"][1])
    autosaved(page, lambda: strengths.fill(CHANGED))
    page.get_by_role("button", name="Submit to the facilitator").click()
    expect(page.get_by_role("status").first).to_contain_text("Your self-evaluation is submitted")
    versions = page.get_by_role("table").filter(has_text="Submitted by")
    expect(versions.get_by_role("row")).to_have_count(3)  # the header and two versions
    expect(versions.get_by_role("link", name="Version 1")).to_be_visible()
    expect(versions.get_by_role("link", name="Version 2")).to_be_visible()
    expect(versions).to_contain_text("Head 990101")  # by name
    checked(page, "the SEF, resubmitted")

    versions.get_by_role("link", name="Version 2").click()
    expect(page.locator("main")).to_contain_text(CHANGED)
    checked(page, "version 2 of the SEF")
    assert errors == [], "script errors in the pages"
