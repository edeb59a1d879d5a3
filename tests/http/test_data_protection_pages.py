"""The data protection pages as people use them: the privacy notice without signing in (and
linked from every page's footer); the access log of a school's records for its staff and the
facilitator (and a 404 for anyone else); the host widening and the facilitator withdrawing a
published write-up's sharing, with its change log; the log page's statements fixed however
long the log."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from review_engine.core.domain import SharingLevel
from review_engine.runtime import Runtime
from review_engine.services import retention, sef
from review_engine.testing import FakeClock
from review_engine.web.app import create_app
from review_engine.web.rendering import page_url
from tests.conftest import FACILITATOR
from tests.http.conftest import BASE, SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
OUTSIDER = URNS[5]  # in the cluster, neither the host nor one of its visitors
CYCLE_ACCESS = f"/cycles/{quote(CYCLE, safe='/')}/access"
SCHOOL_ACCESS = f"/cycles/{quote(CYCLE, safe='/')}/schools/{HOST}/access"
WRITEUP = page_url(CYCLE, HOST, "writeup")


@pytest.fixture
def published(cycle_rt: Runtime, clock: FakeClock) -> list[int]:
    """The host's SEF, its visit held and its write-up published to its reviewers."""
    submit_sef(cycle_rt, CYCLE, HOST)
    visitors = set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, visitors, SharingLevel.REVIEWERS)
    return visitors


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[-1].split("</main>", 1)[0]


# --- the privacy notice -----------------------------------------------------------------------


def test_the_privacy_notice_needs_no_sign_in_and_every_page_links_it(
    site: Callable[[], TestClient],
) -> None:
    client = site()
    page = client.get("/privacy")
    assert page.status_code == 200
    text = page.text
    for words in (
        "Privacy notice",
        "What information we hold",
        "access log",
        "How long we keep it",
        "Information Commissioner",
        "To see your information",
        "To have it corrected",
        "To have it erased",
        "To object",
        "How to ask",
    ):
        assert words in text, words
    assert 'lang="en-GB"' in text and "<h1>Privacy notice</h1>" in text
    sign_in_page = client.get("/sign-in").text
    assert '<a href="/privacy">Privacy notice</a>' in sign_in_page


def test_the_privacy_notice_names_the_controller_from_the_settings(cycle_rt: Runtime) -> None:
    settings = cycle_rt.settings.model_copy(
        update={
            "privacy_controller": "Northbrook Learning Trust",
            "privacy_contact": "dpo@northbrook.example",
        }
    )
    with TestClient(create_app(settings, clock=cycle_rt.clock), base_url=BASE) as client:
        text = client.get("/privacy").text
    assert "<strong>Northbrook Learning Trust</strong>" in text
    assert 'href="mailto:dpo@northbrook.example"' in text


def test_the_privacy_notice_gives_the_retention_periods(
    cycle_rt: Runtime, signed_in: SignedIn, site: Callable[[], TestClient]
) -> None:
    retention.set_period(cycle_rt.acting_as("operator"), kind="access_log", months=36)
    public = site().get("/privacy").text
    assert "The record of who read or downloaded a document" in public
    assert "24 months (2 years) after the reading, then deleted" in public  # the default
    assert "These are the standard periods" in public
    mine = signed_in(HEADS[HOST]).get("/privacy").text
    assert "36 months (3 years) after the reading, then deleted" in mine  # the programme's
    assert "These are the periods this programme keeps" in mine
    assert 'href="/account/my-data"' in mine


# --- the access log -----------------------------------------------------------------------------


def test_the_school_sees_who_read_its_records_and_the_facilitator_sees_the_cycle(
    cycle_rt: Runtime, signed_in: SignedIn, published: list[int]
) -> None:
    lead = signed_in(HEADS[published[0]])
    assert lead.get(page_url(CYCLE, HOST, "sef")).status_code == 200
    assert lead.get(WRITEUP).status_code == 200
    host = signed_in(HEADS[HOST])
    page = host.get(SCHOOL_ACCESS)
    assert page.status_code == 200, page.text
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", page.text, re.S)
    assert len(rows) == 2
    newest = rows[0][1]
    assert "Viewed the write-up" in newest and "Web page" in newest
    assert "Viewed the self-evaluation (SEF)" in rows[1][1]
    assert HEADS[published[0]] in newest  # the reader's e-mail beside their name
    # The host's staff have no page of the whole cycle; the facilitator has.
    assert host.get(CYCLE_ACCESS).status_code == 404
    facilitator = signed_in(FACILITATOR)
    whole = facilitator.get(CYCLE_ACCESS)
    assert whole.status_code == 200 and "Every school" in whole.text
    assert facilitator.get(SCHOOL_ACCESS).status_code == 200
    # A host's write-up page links its access log for its staff.
    assert SCHOOL_ACCESS in host.get(WRITEUP).text


