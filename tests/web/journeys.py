"""Steps the browser journeys share: signing in through the link in the mail, a second person
in a browser of their own, every page checked with axe-core, and the cycle moved on at the
terminal (`review ...` on the same database) to where a journey starts.

The set-up is built with the CLI, as the facilitator and heads would type it; the clicks are
kept for what each journey is about. The CLI and the app both run on the real clock, so the
visit is held on a school day already past (tests.cli.test_cli_phases.VISIT_DAY)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import expect

from review_engine.web.rendering import page_url
from tests.cli.test_cli_phases import CYCLE, HEADS, VISIT_DAY
from tests.conftest import SAMPLES
from tests.web.browser import LiveApp, assert_accessible, link_in

SECONDARY = {"990103"}  # Hollinsgate: the sample secondary SEF fits it
# The write-up's triad: the host, its lead reviewer and two co-reviewers.
HOST, LEAD, CO_REVIEWERS = "990101", "990102", ("990103", "990104")
QUESTION = "To what extent do pupils who fall behind in reading catch up quickly?"


def url(app: LiveApp, urn: str, page: str) -> str:
    """The address of one school's page of the cycle (`sef`, `writeup`, `support`, ...)."""
    return app.url + page_url(CYCLE, int(urn), page)


def checked(page: Any, what: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    assert_accessible(page, what=what)


def sign_in(page: Any, app: LiveApp, email: str) -> None:
    """Ask for a link on /sign-in, open the one in the mail, press "Sign in": My work."""
    page.goto(app.url + "/sign-in")
    checked(page, "the sign-in page")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")
    page.goto(link_in(app.mailbox.wait_for_mail(email)))
    checked(page, "the sign-in link page")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(app.url + "/")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    checked(page, f"My work of {email}")


def watch(page: Any, errors: list[str]) -> Any:
    """Collect the page's uncaught script errors and those logged (htmx logs a failed swap)
    in `errors`; a journey asserts it empty at the end. Returns the page. (A status of 400
    is a form's answer and 404 the favicon nobody made: Chromium logs those too.)"""

    def logged(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"{page.url}: {message.text}")

    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.on("console", logged)
    return page


@contextmanager
def another_person(chromium: Any, errors: list[str]) -> Iterator[Any]:
    """A page in a browser context of its own (no cookies shared with the test's `page`),
    watched for script errors."""
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    try:
        yield watch(context.new_page(), errors)
    finally:
        context.close()


# --- the cycle moved on at the terminal ------------------------------------------------------


def as_head(app: LiveApp, urn: str, *args: str) -> str:
    return app.ok("--as", HEADS[urn], *args)


def open_self_review(app: LiveApp) -> None:
    app.ok("trigger", CYCLE, "open_self_review")


def submit_sample_sef(app: LiveApp, urn: str) -> None:
    name = "sef-secondary.md" if urn in SECONDARY else "sef-primary.md"
    as_head(app, urn, "sef", "submit", CYCLE, "--school", urn, str(SAMPLES / name))


def hold_the_visit(app: LiveApp) -> dict[str, Any]:
    """Every SEF in and accepted, the host's triad set (a lead and two co-reviewers), its
    visit held, and the cycle moved on to the write-up. The host's triad row."""
    open_self_review(app)
    for urn in HEADS:
        submit_sample_sef(app, urn)
        app.ok("trigger", CYCLE, "accept", "--machine", "self_review", "--school", urn)
    app.ok("trigger", CYCLE, "open_peer_review")
    app.ok("triads", "set", CYCLE, HOST, LEAD, *CO_REVIEWERS, "--lead", LEAD)
    as_head(app, HOST, "visit", "focus", CYCLE, "--school", HOST, "--focus", "learning_walk",
            "--question", QUESTION, "--area", "quality_of_education")  # fmt: skip
    as_head(app, HOST, "visit", "schedule", CYCLE, "--school", HOST, "--date", VISIT_DAY)
    as_head(app, HOST, "visit", "complete", CYCLE, "--school", HOST)
    app.ok("trigger", CYCLE, "open_write_up")
    [row] = [r for r in json.loads(app.ok("triads", "show", CYCLE, "--json"))
             if str(r["host"]) == HOST]  # fmt: skip
    return dict(row)


def publish_the_writeup(app: LiveApp) -> None:
    """The sample write-up drafted by the lead, agreed, published to the cluster; the cycle
    moved on to support."""
    as_head(app, LEAD, "writeup", "draft", CYCLE, "--school", HOST,
            str(SAMPLES / "writeup-sample.yaml"))  # fmt: skip
    for urn in (*CO_REVIEWERS, HOST):
        as_head(app, urn, "writeup", "agree", CYCLE, "--school", HOST)
    as_head(app, HOST, "writeup", "publish", CYCLE, "--school", HOST, "--share", "cluster")
    app.ok("trigger", CYCLE, "open_support")


# --- the facilitator's cluster, before its cycle starts -------------------------------------

CLUSTER = "Northbrook"
YEAR = "2026-27"
# A fifth school and its head: with five schools and two visitors per host, a host has a choice.
BROOKSIDE = "990105"
CLUSTER_HEADS = {**HEADS, BROOKSIDE: "head@brookside.example"}


def set_up_cluster_to_start(review: Any) -> None:
    """As the operator: the sample schools, the facilitator, a head for each of five schools
    (named "Head <URN>"), cluster Northbrook of those schools on the 2019 framework (the
    sample SEFs' framework), and the Sample LA term dates for LA 352 (Moss Lane, in LA 356,
    follows none). `review` is click's invoker; no cycle has started."""
    from tests.conftest import FACILITATOR

    operator = ("--as", "operator")

    def ok(*args: str) -> None:
        result = review(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)

    ok(*operator, "schools", "import", str(SAMPLES / "gias-sample.csv"))
    ok(*operator, "people", "add", FACILITATOR, "--name", "Fran", "--role", "facilitator")
    for urn, email in CLUSTER_HEADS.items():
        ok(*operator, "people", "add", email, "--name", f"Head {urn}", "--role", "head",
           "--school", urn)  # fmt: skip
    ok(*operator, "cluster", "create", CLUSTER, "--facilitator", FACILITATOR,
       "--framework", "eif2019")  # fmt: skip
    ok("cluster", "add", CLUSTER, *CLUSTER_HEADS)
    ok(*operator, "calendar", "import", "Sample LA", str(SAMPLES / "term-dates-2026-27.csv"))
    ok(*operator, "calendar", "assign", "Sample LA", "--la", "352")


def start_the_cycle(app: LiveApp) -> None:
    """The 2026-27 cycle started at the terminal and self-review opened."""
    app.ok("cycle", "start", "--cluster", CLUSTER, "--year", YEAR)
    open_self_review(app)


def accept_dialogs(page: Any) -> Any:
    """Answer OK to every "Are you sure?" (`data-confirm`) on the page; returns the page."""
    page.on("dialog", lambda dialog: dialog.accept())
    return page
