"""Inside Knowledge in Chromium: a visiting school finds a visit in the public prospectus,
signs in, books places for a named practitioner with a question and, once the host publishes
it, reads and acknowledges the agenda; a host school makes an offer, publishes it and writes
the agenda from its visitors' questions; the programme admin approves a nomination and reads
the quality report. The prospectus also works with JavaScript off. axe-core on every page;
screenshots kept with the artefacts ($REVIEW_TEST_ARTEFACTS).

The programme, hosts and other schools' moves are made at the terminal (`review ik ...` on the
same database), as the journeys in tests/web do; the app runs on the real clock, so the visit
is a few weeks ahead."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.cli.test_cli_phases import HEADS
from tests.web.browser import Artefacts, LiveApp
from tests.web.journeys import accept_dialogs, another_person, checked, sign_in, watch

OPERATOR = ("--as", "operator")
ADMIN = "admin@programme.example"
OFFICER = "officer@sample-la.example"
HOST, HOST_NAME = "990101", "Northbrook Primary School"
VISITOR, VISITOR_NAME = "990102", "St Aidan’s Church of England Primary School"
TITLE = "Writing journals in Year 5"
QUESTION = "How do you moderate the journals across classes?"
AGENDA = "09:00 Welcome and the school's approach\n\n09:30 Year 5 lesson: journals"


def visit_day() -> date:
    """A Tuesday four to five weeks ahead: after any booking deadline a test sets."""
    day = date.today() + timedelta(days=28)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def as_person(app: LiveApp, email: str, *args: str) -> str:
    return app.ok("--as", email, *args)


def start_the_programme(app: LiveApp) -> None:
    """The programme with the first round's topics, an admin who signs in, a local authority
    officer as a stakeholder, and Northbrook nominated and approved for two topics."""
    app.ok(*OPERATOR, "people", "add", ADMIN, "--name", "Pat Admin", "--role", "admin")
    app.ok(*OPERATOR, "people", "add", OFFICER, "--name", "Olu Officer", "--role",
           "programme_lead")  # fmt: skip
    app.ok(*OPERATOR, "ik", "programme", "create", "Inside Knowledge", "2026-27",
           "--first-round-topics")  # fmt: skip
    app.ok(*OPERATOR, "ik", "stakeholder", "add", "Inside Knowledge/2026-27", OFFICER,
           "--organisation", "Sample LA")  # fmt: skip
    for topic in ("ks2-writing", "budgets"):
        made = json.loads(as_person(app, OFFICER, "ik", "nominate", "--topic", topic,
                                    "--school", HOST, "--reason", "Excels", "--json"))  # fmt: skip
        app.ok(*OPERATOR, "ik", "approve", str(made["id"]))


def publish_an_offer(app: LiveApp, title: str = TITLE) -> int:
    """Northbrook's published offer for two schools of two practitioners; its id."""
    day = visit_day()
    made = json.loads(
        as_person(
            app, HEADS[HOST], "ik", "offer", "create", "--topic", "ks2-writing",
            "--title", title, "--summary", "Year 5 pupils keep writing journals.",
            "--date", day.isoformat(), "--slot", "morning", "--schools", "2",
            "--practitioners", "2", "--deadline", (day - timedelta(days=7)).isoformat(),
            "--json",
        )
    )  # fmt: skip
    as_person(app, HEADS[HOST], "ik", "offer", "publish", str(made["id"]))
    return int(made["id"])


def main_nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def status(page: Any) -> Any:
    return page.get_by_role("status").first


def search(page: Any) -> None:
    """Press Search and wait for the results (htmx swaps them in when JavaScript is on)."""
    with page.expect_response(lambda r: "/prospectus?" in r.url):
        page.get_by_role("button", name="Search").click()
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    expect(page.locator(busy)).to_have_count(0)


# --- 1. a visiting school ------------------------------------------------------------------


