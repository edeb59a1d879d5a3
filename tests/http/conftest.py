"""HTTP fixtures: the web app over a copy of the sample cycle (SQLite and PostgreSQL), and
browsers-without-a-browser (TestClient) signed in as a given person through the real sign-in
pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from review_engine.runtime import Runtime
from review_engine.services import signin
from review_engine.web.app import create_app
from tests.integration.phase_helpers import cycle_rt, cycle_template

__all__ = ["cycle_rt", "cycle_template"]

BASE = "http://testserver"
SignedIn = Callable[[str], TestClient]


def csrf_of(client: TestClient, html: str | None = None) -> str:
    """The CSRF token a page's forms carry (or, before sign-in, the pre-session cookie)."""
    if html is not None:
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if found:
            return found.group(1)
    token = client.cookies.get("review_csrf")
    assert token, "no CSRF token: GET a page first"
    return token


@pytest.fixture
def site(cycle_rt: Runtime) -> Iterator[Callable[[], TestClient]]:
    """Make anonymous clients of the web app over the test's database and clock."""
    app = create_app(cycle_rt.settings, clock=cycle_rt.clock)
    clients: list[TestClient] = []

    def new_client() -> TestClient:
        client = TestClient(app, base_url=BASE, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield new_client
    for client in clients:
        client.__exit__(None, None, None)


def sign_in(rt: Runtime, client: TestClient, email: str) -> TestClient:
    """Sign `client` in as `email` by the real pages: ask for a link (the service hands back
    the link the e-mail carries), open it, press Sign in."""
    sent = signin.request_link(rt, email=email, client="testclient", base_url=BASE)
    assert sent.url, f"{email} is not a registered, active person"
    page = client.get(sent.url)
    assert page.status_code == 200, page.text
    pressed = client.post(sent.url, data={"csrf_token": csrf_of(client, page.text), "next": "/"})
    assert pressed.status_code == 303, pressed.text
    return client


@pytest.fixture
def signed_in(cycle_rt: Runtime, site: Callable[[], TestClient]) -> SignedIn:
    """`signed_in(email)`: a new client with its own session as that person."""
    return lambda email: sign_in(cycle_rt, site(), email)
