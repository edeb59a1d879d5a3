"""Notices in the browser: "Your notices" on the account page (a radio group per kind), the
unsubscribe link from an e-mail (no sign-in: it shows what it will turn off, a button does
it), and a school's routing page for its head and facilitator (others: 404 as for a school
that does not exist)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery
from review_engine.runtime import Runtime
from review_engine.services import notice_choices
from review_engine.services._recipients import unsubscribe_url
from tests.conftest import FACILITATOR
from tests.http.conftest import BASE, SignedIn, csrf_of
from tests.integration.phase_helpers import DEPUTY, HEADS, OTHER_FACILITATOR

HOST = min(HEADS)
HEAD = HEADS[HOST]
OTHER_HEAD = HEADS[max(HEADS)]
K = NoticeKind


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def _checked(html: str, kind: NoticeKind) -> str:
    found = re.search(rf'name="notice-{kind.value}" value="(\w+)" checked', html)
    assert found, f"no choice shown for {kind.value}"
    return found.group(1)


# --- your notices -------------------------------------------------------------------------


def test_the_account_page_shows_and_saves_each_kind(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    head = signed_in(HEAD)
    page = head.get("/account")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Your notices" in text and "Sign-in links you ask for" in text
    assert "In my daily digest" in text and 'href="/account/my-data"' in text
    assert f'href="/schools/{HOST}/notices"' in text  # the head routes the school's notices
    assert _checked(page.text, K.REMINDERS) == "immediately"
    saved = head.post(
        "/account/notices",
        data={
            "csrf_token": csrf_of(head, page.text),
            "notice-reminders": "digest",
            "notice-visits": "off",
            "notice-support": "immediately",
            "notice-writeups": "nonsense",  # ignored: stays as it is
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith("/account")
    again = head.get(saved.headers["location"])
    assert "Your notices have been saved." in again.text
    assert _checked(again.text, K.REMINDERS) == "digest"
    assert _checked(again.text, K.VISITS) == "off"
    assert _checked(again.text, K.WRITEUPS) == "immediately"
    settings = notice_choices.notice_settings(cycle_rt, email=HEAD)
    assert settings.delivery(K.REMINDERS) is Delivery.DIGEST


def test_saving_notices_needs_the_csrf_token(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    head = signed_in(HEAD)
    refused = head.post("/account/notices", data={"notice-visits": "off"})
    assert refused.status_code == 403
    assert not notice_choices.notice_settings(cycle_rt, email=HEAD).chosen


# --- the unsubscribe link -----------------------------------------------------------------


def _link(rt: Runtime, email: str, kind: NoticeKind) -> str:
    with rt.db.transaction() as session:
        return unsubscribe_url(session, BASE, email, kind).removeprefix(BASE)


def test_an_unsubscribe_link_round_trip_without_signing_in(
    cycle_rt: Runtime, site: Callable[[], TestClient]
) -> None:
    browser = site()
    link = _link(cycle_rt, HEAD, K.VISITS)
    page = browser.get(link)
    assert page.status_code == 200
    said = unescape(_main(page.text))
    assert "Aisha Rahman" in said and K.VISITS.label in said
    assert "Turn off these e-mails" in said
    # Following the link changed nothing (mail scanners follow links).
    assert not notice_choices.notice_settings(cycle_rt, email=HEAD).chosen
    form = dict(re.findall(r'name="(email|kind|sig)" value="([^"]*)"', page.text))
    pressed = browser.post(
        "/notices/unsubscribe", data={**form, "csrf_token": csrf_of(browser, page.text)}
    )
    assert pressed.status_code == 200
    assert "will no longer receive" in unescape(pressed.text)
    settings = notice_choices.notice_settings(cycle_rt, email=HEAD)
    assert settings.delivery(K.VISITS) is Delivery.OFF
    assert settings.delivery(K.REMINDERS) is Delivery.IMMEDIATELY
    again = browser.get(link)
    assert "already turned off" in again.text


def test_a_changed_link_is_refused_and_changes_nothing(
    cycle_rt: Runtime, site: Callable[[], TestClient]
) -> None:
    browser = site()
    link = _link(cycle_rt, HEAD, K.VISITS).replace("kind=visits", "kind=reminders")
    page = browser.get(link)
    assert page.status_code == 400
    assert "this unsubscribe link is not valid" in unescape(page.text).lower()
    assert "Turn off these e-mails" not in page.text
    forged = browser.post(
        "/notices/unsubscribe",
        data={"email": HEAD, "kind": "visits", "sig": "x" * 43, "csrf_token": csrf_of(browser)},
    )
    assert forged.status_code == 400
    no_token = browser.post("/notices/unsubscribe", data={"email": HEAD, "kind": "visits"})
    assert no_token.status_code == 403
    assert not notice_choices.notice_settings(cycle_rt, email=HEAD).chosen
    bare = browser.get("/notices/unsubscribe")
    assert bare.status_code == 200 and "follow the link at the foot" in bare.text


# --- a school's routing -------------------------------------------------------------------


def test_the_head_routes_a_kind_to_the_deputy_too(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    head = signed_in(HEAD)
    url = f"/schools/{HOST}/notices"
    page = head.get(url)
    assert page.status_code == 200
    assert "Who at Northbrook Primary School receives each notice" in unescape(page.text)
    data: dict[str, list[str]] = {"csrf_token": [csrf_of(head, page.text)]}
    for kind in notice_choices.school_routing(cycle_rt, urn=HOST).routes:
        data[f"route-{kind.kind.value}"] = ["head"]
    data["route-sef_decisions"] = ["head", "deputy"]
    saved = head.post(url, data=data)
    assert saved.status_code == 303
    shown = head.get(saved.headers["location"])
    assert "The school's notices have been saved." in unescape(shown.text)
    assert 'id="route-sef_decisions-deputy" name="route-sef_decisions" value="deputy" checked' in (
        shown.text
    )
    routing = notice_choices.school_routing(cycle_rt, urn=HOST)
    own = {r.kind: r.roles for r in routing.routes if r.own}
    assert own == {K.SEF_DECISIONS: {Role.HEAD, Role.DEPUTY}}  # only the kind that changed
    back = head.post(
        f"{url}/default", data={"kind": "sef_decisions", "csrf_token": csrf_of(head, shown.text)}
    )
    assert back.status_code == 303
    assert not any(r.own for r in notice_choices.school_routing(cycle_rt, urn=HOST).routes)


def test_the_deputy_reads_the_routing_and_outsiders_find_no_such_page(
    signed_in: SignedIn,
) -> None:
    deputy = signed_in(DEPUTY).get(f"/schools/{HOST}/notices")
    assert deputy.status_code == 200
    assert "The school's head or its facilitator can change this." in unescape(deputy.text)
    assert 'type="checkbox"' not in deputy.text
    assert signed_in(FACILITATOR).get(f"/schools/{HOST}/notices").status_code == 200
    for outsider in (OTHER_HEAD, OTHER_FACILITATOR):
        client = signed_in(outsider)
        hidden = client.get(f"/schools/{HOST}/notices")
        missing = client.get("/schools/999999/notices")
        assert hidden.status_code == missing.status_code == 404
        assert _main(hidden.text).replace(str(HOST), "URN") == _main(missing.text).replace(
            "999999", "URN"
        )
        page = client.get("/account")
        refused = client.post(
            f"/schools/{HOST}/notices",
            data={"route-visits": ["deputy"], "csrf_token": csrf_of(client, page.text)},
        )
        assert refused.status_code == 404
