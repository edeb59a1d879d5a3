"""Inside Knowledge in the web app, as people use it: the public prospectus (no sign-in:
search, pages, an offer's page; never a draft), a school booking places for named
practitioners (confirmed while places last, then the waiting list, a cancellation giving the
place to the first school waiting), the host making, publishing and running an offer (its
visitors and their questions, the agenda, attendance, feedback, the visit pack), the
visitor's agenda, feedback and reflection, the admin's nominations and quality report; every
POST needs the CSRF token, another school's booking or a draft offer is the 404 of an address
that does not exist, and each page's SQL statements stay fixed however many offers and
bookings there are. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from review_engine.core.domain import Role
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import people
from review_engine.services.knowledge import bookings, nominations, offers, programme
from review_engine.services.knowledge.views import Practitioner
from review_engine.testing import FakeClock
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import HEADS, at

ADMIN = "admin@programme.example"
OFFICER = "officer@sample-la.example"
HOST = 990101  # Northbrook Primary School, North West
HOST_NAME = "Northbrook Primary School"
VISITOR, VISITOR_NAME = 990102, "St Aidan’s Church of England Primary School"
SECOND, SECOND_NAME = 990104, "Moss Lane Primary Academy"
THIRD = 990106  # Whitebeck Infant School
SECONDARY = 990103  # Hollinsgate Academy: a ks2-writing visit does not suit it
VISIT_DAY = date(2026, 11, 10)  # a Tuesday
DEADLINE = date(2026, 11, 3)
TITLE = "Writing journals in Year 5"
DRAFT_TITLE = "Budget planning with governors DRAFTONLY"
NOWHERE = 999_999


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[-1].split("</main>", 1)[0]


@dataclass(frozen=True)
class Round:
    """A programme with Northbrook approved for two topics, one published offer (two schools
    of two practitioners) and one draft."""

    programme: str
    offer: int
    draft: int


def _offer(rt: Runtime, prog: str, topic: str, title: str, day: date = VISIT_DAY) -> int:
    return offers.create_offer(
        rt.acting_as(HEADS[HOST]),
        programme=prog,
        topic=topic,
        title=title,
        summary="Year 5 pupils keep writing journals.\n\nYou will see two lessons and meet the "
        "English lead.",
        visit_date=day,
        slot="morning",
        schools=2,
        practitioners=2,
        booking_deadline=day - timedelta(days=7),
    ).id


def set_up_round(rt: Runtime) -> Round:
    operator = rt.acting_as(OPERATOR)
    people.add_person(operator, email=ADMIN, name="Pat Admin", role=Role.ADMIN)
    people.add_person(operator, email=OFFICER, name="Olu Officer", role=Role.PROGRAMME_LEAD)
    admin = rt.acting_as(ADMIN)
    made = programme.create_programme(
        admin, name="Inside Knowledge", year="2026-27", first_round_topics=True
    )
    prog = str(made.id)
    programme.add_stakeholder(admin, programme=prog, email=OFFICER, organisation="Sample LA")
    for topic in ("ks2-writing", "budgets"):
        n = nominations.nominate(
            rt.acting_as(OFFICER), programme=prog, topic=topic, school=HOST, reason="Excels"
        )
        nominations.approve(admin, nomination=n.id)
    offer = _offer(rt, prog, "ks2-writing", TITLE)
    offers.publish(rt.acting_as(HEADS[HOST]), offer=offer)
    draft = _offer(rt, prog, "budgets", DRAFT_TITLE)
    return Round(prog, offer, draft)


@pytest.fixture
def ik(cycle_rt: Runtime) -> Round:
    return set_up_round(cycle_rt)


def book(rt: Runtime, offer: int, urn: int, name: str = "Sam Teacher") -> int:
    return bookings.book(
        rt.acting_as(HEADS[urn]), offer=offer, practitioners=[Practitioner(name=name)]
    ).id


def post(client: TestClient, url: str, page: str | None = None, **data: str) -> Any:
    """A form sent as the page would send it, with its CSRF token."""
    token = csrf_of(client, client.get(page or url).text)
    return client.post(url, data={"csrf_token": token, **data})


# --- the public prospectus ---------------------------------------------------------------


def test_the_prospectus_needs_no_sign_in_and_never_shows_a_draft(
    ik: Round, site: Callable[[], TestClient]
) -> None:
    reader = site()
    page = reader.get("/prospectus")
    assert page.status_code == 200
    main = _main(page.text)
    assert "Inside Knowledge: visits to schools that excel" in main
    assert TITLE in main and HOST_NAME in main
    assert "1 visit, soonest first" in main
    assert "2 places left" in main
    assert DRAFT_TITLE not in page.text
    assert f'href="/prospectus/offers/{ik.offer}"' in main
    assert 'href="/prospectus"' in page.text  # the header's link for people not signed in

    offer = reader.get(f"/prospectus/offers/{ik.offer}")
    assert offer.status_code == 200
    text = _main(offer.text)
    for words in (
        TITLE,
        "What visitors will see",
        "You will see two lessons and meet the English lead.",
        HOST_NAME,
        "North West",
        "Pupils&#39; writing at Key Stage 2",
        "Tuesday 10 November 2026",
        "Morning",
        "Primary",
        "2 of 2 places left",
        "Sign in to book places",
    ):
        assert words in text, words
    assert "/sign-in?next=%2Fprospectus%2Foffers%2F" in text

    missing = reader.get(f"/prospectus/offers/{NOWHERE}")
    draft = reader.get(f"/prospectus/offers/{ik.draft}")
    assert missing.status_code == draft.status_code == 404
    assert draft.content == missing.content


def test_the_prospectus_searches_by_each_filter(
    ik: Round, cycle_rt: Runtime, site: Callable[[], TestClient]
) -> None:
    host = cycle_rt.acting_as(HEADS[HOST])
    later = _offer(cycle_rt, ik.programme, "budgets", "Best value in the spring", date(2027, 3, 9))
    offers.publish(host, offer=later)
    reader = site()

    def titles(**query: str) -> list[str]:
        page = reader.get("/prospectus", params=query)
        assert page.status_code == 200, page.text
        return re.findall(r'<h3><a href="/prospectus/offers/\d+">([^<]+)</a></h3>', page.text)

    assert titles() == [TITLE, "Best value in the spring"]  # soonest first
    assert titles(topic="budgets") == ["Best value in the spring"]
    assert titles(region="North West") == [TITLE, "Best value in the spring"]
    assert titles(region="London") == []
    assert titles(phase="secondary") == ["Best value in the spring"]  # writing: primary only
    assert titles(**{"from": "2027-01-01"}) == ["Best value in the spring"]
    assert titles(to="2026-12-31") == [TITLE]
    assert titles(q="spring") == ["Best value in the spring"]
    assert titles(q="Northbrook journals") == [TITLE, "Best value in the spring"]
    near = reader.get("/prospectus", params={"near": str(VISITOR)})
    assert "nearest to St Aidan" in near.text and " km away" in near.text
    by_postcode = reader.get("/prospectus", params={"near": "M19 3BL", "within": "50"})
    assert by_postcode.status_code == 200 and TITLE in by_postcode.text
    assert titles(near="M19 3BL", within="1") == []  # Northbrook is 1.4 km from St Aidan's
    none = reader.get("/prospectus", params={"region": "London"})
    assert "No visits match your search." in none.text


def test_a_wrong_search_is_said_beside_its_field_and_changes_nothing(
    ik: Round, site: Callable[[], TestClient]
) -> None:
    reader = site()
    bad_date = reader.get("/prospectus", params={"from": "10/11/2026"})
    assert bad_date.status_code == 400
    assert "Enter the first date as a date, for example 2027-03-10" in bad_date.text
    assert 'id="from" name="from" value="10/11/2026"' in bad_date.text
    unknown = reader.get("/prospectus", params={"near": "ZZ9 9ZZ"})
    assert unknown.status_code == 400
    assert "No school has the URN or postcode ZZ9 9ZZ" in unknown.text
    swapped = reader.get("/prospectus", params={"near": "ZZ9 9ZZ"}, headers={"HX-Request": "true"})
    assert swapped.status_code == 200  # htmx swaps only a 2xx answer in
    assert "No school has the URN or postcode ZZ9 9ZZ" in swapped.text
    far = reader.get("/prospectus", params={"within": "30"})
    assert far.status_code == 400
    assert "Enter your school&#39;s URN or postcode to search by distance" in far.text
    backwards = reader.get("/prospectus", params={"from": "2027-01-01", "to": "2026-12-01"})
    assert backwards.status_code == 400
    assert "There is a problem" in backwards.text


def test_results_come_a_page_at_a_time(
    ik: Round, cycle_rt: Runtime, site: Callable[[], TestClient]
) -> None:
    host = cycle_rt.acting_as(HEADS[HOST])
    for n in range(21):
        made = _offer(
            cycle_rt,
            ik.programme,
            "budgets",
            f"Budgets visit {n + 1:02d}",
            date(2027, 1, 5) + timedelta(days=7 * n),
        )
        offers.publish(host, offer=made)
    reader = site()
    first = reader.get("/prospectus", params={"topic": "budgets"})
    assert "21 visits, soonest first: page 1 of 2." in first.text
    assert first.text.count('class="offer"') == 20
    assert 'aria-label="Pages of results"' in first.text
    assert 'href="/prospectus?topic=budgets&amp;page=2"' in first.text
    second = reader.get("/prospectus", params={"topic": "budgets", "page": "2"})
    assert second.text.count('class="offer"') == 1
    assert "Budgets visit 21" in second.text and "Budgets visit 01" not in second.text


# --- booking -----------------------------------------------------------------------------


def test_a_school_books_places_for_named_practitioners_with_its_questions(
    ik: Round, signed_in: SignedIn
) -> None:
    head = signed_in(HEADS[VISITOR])
    page = head.get(f"/prospectus/offers/{ik.offer}")
    assert "Book places" in page.text and 'name="name_1"' in page.text
    assert 'name="name_2"' in page.text and 'name="name_3"' not in page.text  # 2 per school
    answer = post(
        head,
        f"/prospectus/offers/{ik.offer}",
        name_1="Jo Writer",
        role_1="Year 5 teacher",
        email_1="jo@st-aidans.example",
        name_2="Ade Lead",
        questions="How do you moderate the journals?",
    )
    assert answer.status_code == 303, answer.text
    booking_page = answer.headers["location"]
    assert re.fullmatch(r"/inside-knowledge/bookings/\d+\?booked=1", booking_page)
    shown = head.get(booking_page)
    assert shown.status_code == 200
    text = _main(shown.text)
    assert "Your booking is made." in text
    assert "Confirmed" in text and "Your school has a place on this visit." in text
    assert "Jo Writer (Year 5 teacher); Ade Lead" in text
    assert "How do you moderate the journals?" in text
    assert "The host has not published the agenda yet." in text
    again = head.get(f"/prospectus/offers/{ik.offer}")
    assert "Your school has booked" in again.text and "See your booking" in again.text
    listed = head.get("/inside-knowledge")
    assert TITLE in listed.text and HOST_NAME in listed.text


def test_a_booking_without_a_practitioner_says_so_and_books_nothing(
    ik: Round, signed_in: SignedIn, cycle_rt: Runtime
) -> None:
    head = signed_in(HEADS[VISITOR])
    answer = post(head, f"/prospectus/offers/{ik.offer}", name_1="", email_2="x@y.example")
    assert answer.status_code == 400
    assert "Name at least one practitioner who will come on the visit" in answer.text
    assert "Give practitioner 2&#39;s name, or leave the row empty" in answer.text
    assert bookings.school_bookings(cycle_rt.acting_as(HEADS[VISITOR])) == []


def test_a_school_the_visit_does_not_suit_is_told_why(ik: Round, signed_in: SignedIn) -> None:
    head = signed_in(HEADS[SECONDARY])
    page = head.get(f"/prospectus/offers/{ik.offer}")
    assert page.status_code == 200
    assert 'name="name_1"' not in page.text
    refused = post(head, f"/prospectus/offers/{ik.offer}", name_1="Kim Secondary")
    assert refused.status_code == 400
    assert "There is a problem" in refused.text


def test_a_full_visit_takes_a_waiting_list_and_a_cancellation_gives_the_place_on(
    ik: Round, cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    book(cycle_rt, ik.offer, VISITOR)
    book(cycle_rt, ik.offer, SECOND)
    reader = signed_in(HEADS[THIRD])
    full = reader.get(f"/prospectus/offers/{ik.offer}")
    assert "Full: join the waiting list" in full.text
    assert "Join the waiting list" in full.text
    joined = post(reader, f"/prospectus/offers/{ik.offer}", name_1="Lee Infant")
    assert joined.status_code == 303
    waiting_page = joined.headers["location"].split("?")[0]
    shown = reader.get(waiting_page)
    assert "On the waiting list" in shown.text
    assert "Your school is number 1 on the waiting list" in shown.text

    second = signed_in(HEADS[SECOND])
    [theirs] = bookings.school_bookings(cycle_rt.acting_as(HEADS[SECOND]))
    cancelled = post(
        second,
        f"/inside-knowledge/bookings/{theirs.id}/cancel",
        f"/inside-knowledge/bookings/{theirs.id}",
        reason="Staff illness",
    )
    assert cancelled.status_code == 303
    assert "Your booking is cancelled." in second.get(cancelled.headers["location"]).text
    now = reader.get(waiting_page)
    assert "Your school has a place on this visit." in now.text
    assert "Your school is number" not in now.text


def test_another_schools_booking_is_the_404_of_no_such_page(
    ik: Round, cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    theirs = book(cycle_rt, ik.offer, VISITOR)
    outsider = signed_in(HEADS[SECOND])
    missing = outsider.get(f"/inside-knowledge/bookings/{NOWHERE}")
    hidden = outsider.get(f"/inside-knowledge/bookings/{theirs}")
    assert missing.status_code == hidden.status_code == 404
    assert _main(hidden.text) == _main(missing.text)
    nowhere = outsider.get("/no-such-page")
    assert _main(hidden.text) == _main(nowhere.text)
    for suffix in ("/cancel", "/questions", "/acknowledge", "/feedback", "/reflection"):
        refused = post(outsider, f"/inside-knowledge/bookings/{theirs}{suffix}", "/account")
        assert refused.status_code == 404, suffix
    assert bookings.show_booking(cycle_rt.acting_as(ADMIN), booking=theirs).state == "confirmed"
    for url in (
        f"/inside-knowledge/offers/{ik.offer}",
        f"/inside-knowledge/offers/{ik.draft}",
        f"/inside-knowledge/offers/{ik.offer}/pack",
    ):
        assert _main(outsider.get(url).text) == _main(nowhere.text), url


def test_every_post_needs_the_csrf_token(ik: Round, cycle_rt: Runtime, signed_in: SignedIn) -> None:
    head = signed_in(HEADS[VISITOR])
    head.get(f"/prospectus/offers/{ik.offer}")
    refused = head.post(f"/prospectus/offers/{ik.offer}", data={"name_1": "No Token"})
    assert refused.status_code == 403
    assert bookings.school_bookings(cycle_rt.acting_as(HEADS[VISITOR])) == []
    host = signed_in(HEADS[HOST])
    host.get(f"/inside-knowledge/offers/{ik.draft}")
    no_token = host.post(f"/inside-knowledge/offers/{ik.draft}/state", data={"action": "publish"})
    assert no_token.status_code == 403
    assert offers.show_offer(cycle_rt.acting_as(ADMIN), offer=ik.draft).offer.state == "draft"


# --- the host ----------------------------------------------------------------------------


def test_the_host_makes_and_publishes_an_offer(
    ik: Round, signed_in: SignedIn, site: Callable[[], TestClient]
) -> None:
    host = signed_in(HEADS[HOST])
    home = host.get("/inside-knowledge")
    assert "Offer a visit" in home.text and DRAFT_TITLE in home.text
    form = host.get("/inside-knowledge/offers/new")
    assert form.status_code == 200
    assert "Pupils&#39; writing at Key Stage 2" in form.text and "Sustainability" not in form.text
    wrong = post(
        host,
        "/inside-knowledge/offers/new",
        topic="ks2-writing",
        title="",
        visit_date="next week",
        slot="morning",
    )
    assert wrong.status_code == 400
    assert "Enter a title" in wrong.text
    assert "Enter the date of the visit as a date" in wrong.text
    made = post(
        host,
        "/inside-knowledge/offers/new",
        topic="budgets",
        title="Spring budget round",
        summary="How we set the budget with governors.",
        visit_date="2027-02-09",
        slot="afternoon",
        schools="7",
        practitioners="2",
        booking_deadline="2027-01-29",
    )
    assert made.status_code == 303, made.text
    manage = made.headers["location"]
    page = host.get(manage)
    assert "The visit is saved as a draft" in page.text
    assert "Draft (not yet in the prospectus)" in page.text
    public = site()
    assert "Spring budget round" not in public.get("/prospectus").text
    published = post(host, manage.split("?")[0] + "/state", manage, action="publish")
    assert published.status_code == 303
    assert "The visit is in the prospectus" in host.get(published.headers["location"]).text
    assert "Spring budget round" in public.get("/prospectus").text
    held = post(host, manage.split("?")[0] + "/state", manage, action="hold", reason="Ofsted")
    assert held.status_code == 303
    assert "Spring budget round" not in public.get("/prospectus").text
    no_reason = post(host, manage.split("?")[0] + "/state", manage, action="cancel")
    assert no_reason.status_code == 400
    assert "Say why the visit is cancelled" in no_reason.text


def test_a_school_not_approved_as_a_host_cannot_offer_a_visit(
    ik: Round, signed_in: SignedIn
) -> None:
    head = signed_in(HEADS[VISITOR])
    nowhere = head.get("/no-such-page")
    for answer in (
        head.get("/inside-knowledge/offers/new"),
        post(head, "/inside-knowledge/offers/new", "/account", topic="budgets"),
    ):
        assert answer.status_code == 404
        assert _main(answer.text) == _main(nowhere.text)
    assert "Offer a visit" not in head.get("/inside-knowledge").text


def test_the_host_sees_its_visitors_publishes_the_agenda_and_visitors_acknowledge_it(
    ik: Round, cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    mine = bookings.book(
        cycle_rt.acting_as(HEADS[VISITOR]),
        offer=ik.offer,
        practitioners=[Practitioner(name="Jo Writer", role="Year 5 teacher")],
        questions="How do you moderate the journals?",
    ).id
    host = signed_in(HEADS[HOST])
    manage = f"/inside-knowledge/offers/{ik.offer}"
    page = host.get(manage)
    assert page.status_code == 200
    text = _main(page.text)
    assert VISITOR_NAME in text and "Jo Writer (Year 5 teacher)" in text
    assert "How do you moderate the journals?" in text
    assert "Schools with a place (1 of 2)" in text
    empty = post(host, manage + "/agenda", manage, text="  ")
    assert empty.status_code == 400 and "Write the outline agenda" in empty.text
    agenda = "09:00 Welcome and coffee\n\n09:30 Year 5 lesson: journals\n\n11:30 Questions"
    done = post(host, manage + "/agenda", manage, text=agenda)
    assert done.status_code == 303
    after = host.get(done.headers["location"]).text
    assert "The agenda is published" in after
    assert "Acknowledged by 0 of 1 school with a place." in after
    pack = host.get(manage + "/pack")
    assert pack.status_code == 200 and "Jo Writer" in pack.text
    assert "Content-Security-Policy" in pack.headers

    visitor = signed_in(HEADS[VISITOR])
    booking_page = f"/inside-knowledge/bookings/{mine}"
    seen = visitor.get(booking_page).text
    assert "09:30 Year 5 lesson: journals" in seen
    assert "Acknowledge the agenda" in seen
    acknowledged = post(visitor, booking_page + "/acknowledge", booking_page)
    assert acknowledged.status_code == 303
    now = visitor.get(acknowledged.headers["location"]).text
    assert "you have acknowledged the agenda" in now
    assert "Your school has acknowledged this agenda." in now
    assert "Acknowledged by 1 of 1 school with a place." in host.get(manage).text


def test_after_the_visit_attendance_feedback_and_the_reflection(
    ik: Round, cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn
) -> None:
    came = book(cycle_rt, ik.offer, VISITOR)
    stayed_away = book(cycle_rt, ik.offer, SECOND)
    clock.set(at(VISIT_DAY))
    host = signed_in(HEADS[HOST])
    manage = f"/inside-knowledge/offers/{ik.offer}"
    assert (
        post(host, manage + "/attendance", manage, booking=str(came), attended="yes").status_code
        == 303
    )
    assert (
        post(
            host, manage + "/attendance", manage, booking=str(stayed_away), attended="no"
        ).status_code
        == 303
    )
    page = _main(host.get(manage).text)
    assert "Attended" in page and "Did not attend" in page
    rated = post(host, manage + "/feedback", manage, rating="5", comment="Keen visitors")
    assert rated.status_code == 303

    visitor = signed_in(HEADS[VISITOR])
    booking_page = f"/inside-knowledge/bookings/{came}"
    unrated = post(visitor, booking_page + "/feedback", booking_page, rating="")
    assert unrated.status_code == 400 and "Choose how useful the visit was" in unrated.text
    given = post(
        visitor,
        booking_page + "/feedback",
        booking_page,
        rating="4",
        comment="Seeing the journals helped",
    )
    assert given.status_code == 303
    shown = visitor.get(given.headers["location"]).text
    assert "4: very useful" in shown and "Seeing the journals helped" in shown
    assert "Give the reflection" not in shown  # not for eight weeks
    clock.set(at(VISIT_DAY + timedelta(weeks=8)))
    visitor, host = signed_in(HEADS[VISITOR]), signed_in(HEADS[HOST])  # sessions lapsed
    later = visitor.get(booking_page).text
    assert "Give the reflection" in later
    vague = post(visitor, booking_page + "/reflection", booking_page, changed="yes")
    assert vague.status_code == 400 and "Say what your school has changed" in vague.text
    reflected = post(
        visitor,
        booking_page + "/reflection",
        booking_page,
        changed="yes",
        what_changed="Every Year 5 class keeps a journal",
    )
    assert reflected.status_code == 303
    assert "Every Year 5 class keeps a journal" in visitor.get(booking_page).text
    assert "Every Year 5 class keeps a journal" in host.get(manage).text


# --- the programme admin -----------------------------------------------------------------


def test_a_stakeholder_nominates_and_the_admin_approves_or_declines(
    ik: Round, signed_in: SignedIn
) -> None:
    officer = signed_in(OFFICER)
    page = officer.get("/inside-knowledge/nominations")
    assert page.status_code == 200 and "Nominate a school" in page.text
    assert 'value="approve"' not in page.text
    no_reason = post(
        officer,
        "/inside-knowledge/nominations",
        topic="sustainability",
        school=str(VISITOR),
        reason="",
    )
    assert no_reason.status_code == 400 and "Say why the school excels" in no_reason.text
    for urn in (VISITOR, SECOND):
        made = post(
            officer,
            "/inside-knowledge/nominations",
            topic="sustainability",
            school=str(urn),
            reason=f"Solar panels and a garden at {urn}",
        )
        assert made.status_code == 303, made.text

    admin = signed_in(ADMIN)
    listed = admin.get("/inside-knowledge/nominations?status=pending")
    assert VISITOR_NAME in listed.text and SECOND_NAME in listed.text
    ids = [int(i) for i in re.findall(r'action="/inside-knowledge/nominations/(\d+)"', listed.text)]
    assert len(ids) == 2
    approved = post(
        admin,
        f"/inside-knowledge/nominations/{ids[0]}",
        "/inside-knowledge/nominations",
        decision="approve",
    )
    assert approved.status_code == 303
    bare = post(
        admin,
        f"/inside-knowledge/nominations/{ids[1]}",
        "/inside-knowledge/nominations",
        decision="decline",
    )
    assert bare.status_code == 400 and "Say why the nomination is declined" in bare.text
    declined = post(
        admin,
        f"/inside-knowledge/nominations/{ids[1]}",
        "/inside-knowledge/nominations",
        decision="decline",
        note="Not enough evidence yet",
    )
    assert declined.status_code == 303
    done = admin.get("/inside-knowledge/nominations").text
    assert "Approved" in done and "Declined" in done and "Not enough evidence yet" in done

    head = signed_in(HEADS[SECOND])
    assert head.get("/inside-knowledge/nominations").status_code == 404
    refused = post(
        head, f"/inside-knowledge/nominations/{ids[0]}", "/account", decision="decline", note="x"
    )
    assert refused.status_code == 404


def test_the_quality_report_has_charts_tables_and_downloads(
    ik: Round, cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    book(cycle_rt, ik.offer, VISITOR)
    admin = signed_in(ADMIN)
    page = admin.get("/inside-knowledge/report")
    assert page.status_code == 200
    text = _main(page.text)
    assert "Quality report: Inside Knowledge" in text
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 3
    for words in (
        "Places by topic",
        "By topic",
        "By host school",
        "What visitors changed",
        "Pupils&#39; writing at Key Stage 2",
        HOST_NAME,
    ):
        assert words in text, words
    csv = admin.get("/inside-knowledge/report.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    pdf = admin.get("/inside-knowledge/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    head = signed_in(HEADS[HOST])
    nowhere = head.get("/no-such-page")
    for suffix in ("", ".csv", ".pdf"):
        answer = head.get(f"/inside-knowledge/report{suffix}")
        assert answer.status_code == 404 and _main(answer.text) == _main(nowhere.text)


# --- statements --------------------------------------------------------------------------


@contextmanager
def counting(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = rt.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_each_page_issues_as_many_statements_for_many_offers_and_bookings_as_for_few(
    ik: Round, cycle_rt: Runtime, signed_in: SignedIn, site: Callable[[], TestClient]
) -> None:
    first = book(cycle_rt, ik.offer, VISITOR)
    pages = {
        "public": (
            site(),
            ["/prospectus", f"/prospectus/offers/{ik.offer}", "/prospectus?near=M19+3BL"],
        ),
        "host": (
            signed_in(HEADS[HOST]),
            ["/inside-knowledge", f"/inside-knowledge/offers/{ik.offer}"],
        ),
        "visitor": (
            signed_in(HEADS[VISITOR]),
            ["/inside-knowledge", f"/inside-knowledge/bookings/{first}"],
        ),
        "admin": (signed_in(ADMIN), ["/inside-knowledge/report", "/inside-knowledge/nominations"]),
    }

    def measure() -> dict[str, int]:
        found = {}
        for who, (client, urls) in pages.items():
            for url in urls:
                client.get(url)
                with counting(cycle_rt) as seen:
                    status = client.get(url).status_code
                assert status == 200, (who, url, status)
                found[f"{who} {url}"] = len(seen)
        return found

    few = measure()
    host = cycle_rt.acting_as(HEADS[HOST])
    for n in range(6):
        made = _offer(cycle_rt, ik.programme, "budgets", f"More {n}", date(2027, 1, 12 + n % 3))
        offers.publish(host, offer=made)
    for urn in (SECOND, THIRD):
        bookings.book(
            cycle_rt.acting_as(HEADS[urn]),
            offer=ik.offer,
            practitioners=[Practitioner(name="A"), Practitioner(name="B")],
            questions="Q?",
        )
    many = measure()
    differ = {k: (few[k], many[k]) for k in few if few[k] != many[k]}
    assert not differ, f"statements grow with offers and bookings: {differ}"


def test_an_admin_makes_an_offer_for_a_host_and_runs_any_booking(
    ik: Round, cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    theirs = book(cycle_rt, ik.offer, VISITOR)
    admin = signed_in(ADMIN)
    form = admin.get("/inside-knowledge/offers/new")
    assert form.status_code == 200
    assert "Host school&#39;s URN" in form.text and "Sustainability" in form.text
    no_host = post(
        admin,
        "/inside-knowledge/offers/new",
        topic="budgets",
        title="T",
        summary="S",
        visit_date="2027-02-09",
        slot="morning",
        schools="3",
        practitioners="1",
        booking_deadline="2027-01-29",
    )
    assert no_host.status_code == 400 and "Enter the host school&#39;s URN" in no_host.text
    made = post(
        admin,
        "/inside-knowledge/offers/new",
        host=str(HOST),
        topic="budgets",
        title="Governors and the budget",
        summary="S",
        visit_date="2027-02-09",
        slot="morning",
        schools="3",
        practitioners="1",
        booking_deadline="2027-01-29",
    )
    assert made.status_code == 303, made.text
    page = admin.get(made.headers["location"])
    assert "Governors and the budget" in page.text and HOST_NAME in page.text
    booking = admin.get(f"/inside-knowledge/bookings/{theirs}")
    assert booking.status_code == 200 and VISITOR_NAME in booking.text