def test_a_visitor_finds_an_offer_signs_in_books_and_sees_the_agenda(
    live_app: LiveApp, page: Any, artefacts: Artefacts
) -> None:
    start_the_programme(live_app)
    offer = publish_an_offer(live_app)
    errors: list[str] = []
    accept_dialogs(watch(page, errors))

    # The prospectus, with nobody signed in: a search by words and region finds the visit.
    page.goto(live_app.url + "/")
    main_nav(page, "Prospectus of visits")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Inside Knowledge: visits to schools that excel"
    )
    checked(page, "the prospectus, no sign-in")
    page.get_by_label("Near your school").fill("ZZ9 9ZZ")
    search(page)
    expect(page.get_by_role("alert")).to_contain_text("No school has the URN or postcode ZZ9 9ZZ")
    checked(page, "the prospectus, a postcode nobody has")
    page.get_by_label("Near your school").fill("")
    page.get_by_label("Words").fill("journals")
    page.get_by_label("Region").select_option("North West")
    search(page)
    expect(page).to_have_url(re.compile(r"q=journals.*region=North"))
    results = page.get_by_role("region", name="Visits")
    expect(results.get_by_role("status")).to_have_text("1 visit, soonest first.")
    checked(page, "the prospectus, searched")
    results.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("main")).to_contain_text("2 of 2 places left")
    expect(page.locator("main")).to_contain_text(HOST_NAME)
    checked(page, "an offer, no sign-in")
    artefacts.screenshot(page, "1-offer")
    expect(page.get_by_role("link", name="Sign in to book places")).to_be_visible()

    # Signed in, back to the visit from the Inside Knowledge page, and booked.
    sign_in(page, live_app, HEADS[VISITOR])
    main_nav(page, "Inside Knowledge")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inside Knowledge")
    expect(page.locator("main")).to_contain_text("Your school has not booked a visit.")
    checked(page, "Inside Knowledge, nothing booked")
    page.get_by_role("link", name="Find a visit in the prospectus").click()
    page.get_by_label("Near your school").fill(VISITOR)
    search(page)
    expect(page).to_have_url(re.compile(f"near={VISITOR}"))
    expect(page.get_by_role("region", name="Visits").get_by_role("status")).to_contain_text(
        "nearest to St Aidan"
    )
    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(f"{live_app.url}/prospectus/offers/{offer}")
    page.get_by_role("button", name="Book places").click()  # nobody named yet
    expect(page.get_by_role("alert")).to_contain_text("Name at least one practitioner")
    checked(page, "the booking form, nobody named")
    first = page.get_by_role("group", name="Practitioner 1")
    first.get_by_label("Name", exact=True).fill("Jo Writer")
    first.get_by_label("Role (optional)").fill("Year 5 teacher")
    page.get_by_label("Questions for the host (optional)").fill(QUESTION)
    checked(page, "the booking form, filled in")
    page.get_by_role("button", name="Book places").click()
    expect(status(page)).to_have_text("Your booking is made.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Your booking: {TITLE}")
    main = page.locator("main")
    expect(main).to_contain_text("Your school has a place on this visit.")
    expect(main).to_contain_text("Jo Writer (Year 5 teacher)")
    expect(main).to_contain_text(QUESTION)
    expect(main).to_contain_text("The host has not published the agenda yet.")
    checked(page, "the booking, no agenda yet")
    artefacts.screenshot(page, "2-booked")

    # The host publishes the agenda (at the terminal); the visitor reads and acknowledges it.
    as_person(live_app, HEADS[HOST], "ik", "agenda", "publish", str(offer), "--text", AGENDA)
    page.reload()
    agenda = page.get_by_role("heading", name="The agenda")
    expect(agenda).to_be_visible()
    expect(main).to_contain_text("09:30 Year 5 lesson: journals")
    checked(page, "the booking, the agenda published")
    page.get_by_role("button", name="Acknowledge the agenda").click()
    expect(status(page)).to_have_text("Thank you: you have acknowledged the agenda.")
    expect(main).to_contain_text("Your school has acknowledged this agenda.")
    checked(page, "the booking, the agenda acknowledged")
    artefacts.screenshot(page, "3-agenda-acknowledged")
    main_nav(page, "Inside Knowledge")
    row = page.get_by_role("row", name=TITLE)
    expect(row).to_contain_text("Confirmed")
    expect(row).to_contain_text("Acknowledged")
    assert errors == [], "script errors in the pages"


