"""Signing in by e-mail link, in Chromium, as a head teacher of the cluster would: ask for a
link, find it in the mail (a real SMTP server), open it, press "Sign in", see My work, sign
out. With JavaScript and without it: every form works without."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.cli.test_cli_phases import HEADS
from tests.web.browser import Artefacts, LiveApp, assert_accessible, link_in

HEAD = HEADS["990101"]  # head@northbrook.example, "Head 990101" (tests.cli set_up_cluster)
HEAD_NAME = "Head 990101"
STRANGER = "nobody@elsewhere.example"
SENT = "If that address is registered, a sign-in link is on its way"
USED = "this sign-in link has expired or has already been used"

JS = pytest.mark.parametrize(
    ("browser_context", "with_js"),
    [({}, True), ({"java_script_enabled": False}, False)],
    ids=["with-js", "without-js"],
    indirect=["browser_context"],
)


def ask_for_link(page: Any, app: LiveApp, address: str) -> str:
    """On /sign-in, type `address` and press the button; the text of the answer."""
    page.goto(app.url + "/sign-in")
    page.get_by_label("E-mail address").fill(address)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text(SENT)
    return str(page.locator("main").inner_text())


def session_cookies(page: Any) -> list[dict]:
    return [c for c in page.context.cookies() if c["name"] == "review_session"]


@JS
def test_a_head_signs_in_with_the_link_in_their_mail_and_signs_out(
    live_app: LiveApp, page: Any, artefacts: Artefacts, with_js: bool
) -> None:
    def check_accessible(what: str) -> None:
        if with_js:  # axe-core runs in the page; the markup is the same either way
            assert_accessible(page, what=what)

    page.goto(live_app.url + "/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_accessible("the sign-in page")
    artefacts.screenshot(page, "1-sign-in")

    # The same answer for an address nobody registered, and no mail for it.
    for_a_stranger = ask_for_link(page, live_app, STRANGER)
    for_the_head = ask_for_link(page, live_app, HEAD)
    assert for_the_head == for_a_stranger
    check_accessible("the sign-in page, link sent")
    artefacts.screenshot(page, "2-link-sent")

    message = live_app.mailbox.wait_for_mail(HEAD)
    link = link_in(message)
    assert link.startswith(live_app.url + "/sign-in/")
    assert live_app.mailbox.mail_to(STRANGER) == []

    # Opening the link (as a mail scanner would) does not sign in, nor use the link up.
    for visit in (1, 2):
        page.goto(link)
        expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
        assert session_cookies(page) == [], f"signed in by opening the link (visit {visit})"
    check_accessible("the sign-in link page")
    artefacts.screenshot(page, "3-link")

    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(live_app.url + "/")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(page.locator("main")).to_contain_text(HEAD_NAME)
    check_accessible("My work")
    artefacts.screenshot(page, "4-my-work")
    [cookie] = session_cookies(page)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/")

    # The link works once.
    answer = page.goto(link)
    assert answer is not None and answer.status == 410
    expect(page.get_by_role("alert")).to_contain_text(USED)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)

    page.goto(live_app.url + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(live_app.url + "/sign-in")
    assert session_cookies(page) == []
    page.goto(live_app.url + "/")
    assert page.url.split("?")[0] == live_app.url + "/sign-in"
    expect(page.get_by_label("E-mail address")).to_be_visible()


def test_the_accessibility_check_fails_an_unlabelled_field(page: Any) -> None:
    """The check the journeys rely on does fail a page with a serious violation."""
    page.set_content('<html lang="en"><body><main><input type="text"></main></body></html>')
    with pytest.raises(AssertionError, match=r"label \(critical\)"):
        assert_accessible(page, what="a page with an unlabelled field")
