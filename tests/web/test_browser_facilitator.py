"""The facilitator's console in Chromium, as a facilitator runs a cluster's year: setting up
its people and starting the cycle (people, the cluster's settings, the start with its
confirmation, the plan, moving the cycle on); accepting and returning SEFs and forming the
triads (propose, preview, assign, one host's explanation, its visitors changed with the
constraints checked as they are chosen, a pinned pairing); reading the dashboard and
downloading its figures and every document; deactivating a head, whose session ends at once.

The cluster of five schools is set up at the terminal (there is no page to create a cluster),
with no cycle yet; journeys that need one start it at the terminal too. axe-core runs on every
page visited, and a script error fails the journey."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import FACILITATOR
from tests.web.browser import Artefacts, LiveApp, Mailbox
from tests.web.conftest import cli_against
from tests.web.journeys import (
    BROOKSIDE,
    CLUSTER,
    CLUSTER_HEADS,
    YEAR,
    accept_dialogs,
    another_person,
    checked,
    set_up_cluster_to_start,
    sign_in,
    start_the_cycle,
    submit_sample_sef,
    watch,
)

CYCLE = f"{CLUSTER}/{YEAR}"
NORTHBROOK, ST_AIDANS = "Northbrook Primary School", "St Aidan’s Church of England Primary School"
MOSS_LANE, BROOKSIDE_NAME = "Moss Lane Primary Academy", "Brookside Special School"
DEPUTY = ("Chris Lowe", "deputy@northbrook.example")
RENAMED = ("Head 990102", "Tom Whitfield")
RETURN_REASON = "Please add the evidence from your own learning walks to Leadership."


@pytest.fixture(scope="module")
def cluster_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's database (instead of tests/web/conftest.py's): cluster Northbrook of five
    schools, its facilitator and heads, and term dates; no cycle yet."""
    database = tmp_path_factory.mktemp("web-facilitator") / "review.sqlite"
    review = cli_against(
        {
            "REVIEW_DATABASE_URL": f"sqlite:///{database}",
            "REVIEW_DATA_DIR": str(database.parent),
            "REVIEW_ACTOR": FACILITATOR,
        }
    )
    result = review("init", "--rehearsal")
    assert result.exit_code == 0, result.stderr
    set_up_cluster_to_start(review)
    return database


def nav(page: Any, name: str) -> None:
    """Follow a link of the site's main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def cycle_nav(page: Any, name: str) -> None:
    """Follow a link of the cycle's own navigation (Plan, Triads, ...)."""
    page.get_by_role("navigation", name="This cycle").get_by_role(
        "link", name=name, exact=True
    ).click()


def status(page: Any) -> Any:
    """The page's notice of what was just done."""
    return page.locator("main").get_by_role("status").first


# --- 1. set up and start -----------------------------------------------------------------------


