"""Sign-in by e-mail link, sessions and the protections every page has."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from review_engine.runtime import Runtime
from review_engine.services import outbox
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import HEADS, UNREGISTERED

HEAD = HEADS[990101]
SAME_ANSWER = "If that address is registered, a sign-in link is on its way."


def _ask(client: TestClient, email: str) -> str:
    form = client.get("/sign-in")
    answer = client.post(
        "/sign-in", data={"email": email, "csrf_token": csrf_of(client, form.text)}
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_pages_need_sign_in_and_say_the_same_for_any_address(
    cycle_rt: Runtime, site: Callable[[], TestClient]
) -> None:
    client = site()
    first = client.get("/")
    assert first.status_code == 303 and first.headers["location"] == "/sign-in"
    deep = client.get("/?view=all")
    assert deep.headers["location"] == "/sign-in?next=%2F%3Fview%3Dall"
    known, unknown = _ask(client, HEAD), _ask(client, UNREGISTERED)
    assert SAME_ANSWER in known and SAME_ANSWER in unknown
    assert known.replace(HEAD, "") == unknown.replace(UNREGISTERED, "")
    queued = [row.recipient for row in outbox.list_outbox(cycle_rt.acting_as("operator"))]
    assert HEAD in queued and UNREGISTERED not in queued


def test_a_link_signs_in_once_and_sign_out_ends_the_session(
    cycle_rt: Runtime, site: Callable[[], TestClient]
) -> None:
    from review_engine.services import signin

    client = site()
    sent = signin.request_link(cycle_rt, email=HEAD, client="t", base_url="http://testserver")
    assert sent.url
    shown = client.get(sent.url)
    assert shown.status_code == 200 and ">Sign in</button>" in shown.text
    assert client.get(sent.url).status_code == 200  # looking again does not use it up
    pressed = client.post(sent.url, data={"csrf_token": csrf_of(client, shown.text)})
    assert pressed.status_code == 303
    cookie = pressed.headers["set-cookie"]
    assert "review_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200 and "My work" in home.text and "Aisha Rahman" in home.text
    again = site().get(sent.url)
    assert again.status_code == 410 and "expired or has already been used" in again.text
    out = client.post("/sign-out", data={"csrf_token": csrf_of(client, home.text)})
    assert out.status_code == 303
    assert client.get("/").status_code == 303


def test_every_change_needs_the_csrf_token_and_our_origin(signed_in: SignedIn) -> None:
    client = signed_in(HEAD)
    home = client.get("/")
    token = csrf_of(client, home.text)
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    foreign = client.post(
        "/sign-out", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and "came from another site" in foreign.text
    assert client.get("/").status_code == 200  # still signed in: nothing changed


def test_security_headers_on_every_answer(site: Callable[[], TestClient]) -> None:
    client = site()
    for path in ("/sign-in", "/no-such-page", "/static/app.css"):
        answer = client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert client.get("/no-such-page").status_code == 404
    assert "There is no such page." in client.get("/no-such-page").text
    assert client.get("/sign-out").status_code == 405  # no state change on GET


def test_an_oversized_body_is_refused_before_it_is_read(site: Callable[[], TestClient]) -> None:
    client = site()
    big = client.post("/sign-in", content=b"x" * (3 * 1024 * 1024))
    assert big.status_code == 413 and "limit is 2 MB" in big.text


def test_the_api_without_credentials_asks_to_sign_in(site: Callable[[], TestClient]) -> None:
    client = site()
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/tokens")):
        answer = client.request(method, path, json={"name": "x"})
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.json()["detail"].startswith("sign in first")


def test_a_deactivated_persons_session_ends_at_once(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    from review_engine.services import people

    operator = cycle_rt.acting_as("operator")
    client = signed_in(HEAD)
    assert client.get("/").status_code == 200
    people.deactivate_person(operator, email=HEAD)
    assert client.get("/").status_code == 303  # back to sign in
    links = len(outbox.list_outbox(operator))
    again = _ask(client, HEAD)
    assert SAME_ANSWER in again  # the page says the same, and no link is queued for them
    assert len(outbox.list_outbox(operator)) == links


def test_without_smtp_the_link_is_also_in_the_server_log(
    site: Callable[[], TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = site()
    with caplog.at_level(logging.WARNING, logger="review_engine.web.signin"):
        _ask(client, HEAD)
        _ask(client, UNREGISTERED)
    logged = [r.getMessage() for r in caplog.records if "sign-in link" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].startswith("sign-in link (no SMTP configured; for a trial only): ")
    assert "http://testserver/sign-in/" in logged[0]


def test_sign_in_requests_are_limited_per_address(site: Callable[[], TestClient]) -> None:
    client = site()
    for _ in range(5):
        _ask(client, UNREGISTERED)
    form = client.get("/sign-in")
    refused = client.post(
        "/sign-in", data={"email": UNREGISTERED, "csrf_token": csrf_of(client, form.text)}
    )
    assert refused.status_code == 429
    assert "too many sign-in requests" in refused.text and "Retry-After" in refused.headers


OFFER_PAGE = "/prospectus/offers/7"


def _link_for(client: TestClient, caplog: pytest.LogCaptureFixture, wanted: str) -> tuple[str, str]:
    """Ask for a link from the sign-in page reached with `?next=wanted`: the link (from the
    server log, no SMTP here) and the path the sign-in page kept."""
    form = client.get("/sign-in", params={"next": wanted})
    kept = re.search(r'name="next" value="([^"]*)"', form.text)
    assert kept, form.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="review_engine.web.signin"):
        answer = client.post(
            "/sign-in",
            data={"email": HEAD, "next": kept.group(1), "csrf_token": csrf_of(client, form.text)},
        )
    assert answer.status_code == 200 and SAME_ANSWER in answer.text
    logged = [r.getMessage() for r in caplog.records if "sign-in link" in r.getMessage()]
    return logged[-1].rsplit(" ", 1)[1], html.unescape(kept.group(1))


def _press(client: TestClient, link: str) -> str:
    """Open the link, press Sign in: where it leads."""
    shown = client.get(link)
    assert shown.status_code == 200 and ">Sign in</button>" in shown.text
    kept = re.search(r'name="next" value="([^"]*)"', shown.text)
    assert kept, shown.text
    pressed = client.post(
        link, data={"next": html.unescape(kept.group(1)), "csrf_token": csrf_of(client, shown.text)}
    )
    assert pressed.status_code == 303
    return pressed.headers["location"]


def test_signing_in_to_book_returns_to_the_offer(
    site: Callable[[], TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = site()
    link, kept = _link_for(client, caplog, OFFER_PAGE)
    assert kept == OFFER_PAGE
    assert link.endswith("?next=%2Fprospectus%2Foffers%2F7")  # the link carries it
    assert _press(client, link) == OFFER_PAGE
    assert client.get("/").status_code == 200  # signed in


@pytest.mark.parametrize(
    "wanted",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "prospectus",
        "/" + "x" * 600,
    ],
    ids=["two-slashes", "absolute-url", "backslash", "tab", "not-a-path", "too-long"],
)
def test_sign_in_never_leads_to_another_site(
    wanted: str, site: Callable[[], TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = site()
    link, kept = _link_for(client, caplog, wanted)
    assert kept == "/" and "?next=" not in link
    assert _press(client, link) == "/"  # My work


@pytest.mark.parametrize(
    "forged", ["//evil.example", "https://evil.example"], ids=["two-slashes", "absolute-url"]
)
def test_a_link_with_a_forged_next_lands_on_my_work(
    forged: str,
    cycle_rt: Runtime,
    site: Callable[[], TestClient],
) -> None:
    from urllib.parse import quote

    from review_engine.services import signin

    client = site()
    sent = signin.request_link(cycle_rt, email=HEAD, client="t", base_url="http://testserver")
    assert sent.url
    link = f"{sent.url}?next={quote(forged, safe='')}"
    shown = client.get(link)
    assert 'name="next" value="/"' in shown.text  # checked again when the link is opened
    pressed = client.post(link, data={"next": forged, "csrf_token": csrf_of(client, shown.text)})
    assert pressed.status_code == 303 and pressed.headers["location"] == "/"