def test_anyone_else_finds_no_access_log(
    cycle_rt: Runtime, signed_in: SignedIn, published: list[int]
) -> None:
    nowhere = SCHOOL_ACCESS.replace(str(HOST), "999999")
    for email in (HEADS[published[0]], HEADS[OUTSIDER]):
        client = signed_in(email)
        answer, missing = client.get(SCHOOL_ACCESS), client.get(nowhere)
        assert answer.status_code == missing.status_code == 404
        assert _main(answer.text) == _main(missing.text)
        assert client.get(CYCLE_ACCESS).status_code == 404


@contextmanager
def counting(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


def test_the_log_page_reads_as_many_statements_for_a_long_log_as_for_a_short_one(
    cycle_rt: Runtime, signed_in: SignedIn, published: list[int]
) -> None:
    facilitator = signed_in(FACILITATOR)
    reader = cycle_rt.acting_as(HEADS[published[0]])
    sef.show_sef(reader, cycle=CYCLE, urn=HOST)
    facilitator.get(CYCLE_ACCESS)
    with counting(cycle_rt) as short:
        assert facilitator.get(CYCLE_ACCESS).status_code == 200
    for _ in range(120):  # more than a page
        sef.show_sef(reader, cycle=CYCLE, urn=HOST)
    with counting(cycle_rt) as long:
        page = facilitator.get(CYCLE_ACCESS)
    assert page.status_code == 200 and "Older entries" in page.text
    assert len(long) == len(short), "\n".join(long)


# --- changing a published write-up's sharing ------------------------------------------------------


def test_the_host_widens_the_sharing_and_the_facilitator_withdraws_it(
    cycle_rt: Runtime, signed_in: SignedIn, published: list[int]
) -> None:
    outsider = signed_in(HEADS[OUTSIDER])
    assert outsider.get(WRITEUP).status_code == 404
    host = signed_in(HEADS[HOST])
    page = host.get(WRITEUP).text
    assert "Change who may read it" in page and "None since it was published." in page

    empty = host.post(
        WRITEUP + "/sharing", data={"csrf_token": csrf_of(host, page), "sharing": "cluster"}
    )
    assert empty.status_code == 400 and 'id="share-reason-error"' in empty.text

    widened = host.post(
        WRITEUP + "/sharing",
        data={
            "csrf_token": csrf_of(host, page),
            "sharing": "cluster",
            "share-reason": "The whole cluster asked about our phonics",
        },
    )
    assert widened.status_code == 303, widened.text
    after = host.get(widened.headers["location"]).text
    assert "Who may read the write-up has changed" in after
    assert "The whole cluster asked about our phonics" in after
    assert outsider.get(WRITEUP).status_code == 200

    facilitator = signed_in(FACILITATOR)
    fpage = facilitator.get(WRITEUP).text
    withdrawn = facilitator.post(
        WRITEUP + "/sharing",
        data={
            "csrf_token": csrf_of(facilitator, fpage),
            "sharing": "reviewers",
            "share-reason": "Shared before the governors saw it",
        },
    )
    assert withdrawn.status_code == 303
    assert outsider.get(WRITEUP).status_code == 404, "withdrawn: the page is not found"
    log = host.get(WRITEUP).text
    assert log.index("Shared before the governors saw it") < log.index(
        "The whole cluster asked about our phonics"
    )  # newest first


def test_a_visiting_school_has_no_sharing_form(signed_in: SignedIn, published: list[int]) -> None:
    lead = signed_in(HEADS[published[0]])
    page = lead.get(WRITEUP).text
    assert "Change who may read it" not in page and SCHOOL_ACCESS not in page
    refused = lead.post(
        WRITEUP + "/sharing",
        data={"csrf_token": csrf_of(lead, page), "sharing": "cluster", "share-reason": "x"},
    )
    assert refused.status_code == 403


def test_signed_out_the_log_asks_to_sign_in(site: Callable[[], TestClient]) -> None:
    answer = site().get(SCHOOL_ACCESS)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
