"""The API's writes beyond the SEF: drafts as the pages autosave them, the lead reviewer's
write-up, publishing, and feedback on a visit (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from review_engine.runtime import Runtime
from review_engine.services import visits
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.http.test_api import api
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    VISIT_DAYS,
    at,
    plan_visit,
    set_rotation_triads,
)

__all__ = ["api"]
URNS = sorted(HEADS)
HOST = URNS[0]
Api = Callable[[str], TestClient]


def _school(urn: int) -> str:
    return f"/api/v1/cycles/{CYCLE}/schools/{urn}"


def test_a_sef_draft_is_saved_and_read_back_by_its_school_only(api: Api) -> None:
    content = {"enquiry_question": "How quickly do pupils who fall behind catch up?"}
    head = api(HEADS[HOST])
    assert head.get(f"{_school(HOST)}/drafts/sef").json() is None
    saved = head.put(f"{_school(HOST)}/drafts/sef", json={"content": content})
    assert saved.status_code == 200, saved.text
    assert saved.json()["content"] == content
    assert head.get(f"{_school(HOST)}/drafts/sef").json()["saved_by"] == "Aisha Rahman"
    other = api(HEADS[URNS[1]])
    hidden = other.get(f"{_school(HOST)}/drafts/sef")
    missing = other.get(f"{_school(99_999_999)}/drafts/sef")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    refused = other.put(f"{_school(HOST)}/drafts/sef", json={"content": content})
    assert refused.status_code == 404 and refused.json() == hidden.json()
    deep = head.put(f"{_school(HOST)}/drafts/sef", json={"content": {"a": {"b": {"c": {"d": {}}}}}})
    assert deep.status_code == 400 and "deep" in deep.json()["detail"]


@pytest.fixture
def visited(cycle_rt: Runtime, clock: FakeClock) -> dict[int, list[int]]:
    """Triads by rotation; HOST's visit held, its write-up not yet drafted."""
    triads = set_rotation_triads(cycle_rt, CYCLE, URNS)
    plan_visit(cycle_rt, CYCLE, HOST, VISIT_DAYS[0])
    clock.set(at(VISIT_DAYS[0]))
    visits.complete(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST)
    return triads


DRAFT = {
    "activities": ["Learning walk", "Pupil voice"],
    "www": [{"line": "Reading", "text": "Phonics is consistent", "evidence": "Learning walk"}],
    "ebi": [{"line": "Reading", "text": "Daily keep-up sessions", "evidence": "Interviews"}],
    "good_practice": [],
    "next_steps": "Share the tracker",
}


def test_a_write_up_goes_from_draft_to_published_through_the_api(
    visited: dict[int, list[int]], api: Api
) -> None:
    lead, *co_reviewers = visited[HOST]
    base = f"{_school(HOST)}/write-up"
    assert api(HEADS[co_reviewers[0]]).post(base, json=DRAFT).status_code == 403
    drafted = api(HEADS[lead]).post(base, json=DRAFT)
    assert drafted.status_code == 200, drafted.text
    assert [i["text"] for i in drafted.json()["ebi"]] == ["Daily keep-up sessions"]
    for school in co_reviewers:
        assert api(HEADS[school]).post(f"{base}/agree").status_code == 200
    host = api(HEADS[HOST])
    assert host.post(f"{base}/agree").status_code == 200
    early = api(HEADS[lead]).post(f"{base}/publish", json={"sharing": "cluster"})
    assert early.status_code == 403  # only the host publishes
    published = host.post(f"{base}/publish", json={"sharing": "cluster"})
    assert published.status_code == 200, published.text
    assert published.json()["sharing"] == "cluster" and published.json()["published_at"]
    outsider = api(HEADS[URNS[-1]]) if URNS[-1] not in visited[HOST] else api(HEADS[URNS[-2]])
    assert outsider.get(base).status_code == 200  # shared with the whole cluster now


def test_a_refused_write_is_not_logged_as_a_reading(
    visited: dict[int, list[int]], api: Api, cycle_rt: Runtime
) -> None:
    """Deciding between 403 and 404 asks whether the person may see the write-up; that
    question is not a reading of it, so the access log stays as it was."""
    from review_engine.services import access_log

    lead = visited[HOST][0]
    base = f"{_school(HOST)}/write-up"
    assert api(HEADS[lead]).post(base, json=DRAFT).status_code == 200

    def logged() -> int:
        return len(access_log.entries(cycle_rt.acting_as(FACILITATOR), cycle=CYCLE).entries)

    before = logged()
    refused = api(HEADS[lead]).post(f"{base}/publish", json={"sharing": "cluster"})
    assert refused.status_code == 403
    assert logged() == before


def test_a_write_up_without_an_even_better_if_is_refused(
    visited: dict[int, list[int]], api: Api
) -> None:
    lead = visited[HOST][0]
    answer = api(HEADS[lead]).post(f"{_school(HOST)}/write-up", json={**DRAFT, "ebi": []})
    assert answer.status_code == 400 and answer.json()["detail"].startswith("ebi")


def test_feedback_on_the_day_once_per_school_and_never_from_outsiders(
    visited: dict[int, list[int]], api: Api
) -> None:
    visitor = visited[HOST][1]
    base = f"{_school(HOST)}/feedback"
    body = {"kind": "immediate", "usefulness": 4, "comment": "Well organised"}
    given = api(HEADS[visitor]).post(base, json=body)
    assert given.status_code == 201, given.text
    assert given.json()["usefulness"] == 4 and given.json()["from_urn"] == visitor
    assert api(HEADS[visitor]).post(base, json=body).status_code == 409
    outsiders = [u for u in URNS if u not in visited[HOST] and u != HOST]
    refused = api(HEADS[outsiders[0]]).post(base, json=body)
    missing = api(HEADS[outsiders[0]]).post(f"{_school(99_999_999)}/feedback", json=body)
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    no_rating = api(HEADS[visitor]).post(base, json={"kind": "immediate"})
    assert no_rating.status_code == 400 and "usefulness" in no_rating.json()["detail"]
    facilitator = api(FACILITATOR).post(base, json=body)
    assert facilitator.status_code == 403  # sees the visit; feedback comes from schools