def test_the_facilitator_sets_up_people_and_starts_the_cycle(live_app: LiveApp, page: Any) -> None:
    errors: list[str] = []
    accept_dialogs(watch(page, errors))
    sign_in(page, live_app, FACILITATOR)

    # People: a deputy added for Northbrook through the form.
    nav(page, "People")
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    people = page.get_by_role("table")
    for urn in CLUSTER_HEADS:
        expect(people.get_by_role("link", name=f"Head {urn}", exact=True)).to_be_visible()
    checked(page, "People")
    page.get_by_role("link", name="Add a person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a person")
    checked(page, "the form to add a person")
    name, email = DEPUTY
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Role").select_option(label="Deputy head teacher")
    page.get_by_label("School").select_option(label=f"{NORTHBROOK} (990101)")
    page.get_by_role("button", name="Add this person").click()
    expect(status(page)).to_have_text(f"{name} has been added.")
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("Deputy head teacher")
    expect(summary).to_contain_text(f"{NORTHBROOK} (URN 990101)")
    checked(page, "the deputy, added")

    # A head's name corrected: saved, and the change recorded.
    page.get_by_role("link", name="Back to people").click()
    expect(people.get_by_role("link", name=name)).to_be_visible()
    old, new = RENAMED
    people.get_by_role("link", name=old, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(old)
    checked(page, f"{old}'s page")
    page.get_by_label("Full name").fill(new)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(new)
    expect(status(page)).to_have_text("The changes have been saved.")
    change = page.get_by_role("table").filter(has_text="From").get_by_role("row").nth(1)
    expect(change).to_contain_text(old)
    expect(change).to_contain_text(new)
    checked(page, f"{new}'s page, renamed")

    # The cluster's settings, from Cycles.
    nav(page, "Cycles")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cycles")
    expect(page.locator("main")).to_contain_text("No cycle has started yet.")
    checked(page, "Cycles, before the first")
    page.get_by_role("link", name=f"Settings of {CLUSTER}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{CLUSTER}: settings")
    settings = page.locator("dl.summary")
    expect(settings).to_contain_text("5")  # member schools
    expect(settings).to_contain_text("None yet")  # cycles
    checked(page, "the cluster's settings")
    visitors = page.get_by_label("Visiting schools per host")
    expect(visitors).to_have_value("3")
    visitors.fill("2")  # no cycle runs yet, so it can change
    page.get_by_role("button", name="Save settings").click()
    expect(status(page)).to_have_text("The settings have been saved.")
    expect(page.locator("dl.summary")).to_contain_text("Visiting schools per host2")
    logged = page.get_by_role("table").get_by_role("row").filter(has_text="visitors per host")
    expect(logged).to_have_count(1)
    checked(page, "the cluster's settings, changed")

    # Start the cycle: the confirmation step names the calendar and the school without one.
    nav(page, "Cycles")
    page.get_by_label("Cluster").select_option(label=CLUSTER)
    page.get_by_label("Academic year").select_option(label=YEAR)
    page.get_by_role("button", name="Check and start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Start the {YEAR} cycle of {CLUSTER}"
    )
    calendar = page.locator("dl.summary")
    expect(calendar).to_contain_text("The Sample LA 2026-27 calendar")
    expect(calendar).to_contain_text("5 current member schools")
    expect(page.locator(".notice.returned").first).to_contain_text(MOSS_LANE)
    checked(page, "the start of the cycle, to confirm")
    where = page.get_by_role("group", name="Where should the cycle start?")
    if where.count():  # dates of the plan have passed: start from its beginning
        where.get_by_label("From the beginning of the plan").check()
    page.get_by_role("button", name="Start the cycle").click()

    # The plan: a timeline; the facilitator opens self-review now.
    expect(page).to_have_url(re.compile(r"/cycles/Northbrook/2026-27/plan\?done=started$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Plan of {CYCLE}")
    expect(status(page)).to_contain_text("The cycle has started")
    expect(page.locator(".lead")).to_contain_text("Not started yet")
    timeline = page.get_by_role("table")
    expect(timeline.get_by_role("row").filter(has_text="Self-review opens")).to_have_count(1)
    expect(timeline.get_by_role("row").filter(has_text="Peer visits opens")).to_have_count(1)
    checked(page, "the plan, started")
    page.get_by_role("button", name="Open “Self-review” now").click()
    expect(status(page)).to_have_text("Done: the cycle is now at “Self-review”.")
    expect(page.locator(".lead")).to_contain_text("Self-review")
    expect(page.get_by_role("button", name="Open “Peer visits” now")).to_be_visible()
    checked(page, "the plan, self-review open")

    nav(page, "Cycles")
    row = page.get_by_role("row").filter(has_text=YEAR)
    expect(row).to_contain_text("Self-review")
    assert errors == [], "script errors in the pages"


# --- 2. SEFs and triads ------------------------------------------------------------------------


def visitors_of(page: Any, host: str) -> Any:
    """The checkboxes of the schools that visit `host`."""
    return page.get_by_role("group", name=f"Schools that visit {host}")


def test_the_facilitator_decides_sefs_and_forms_the_triads(
    live_app: LiveApp, page: Any, artefacts: Artefacts
) -> None:
    live_app.ok("cluster", "update", CLUSTER, "--visitors-per-host", "2")
    start_the_cycle(live_app)
    live_app.ok("conflicts", "add", CLUSTER, "990101", BROOKSIDE, "--reason", "One governing body")
    for urn in ("990101", "990102"):
        submit_sample_sef(live_app, urn)
    errors: list[str] = []
    accept_dialogs(watch(page, errors))
    sign_in(page, live_app, FACILITATOR)

    # The SEFs: one accepted, one returned (a return without a reason is refused first).
    nav(page, "Cycles")
    page.get_by_role("link", name=f"Self-evaluations of {CYCLE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Self-evaluations of {CYCLE}")
    expect(page.locator(".lead")).to_contain_text("2 self-evaluations are waiting")
    checked(page, "the SEFs, two waiting")
    page.get_by_role("button", name=f"Accept the self-evaluation of {NORTHBROOK}").click()
    expect(status(page)).to_have_text(f"You accepted the self-evaluation of {NORTHBROOK}.")
    expect(page.locator("#sef-990101")).to_contain_text("Accepted")
    checked(page, "the SEFs, one accepted")
    page.get_by_role("button", name=f"Return the self-evaluation of {ST_AIDANS}").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why you are returning it")
    reason = page.get_by_label(f"Reason for returning it ({ST_AIDANS})")
    expect(reason).to_have_attribute("aria-invalid", "true")
    checked(page, "the SEFs, a return without a reason")
    reason.fill(RETURN_REASON)
    page.get_by_role("button", name=f"Return the self-evaluation of {ST_AIDANS}").click()
    expect(status(page)).to_have_text(f"You returned the self-evaluation of {ST_AIDANS}.")
    expect(page.locator("#sef-990102")).to_contain_text("Returned to the school")
    expect(page.locator(".lead")).to_contain_text("None is waiting for you")
    checked(page, "the SEFs, decided")

    # On to peer visits, from the plan.
    cycle_nav(page, "Plan")
    page.get_by_role("button", name="Open “Peer visits” now").click()
    expect(status(page)).to_have_text("Done: the cycle is now at “Peer visits”.")
    checked(page, "the plan, peer visits open")

    # Triads: a preview of the solver's proposal, then assigned.
    cycle_nav(page, "Triads")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Triads of {CYCLE}")
    expect(page.locator(".lead")).to_contain_text("No school has visitors yet")
    checked(page, "the triads, none yet")
    expect(page.get_by_label("Visiting schools per host")).to_have_value("2")  # the cluster's
    page.get_by_role("button", name="Preview a proposal").click()
    proposal = page.get_by_role("region", name="The solver's proposal (not saved yet)")
    expect(proposal.get_by_role("row")).to_have_count(6)  # the header and five hosts
    expect(page.locator(".lead")).to_contain_text("No school has visitors yet")  # not saved
    checked(page, "the triads, a proposal previewed")
    proposal.get_by_role("button", name="Assign these triads").click()
    expect(status(page)).to_contain_text("Triads assigned to 5 host schools")
    expect(page.locator(".lead")).to_contain_text("5 of 5 schools have their visitors")
    checked(page, "the triads, assigned")

    # One host's explanation, and its visitors changed.
    page.get_by_role("link", name=f"Why, and change the visitors of {NORTHBROOK}").click()
    change = page.get_by_role("region", name=f"Visitors of {NORTHBROOK}")
    expect(change.get_by_role("heading", name="Why these visitors")).to_be_visible()
    checked(page, f"why {NORTHBROOK} has its visitors")
    ticks = visitors_of(page, NORTHBROOK)
    expect(ticks.get_by_role("checkbox", checked=True)).to_have_count(2)
    expect(ticks.get_by_label(BROOKSIDE_NAME)).not_to_be_checked()  # the declared conflict
    chosen = [
        str(ticks.get_by_role("checkbox").nth(i).get_attribute("value"))
        for i in range(ticks.get_by_role("checkbox").count())
        if ticks.get_by_role("checkbox").nth(i).is_checked()
    ]
    [spare] = {"990102", "990103", "990104"} - set(chosen)
    check = page.locator("#triad-check")

    # Brookside (in conflict with Northbrook) chosen: htmx checks it as it is ticked ...
    with page.expect_response(lambda r: r.url.endswith("/triads/check")):
        ticks.get_by_label(BROOKSIDE_NAME).check()
    expect(check).to_contain_text("This choice cannot be saved")
    expect(check).to_contain_text(f"{BROOKSIDE_NAME} ({BROOKSIDE}) may not visit {NORTHBROOK}")
    checked(page, "a conflicting visitor, checked as chosen")
    # ... and Save refuses it, saying why beside the choice.
    page.get_by_role("button", name=f"Save the visitors of {NORTHBROOK}").click()
    expect(page.locator("#triad-check")).to_contain_text("This choice cannot be saved")
    expect(visitors_of(page, NORTHBROOK).get_by_label(BROOKSIDE_NAME)).to_be_checked()
    checked(page, "a conflicting visitor, refused")

    # A valid choice: Brookside and one visitor swapped for the school not chosen, which leads.
    ticks = visitors_of(page, NORTHBROOK)
    ticks.get_by_label(BROOKSIDE_NAME).uncheck()
    ticks.locator(f"#visitor-{chosen[0]}").uncheck()
    with page.expect_response(lambda r: r.url.endswith("/triads/check")):
        ticks.locator(f"#visitor-{spare}").check()
    page.get_by_label("Lead reviewer").select_option(spare)
    expect(page.locator("#triad-check")).to_contain_text("No conflicts: this choice can be saved")
    page.get_by_role("button", name=f"Save the visitors of {NORTHBROOK}").click()
    expect(status(page)).to_have_text(f"The visitors of {NORTHBROOK} are saved.")
    saved = sorted([chosen[1], spare])
    ticks = visitors_of(page, NORTHBROOK)
    for urn in saved:
        expect(ticks.locator(f"#visitor-{urn}")).to_be_checked()
    expect(ticks.locator(f"#visitor-{chosen[0]}")).not_to_be_checked()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=NORTHBROOK))
    expect(row).to_contain_text("(lead)")
    expect(row).to_contain_text(re.compile(r"[1-9]\.\d km"))  # measured, as the solver's are
    expect(row).not_to_contain_text(" 0.0 km")
    checked(page, "the visitors, saved")

    # A pairing pinned for the solver.
    page.get_by_label("Visiting school", exact=True).select_option(label=MOSS_LANE)
    page.get_by_label(f"must visit {NORTHBROOK}", exact=True).check()
    page.get_by_role("button", name="Pin", exact=True).click()
    expect(status(page)).to_contain_text("Pairing saved")
    expect(page.locator("main")).to_contain_text(f"{MOSS_LANE} must visit {NORTHBROOK}")
    checked(page, "a pairing pinned")
    artefacts.screenshot(page, "triads")
    assert errors == [], "script errors in the pages"


