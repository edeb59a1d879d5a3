"""Support after the review, in Chromium: with the write-up published and the cycle in
support, the host school turns an Even Better If into an action with a supporting school and
records its RAG with a note; the supporting school, signed in in a browser of its own, adds a
note; the school sees both, each with who wrote it and their school. axe-core on every page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.cli.test_cli_phases import HEADS
from tests.web.browser import LiveApp
from tests.web.journeys import (
    HOST,
    another_person,
    checked,
    hold_the_visit,
    publish_the_writeup,
    sign_in,
    url,
    watch,
)

SCHOOL = "Northbrook Primary School"
SUPPORTER, SUPPORTER_NAME = "990104", "Moss Lane Primary Academy"
TITLE = "Daily keep-up sessions in every class"
UPDATE = "Keep-up sessions now run in all three Key Stage 1 classes."
NOTE = "Our English lead visited and saw the Year 2 session; we shared our tracker."


def test_a_school_updates_an_action_and_its_supporting_school_adds_a_note(
    live_app: LiveApp, page: Any, chromium: Any
) -> None:
    hold_the_visit(live_app)
    publish_the_writeup(live_app)
    support_url = url(live_app, HOST, "support")
    errors: list[str] = []
    school = watch(page, errors)

    # The school makes an action of its first EBI, with a supporting school.
    sign_in(school, live_app, HEADS[HOST])
    school.get_by_role("link", name="Agree your support plan").click()
    expect(school).to_have_url(support_url)
    expect(school.get_by_role("heading", level=1)).to_have_text(f"Support: {SCHOOL}")
    checked(school, "the support page, no actions yet")
    school.get_by_label("Even better if it comes from").select_option(index=1)
    school.get_by_label("The action", exact=True).fill(TITLE)
    school.get_by_label("Owner", exact=True).fill("English lead")
    school.get_by_label("Success criteria").fill("Seen in every class on a learning walk")
    school.get_by_label("Due by the end of").select_option(label="Spring 2")
    school.get_by_label("Supporting school").select_option(label=SUPPORTER_NAME)
    school.get_by_role("button", name="Add the action").click()
    expect(school.get_by_role("status").first).to_contain_text("The action is added")
    action = school.locator("#action-1")
    expect(action.get_by_role("heading", level=3)).to_have_text(f"Action 1: {TITLE}")
    expect(action).to_contain_text("Amber: some progress")
    expect(action).to_contain_text(SUPPORTER_NAME)
    checked(school, "the support page with an action")

    # Its RAG, with a note of what changed.
    status = action.get_by_role("group", name="Status of action 1 now")
    status.get_by_label("Green: on track").check()
    action.get_by_label("What has changed (action 1)").fill(UPDATE)
    action.get_by_role("button", name="Record the update").click()
    expect(school.get_by_role("status").first).to_contain_text(
        "Your update on action 1 is recorded"
    )
    expect(action.locator("p .tag").first).to_have_text("Green: on track")
    checked(school, "the support page, action updated")

    # The supporting school, in a browser of its own, adds a note; the status stays the school's.
    with another_person(chromium, errors) as supporter:
        sign_in(supporter, live_app, HEADS[SUPPORTER])
        supporter.get_by_role("link", name=f"Support {SCHOOL} with action 1: {TITLE}").click()
        expect(supporter).to_have_url(support_url)
        expect(supporter.locator("main")).to_contain_text("Your school supports this action")
        expect(supporter.locator("main")).to_contain_text(UPDATE)
        expect(supporter.get_by_role("button", name="Record the update")).to_have_count(0)
        checked(supporter, "the support page as the supporting school sees it")
        supporter.get_by_label("Your school's note on action 1").fill(NOTE)
        supporter.get_by_role("button", name="Add the note").click()
        expect(supporter.get_by_role("status").first).to_contain_text(
            "Your note on action 1 is recorded"
        )
        checked(supporter, "the support page, note added")

    # The school sees both, each with its writer and their school.
    school.reload()
    updates = school.locator("#action-1").get_by_role("table")
    rows = updates.get_by_role("row")
    expect(rows).to_have_count(3)  # the header, the update, the note
    expect(rows.nth(1)).to_contain_text(f"Head {HOST}, {SCHOOL}")
    expect(rows.nth(1)).to_contain_text("Green: on track")
    expect(rows.nth(1)).to_contain_text(UPDATE)
    expect(rows.nth(2)).to_contain_text(f"Head {SUPPORTER}, {SUPPORTER_NAME} (supporting school)")
    expect(rows.nth(2)).to_contain_text(NOTE)
    expect(school.locator("#action-1 p .tag").first).to_have_text("Green: on track")
    checked(school, "the support page with the update and the note")
    assert errors == [], "script errors in the pages"
