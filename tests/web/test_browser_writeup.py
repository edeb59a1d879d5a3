"""The write-up of a visit in Chromium, each person in a browser of their own: the lead
reviewer drafts it in the editor (a row added with its "Add ..." button), saves and sends it
for agreement; a co-reviewer returns it with a reason; the lead sees why, redrafts and sends it
again; both co-reviewers agree, the host agrees and publishes it to the cluster; the report
shows the WWW and EBI and its PDF downloads. axe-core runs on every page."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.cli.test_cli_phases import HEADS
from tests.web.browser import Artefacts, LiveApp
from tests.web.journeys import (
    CO_REVIEWERS,
    HOST,
    LEAD,
    another_person,
    checked,
    hold_the_visit,
    sign_in,
    url,
    watch,
)

SCHOOL = "Northbrook Primary School"
ACTIVITIES = ["Learning walk with the headteacher", "Pupil voice with eight Year 4 pupils"]
LINE = "Catching up pupils who fall behind in reading"
WWW = "Phonics lessons follow the same routines in every class."
WWW_EVIDENCE = "Learning walk and joint observation in Year 2"
EBI = "Daily keep-up sessions were planned but not happening in two classes."
EBI_REDRAFTED = "Daily keep-up sessions were planned but not happening in Years 2 and 3."
EBI_EVIDENCE = "Interview with the English lead"
PRACTICE = "Whole-school phonics routines and the keep-up tracker"
NEXT_STEPS = "Share the keep-up tracker with the cluster at the spring meeting."
REASON = "Please name the classes where keep-up sessions were missing."


def open_from_my_work(page: Any, app: LiveApp, link: str) -> None:
    page.goto(app.url + "/")
    page.get_by_role("link", name=link).click()
    expect(page).to_have_url(url(app, HOST, "writeup"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Write-up: {SCHOOL}")


def draft_in_the_editor(page: Any) -> None:
    """Fill in the editor as the lead reviewer would, adding the second activity and the good
    practice with their buttons (htmx swaps the form in, keeping what was typed)."""
    page.get_by_label("Activity 1", exact=True).fill(ACTIVITIES[0])
    page.get_by_role("button", name="Add an activity").click()
    page.get_by_label("Activity 2", exact=True).fill(ACTIVITIES[1])
    expect(page.get_by_label("Activity 1", exact=True)).to_have_value(ACTIVITIES[0])
    page.locator("#line-1").fill(LINE)
    page.get_by_label("What went well 1, line 1", exact=True).fill(WWW)
    page.get_by_label("Evidence for what went well 1, line 1").fill(WWW_EVIDENCE)
    page.get_by_label("Even better if 1, line 1", exact=True).fill(EBI)
    page.get_by_label("Evidence for even better if 1, line 1").fill(EBI_EVIDENCE)
    page.get_by_role("button", name="Add good practice").click()
    page.get_by_label("Area of good practice 1").select_option(label="Quality of education")
    page.get_by_label("Description of good practice 1").fill(PRACTICE)
    page.get_by_label("Who to contact about good practice 1").fill("English lead")
    page.get_by_label("Next steps").fill(NEXT_STEPS)


def send(page: Any) -> None:
    page.get_by_role("button", name="Send for agreement").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Your draft has gone to the co-reviewers for agreement"
    )


def agree(page: Any, app: LiveApp, urn: str) -> None:
    open_from_my_work(page, app, f"Agree the write-up for {SCHOOL}")
    expect(page.locator("main")).to_contain_text(EBI_REDRAFTED)
    checked(page, f"the draft as co-reviewer {urn} reads it")
    page.get_by_role("button", name="Agree this draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Your agreement is recorded")
    checked(page, f"the draft agreed by {urn}")


def test_a_writeup_is_drafted_returned_redrafted_agreed_and_published(
    live_app: LiveApp, page: Any, chromium: Any, artefacts: Artefacts
) -> None:
    triad = hold_the_visit(live_app)
    assert (str(triad["lead"]), sorted(str(v) for v in triad["visitors"])) == (
        LEAD,
        sorted([LEAD, *CO_REVIEWERS]),
    ), "the journey needs a lead reviewer and two co-reviewers"

    errors: list[str] = []
    lead = watch(page, errors)
    with ExitStack() as stack:
        co, other_co, host = (
            stack.enter_context(another_person(chromium, errors)) for _ in range(3)
        )

        # The lead reviewer drafts, saves and sends the write-up.
        sign_in(lead, live_app, HEADS[LEAD])
        open_from_my_work(lead, live_app, f"Draft the write-up for {SCHOOL}")
        checked(lead, "the write-up editor, empty")
        draft_in_the_editor(lead)
        checked(lead, "the write-up editor, filled in")
        lead.locator(".actions").get_by_role("button", name="Save draft").click()
        expect(lead.get_by_role("status").first).to_contain_text("Draft saved at")
        expect(lead.get_by_label("Activity 2", exact=True)).to_have_value(ACTIVITIES[1])
        expect(lead.get_by_label("Description of good practice 1")).to_have_value(PRACTICE)
        checked(lead, "the write-up editor, draft saved")
        artefacts.screenshot(lead, "writeup-editor")
        send(lead)
        checked(lead, "the write-up, sent for agreement")

        # A co-reviewer returns it with a reason.
        sign_in(co, live_app, HEADS[CO_REVIEWERS[0]])
        open_from_my_work(co, live_app, f"Agree the write-up for {SCHOOL}")
        expect(co.locator("main")).to_contain_text(WWW)
        expect(co.locator("main")).to_contain_text(EBI)
        checked(co, "the draft as a co-reviewer reads it")
        co.get_by_label("Why are you returning it to the lead reviewer?").fill(REASON)
        co.get_by_role("button", name="Return to the lead reviewer").click()
        expect(co.get_by_role("status").first).to_contain_text(
            "The draft has gone back to the lead reviewer with your reason"
        )
        checked(co, "the draft, returned")

        # The lead sees why, redrafts and sends it again.
        open_from_my_work(lead, live_app, f"Redraft the write-up for {SCHOOL} (returned: {REASON})")
        returned = lead.locator(".notice.returned")
        expect(returned).to_contain_text("Returned to the lead reviewer")
        expect(returned).to_contain_text(REASON)
        expect(returned).to_contain_text(f"Head {CO_REVIEWERS[0]}")  # who returned it
        checked(lead, "the write-up editor, returned")
        ebi = lead.get_by_label("Even better if 1, line 1", exact=True)
        expect(ebi).to_have_value(EBI)
        ebi.fill(EBI_REDRAFTED)
        send(lead)

        # Both co-reviewers agree, then the host checks the facts, agrees and publishes.
        agree(co, live_app, CO_REVIEWERS[0])
        sign_in(other_co, live_app, HEADS[CO_REVIEWERS[1]])
        agree(other_co, live_app, CO_REVIEWERS[1])

        sign_in(host, live_app, HEADS[HOST])
        open_from_my_work(host, live_app, "Agree your school's write-up")
        checked(host, "the write-up as the host checks it")
        host.get_by_role("button", name="Agree: the facts are right").click()
        expect(host.get_by_role("status").first).to_contain_text("Your agreement is recorded")
        checked(host, "the write-up, ready to publish")
        host.get_by_label("Every school in the cluster").check()
        host.get_by_role("button", name="Publish the write-up").click()
        expect(host.get_by_role("status").first).to_contain_text("The write-up is published")
        checked(host, "the published write-up")

        # The report: the WWW and the EBI as redrafted, and its PDF.
        report = host.locator("main")
        for text in (WWW, WWW_EVIDENCE, EBI_REDRAFTED, EBI_EVIDENCE, PRACTICE, *ACTIVITIES):
            expect(report).to_contain_text(text)
        expect(report).not_to_contain_text(EBI)
        expect(report).to_contain_text("Every school in the cluster")
        with host.expect_download() as download:
            host.get_by_role("link", name="Download the write-up as PDF").click()
        pdf = Path(download.value.path())
        assert pdf.read_bytes().startswith(b"%PDF-")
        assert download.value.suggested_filename.endswith(".pdf")
    assert errors == [], "script errors in the pages"