@pytest.mark.parametrize("browser_context", [{"java_script_enabled": False}], indirect=True)
def test_the_prospectus_searches_and_pages_without_javascript(
    live_app: LiveApp, page: Any, artefacts: Artefacts
) -> None:
    start_the_programme(live_app)
    publish_an_offer(live_app)
    publish_an_offer(live_app, "Journals in Year 6")
    page.goto(live_app.url + "/prospectus")
    page.get_by_label("Phase").select_option("Secondary")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/prospectus\?q=&.*&phase=secondary&"))  # a plain GET
    expect(page.get_by_role("region", name="Visits")).to_contain_text(
        "No visits match your search."
    )
    page.get_by_label("Phase").select_option("Primary")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("region", name="Visits")
    expect(results.get_by_role("status")).to_have_text("2 visits, soonest first.")
    results.get_by_role("link", name="Journals in Year 6").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journals in Year 6")
    page.get_by_role("link", name="Back to the prospectus").click()
    page.get_by_label("Near your school").fill("M19 3BL")  # St Aidan's postcode
    page.get_by_label("Within (km)").fill("5")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("region", name="Visits").get_by_role("status")).to_contain_text(
        "2 visits, nearest to St Aidan"
    )
    artefacts.screenshot(page, "prospectus-without-javascript")


# --- 2. a host school ----------------------------------------------------------------------