# --- 3. the dashboard and the documents --------------------------------------------------------


def test_the_facilitator_reads_the_dashboard_and_downloads_the_figures_and_documents(
    live_app: LiveApp, page: Any, artefacts: Artefacts
) -> None:
    """Three SEFs in (one accepted), the daily update run as on the Monday after they were
    due (the two SEFs not in marked overdue, their heads reminded), triads formed."""
    start_the_cycle(live_app)
    for urn in ("990101", "990102", "990103"):
        submit_sample_sef(live_app, urn)
    live_app.ok("trigger", CYCLE, "accept", "--machine", "self_review", "--school", "990101")
    live_app.ok("--as", "operator", "tick", "--now", "2026-10-19T07:00")
    live_app.ok("triads", "propose", CYCLE, "--visitors", "2")
    errors: list[str] = []
    watch(page, errors)
    sign_in(page, live_app, FACILITATOR)

    # The grid: every school, each phase's state in words; the waiting list; the charts.
    nav(page, "Dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dashboard: {CLUSTER}, {YEAR}")
    grid = page.get_by_role("table", name="Every school by phase")
    expect(grid.get_by_role("row")).to_have_count(6)  # the header and five schools
    northbrook = grid.get_by_role("row").filter(has=page.get_by_role("link", name=NORTHBROOK))
    expect(northbrook).to_contain_text("Accepted")
    moss_lane = grid.get_by_role("row").filter(has=page.get_by_role("link", name=MOSS_LANE))
    expect(moss_lane).to_contain_text("Overdue")
    expect(moss_lane).to_contain_text("Not started")
    waiting = page.get_by_role("table", name="Overdue and waiting")
    expect(waiting.get_by_role("row").filter(has_text=MOSS_LANE).first).to_contain_text("Overdue")
    for chart in ("Progress of each phase", "Where each phase stands", "Support actions by RAG",
                  "Visits given and received", "How useful visits were"):  # fmt: skip
        section = page.get_by_role("region", name=chart)
        expect(section.locator("svg")).to_have_count(1)
        expect(section.get_by_role("table")).to_have_count(1)
    checked(page, "the dashboard")
    artefacts.screenshot(page, "dashboard")

    # Only what is overdue; its figures as CSV.
    page.get_by_label("Only schools with something overdue").check()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]overdue=1"))
    overdue = page.get_by_role("table", name="Every school by phase").get_by_role("row")
    expect(overdue).to_have_count(3)  # the header, Moss Lane and Brookside: no SEF by the date
    expect(overdue.filter(has_text=NORTHBROOK)).to_have_count(0)
    checked(page, "the dashboard, overdue only")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert MOSS_LANE in text and BROOKSIDE_NAME in text and NORTHBROOK not in text, text
    assert len(list(csv.reader(io.StringIO(text)))) >= 3

    # Drill down to one school's year.
    page.get_by_role("table", name="Every school by phase").get_by_role(
        "link", name=MOSS_LANE
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{MOSS_LANE}: the year")
    expect(page.locator("main")).to_contain_text("Overdue")
    checked(page, f"{MOSS_LANE}'s year")

    # The history of one school.
    nav(page, "Cycles")
    page.get_by_role("link", name=f"History of {CYCLE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"History of {CYCLE}")
    checked(page, "the history")
    page.get_by_label("School").select_option(label=NORTHBROOK)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]school=990101"))
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text="Accepted")).not_to_have_count(0)
    schools = rows.locator("td:nth-child(2)").all_inner_texts()
    assert schools and set(schools) == {NORTHBROOK}, schools
    checked(page, "the history of one school")

    # Every document of the cycle as one zip: HTML and PDF.
    with page.expect_download() as download:
        cycle_nav(page, "All documents (zip)")
    assert download.value.suggested_filename == "documents-Northbrook-2026-27.zip"
    names = zipfile.ZipFile(download.value.path()).namelist()
    html = {n.removeprefix("html/").removesuffix(".html") for n in names if n.startswith("html/")}
    pdf = {n.removeprefix("pdf/").removesuffix(".pdf") for n in names if n.startswith("pdf/")}
    assert html and html == pdf, names

    # The outbox: the reminders the update wrote.
    nav(page, "Cycles")
    page.get_by_role("link", name="Messages sent and waiting (outbox)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    messages = page.get_by_role("table").get_by_role("row")
    expect(messages.filter(has_text=CLUSTER_HEADS["990104"]).first).to_be_visible()
    checked(page, "the outbox")
    assert errors == [], "script errors in the pages"


# --- 4. a head who has left -------------------------------------------------------------------


def test_a_deactivated_heads_session_ends_and_no_new_link_is_sent(
    live_app: LiveApp, page: Any, chromium: Any
) -> None:
    urn = "990104"
    head, name = CLUSTER_HEADS[urn], f"Head {urn}"
    errors: list[str] = []
    accept_dialogs(watch(page, errors))
    mailbox: Mailbox = live_app.mailbox
    with another_person(chromium, errors) as their_page:
        sign_in(their_page, live_app, head)
        expect(their_page.locator("main")).to_contain_text(name)
        assert len(mailbox.mail_to(head)) == 1  # the link they signed in with

        # The facilitator deactivates them, through the confirmation page.
        sign_in(page, live_app, FACILITATOR)
        nav(page, "People")
        page.get_by_role("table").get_by_role("link", name=name, exact=True).click()
        page.get_by_role("link", name=f"Deactivate {name}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Deactivate {name}?")
        expect(page.locator("main")).to_contain_text("will be signed out at once")
        checked(page, "the confirmation to deactivate")
        page.get_by_role("button", name=f"Yes, deactivate {name}").click()
        expect(status(page)).to_contain_text(f"{name} has been deactivated")
        expect(page.locator("dl.summary")).to_contain_text("Deactivated")
        checked(page, "the head, deactivated")
        page.get_by_role("link", name="Back to people").click()
        page.get_by_label("Status").select_option(label="Deactivated only")
        page.get_by_role("button", name="Show", exact=True).click()
        expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)
        expect(page.get_by_role("table")).to_contain_text(name)
        checked(page, "the people deactivated")

        # Their next request, in their own browser, lands on the sign-in page.
        their_page.reload()
        expect(their_page).to_have_url(re.compile(r"/sign-in(\?.*)?$"))
        expect(their_page.get_by_label("E-mail address")).to_be_visible()
        checked(their_page, "the sign-in page, after deactivation")

        # Asking for a new link answers as for anyone, and sends nothing.
        their_page.get_by_label("E-mail address").fill(head)
        their_page.get_by_role("button", name="Send me a sign-in link").click()
        expect(their_page.get_by_role("status")).to_contain_text("a sign-in link is on its way")
    # A link asked for afterwards by someone active arrives: the head's would have come first.
    other = CLUSTER_HEADS["990101"]
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail address").fill(other)
    page.get_by_role("button", name="Send me a sign-in link").click()
    mailbox.wait_for_mail(other)
    assert len(mailbox.mail_to(head)) == 1, "a deactivated head was sent a new link"
    assert errors == [], "script errors in the pages"