def test_a_host_publishes_an_offer_and_its_agenda(
    live_app: LiveApp, page: Any, chromium: Any, artefacts: Artefacts
) -> None:
    start_the_programme(live_app)
    day = visit_day()
    errors: list[str] = []
    accept_dialogs(watch(page, errors))
    sign_in(page, live_app, HEADS[HOST])
    main_nav(page, "Inside Knowledge")
    expect(page.locator("main")).to_contain_text("Your school is approved to host visits")
    checked(page, "Inside Knowledge for a host")
    page.get_by_role("link", name="Offer a visit").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Offer a visit")
    checked(page, "a new offer")
    page.get_by_label("Topic").select_option(label="Pupils' writing at Key Stage 2 (Primary)")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("What visitors will see").fill(
        "Year 5 pupils keep writing journals.\n\nYou meet the English lead and two classes."
    )
    page.get_by_label("Date of the visit").fill(day.isoformat())
    page.get_by_label("Morning (9:00 to 12:30)").check()
    page.get_by_label("Visiting schools").fill("2")
    page.get_by_label("Last day to book").fill((day - timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Save the draft").click()
    expect(status(page)).to_contain_text("The visit is saved as a draft")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Run the visit: {TITLE}")
    expect(page.locator(".lead")).to_contain_text("Draft (not yet in the prospectus)")
    checked(page, "the offer, a draft")
    offer = page.url.split("/offers/")[1].split("?")[0]

    # Nobody else sees a draft; published, it is in the prospectus.
    with another_person(chromium, errors) as reader:
        reader.goto(f"{live_app.url}/prospectus/offers/{offer}")
        expect(reader.get_by_role("heading", level=1)).to_have_text("Not found")
        page.get_by_role("button", name="Publish in the prospectus").click()
        expect(status(page)).to_have_text(
            "The visit is in the prospectus: schools can book it now."
        )
        expect(page.locator(".lead")).to_contain_text("Open for booking")
        checked(page, "the offer, published")
        reader.goto(f"{live_app.url}/prospectus")
        expect(reader.get_by_role("link", name=TITLE)).to_be_visible()

    # A school books at the terminal with a question; the host sees it and writes the agenda.
    as_person(live_app, HEADS[VISITOR], "ik", "book", offer, "--practitioner",
              "Jo Writer <jo@st-aidans.example>", "--question", QUESTION)  # fmt: skip
    page.reload()
    visitors = page.get_by_role("table", name="Schools with a place (1 of 2)")
    expect(visitors).to_contain_text(VISITOR_NAME)
    expect(visitors).to_contain_text("Jo Writer")
    expect(visitors).to_contain_text(QUESTION)
    checked(page, "the offer with a visiting school")
    page.get_by_role("button", name="Publish the agenda").click()  # nothing written yet
    expect(page.get_by_role("alert")).to_contain_text("Write the outline agenda")
    page.get_by_label("Write the outline agenda").fill(AGENDA)
    page.get_by_role("button", name="Publish the agenda").click()
    expect(status(page)).to_have_text("The agenda is published: the schools with places are told.")
    expect(page.locator("main")).to_contain_text("Acknowledged by 0 of 1 school with a place.")
    checked(page, "the offer, the agenda published")
    artefacts.screenshot(page, "host-offer-and-agenda")
    pack = page.request.get(f"{live_app.url}/inside-knowledge/offers/{offer}/pack")
    assert pack.status == 200 and "Jo Writer" in pack.text()
    assert errors == [], "script errors in the pages"


# --- 3. the programme admin ----------------------------------------------------------------


def test_the_admin_approves_a_nomination_and_reads_the_report(
    live_app: LiveApp, page: Any, artefacts: Artefacts
) -> None:
    start_the_programme(live_app)
    offer = publish_an_offer(live_app)
    as_person(live_app, HEADS[VISITOR], "ik", "book", str(offer), "--practitioner",
              "Jo Writer <jo@st-aidans.example>")  # fmt: skip
    as_person(live_app, OFFICER, "ik", "nominate", "--topic", "sustainability", "--school",
              VISITOR, "--reason", "A solar roof and a school garden run by pupils")  # fmt: skip
    errors: list[str] = []
    accept_dialogs(watch(page, errors))
    sign_in(page, live_app, ADMIN)
    main_nav(page, "Inside Knowledge")
    checked(page, "Inside Knowledge for the programme admin")
    page.get_by_role("link", name="1 nomination to decide").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nominations")
    row = page.get_by_role("row", name=VISITOR_NAME)
    expect(row).to_contain_text("A solar roof and a school garden run by pupils")
    expect(row).to_contain_text("Olu Officer, Sample LA")
    checked(page, "the nominations, one to decide")
    row.get_by_role("button", name=f"Approve {VISITOR_NAME} for Sustainability").click()
    expect(status(page)).to_contain_text("The nomination is approved")
    expect(page.get_by_role("row", name=VISITOR_NAME)).to_contain_text("Approved")
    checked(page, "the nominations, approved")
    artefacts.screenshot(page, "nominations")

    page.get_by_role("link", name="Back to Inside Knowledge").click()
    page.get_by_role("link", name="Quality report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Quality report: Inside Knowledge 2026-27"
    )
    expect(page.get_by_role("img", name="Places by topic")).to_be_visible()
    topics = page.get_by_role("table", name="By topic: places, attendance, ratings and change "
                              "in practice")  # fmt: skip
    expect(topics.get_by_role("row", name="Pupils' writing at Key Stage 2")).to_contain_text("1")
    hosts = page.get_by_role("table", name="By host school: places, attendance, ratings and "
                             "change in practice")  # fmt: skip
    expect(hosts).to_contain_text(HOST_NAME)
    checked(page, "the quality report")
    artefacts.screenshot(page, "quality-report")
    with page.expect_download() as csv:
        page.get_by_role("link", name="Download the CSV").click()
    assert csv.value.suggested_filename.endswith(".csv")
    assert errors == [], "script errors in the pages"
