"""The JSON API under /api/v1: personal tokens, CSRF for cookie sessions, each part of a
school's cycle, and the errors (one line of `detail`, the right status), on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from review_engine.core.domain import Rag, SharingLevel
from review_engine.runtime import Runtime
from review_engine.services import actions, sef, signin
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    VISIT_DAYS,
    at,
    draft_writeup,
    plan_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
SEF = f"/api/v1/cycles/{CYCLE}/schools/{HOST}/sef"
ENCODED = CYCLE.replace("/", "%2F")


def bearer(rt: Runtime, email: str) -> dict[str, str]:
    raw, _ = signin.create_api_token(rt.acting_as(email), name="test")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def api(cycle_rt: Runtime, site: Callable[[], TestClient]) -> Callable[[str], TestClient]:
    """`api(email)`: a client with no cookies that sends a personal token of that person."""

    def make(email: str) -> TestClient:
        client = site()
        client.headers.update(bearer(cycle_rt, email))
        return client

    return make


def sef_body(urn: int, rt: Runtime) -> dict[str, object]:
    """The sample SEF of a school as the API takes it (from the file the CLI would upload)."""
    view = submit_sef(rt, CYCLE, urn)
    return {
        "enquiry_question": view.enquiry_question,
        "areas": [
            {
                "key": a.key,
                "grade": a.grade,
                "strengths": a.strengths,
                "areas_for_development": a.areas_for_development,
                "evidence": a.evidence,
            }
            for a in view.areas
        ],
    }


# --- tokens and authentication ------------------------------------------------------------


def test_a_token_is_made_used_and_revoked(signed_in: SignedIn, site: Callable[[], TestClient]):
    browser = signed_in(HEADS[HOST])
    page = browser.get("/api/v1/me")
    assert page.json()["email"] == HEADS[HOST]
    csrf = csrf_of(browser, browser.get("/account").text)
    made = browser.post(
        "/api/v1/tokens", json={"name": "MIS export"}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status_code == 201, made.text
    raw, token_id = made.json()["token"], made.json()["id"]
    assert raw.startswith("rvw_")

    script = site()  # no cookies: only the token
    auth = {"Authorization": f"Bearer {raw}"}
    me = script.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.json() == {
        "email": HEADS[HOST],
        "name": me.json()["name"],
        "role": "head",
        "school_urn": HOST,
        "school": me.json()["school"],
    }
    assert me.json()["school"]
    listed = script.get("/api/v1/tokens", headers=auth).json()
    assert [(t["name"], t["revoked"]) for t in listed] == [("MIS export", False)]
    assert listed[0]["last_used_at"] is not None
    assert "token" not in listed[0]  # the token itself is never shown again

    revoked = script.delete(f"/api/v1/tokens/{token_id}", headers=auth)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    after = script.get("/api/v1/me", headers=auth)
    assert after.status_code == 401
    assert after.json() == {
        "detail": "sign in first: a session cookie or an Authorization: Bearer token"
    }
    assert after.headers["WWW-Authenticate"] == "Bearer"


def test_someone_elses_token_cannot_be_revoked(cycle_rt: Runtime, api: Callable[[str], TestClient]):
    _, theirs = signin.create_api_token(cycle_rt.acting_as(HEADS[URNS[1]]), name="theirs")
    client = api(HEADS[HOST])
    refused = client.delete(f"/api/v1/tokens/{theirs.id}")
    missing = client.delete("/api/v1/tokens/999999")
    assert refused.status_code == missing.status_code == 404
    assert (
        refused.json() == missing.json() == {"detail": "no such API token, or you may not see it"}
    )
    assert not signin.list_api_tokens(cycle_rt.acting_as(HEADS[URNS[1]]))[0].revoked


def test_without_a_token_the_api_answers_401(site: Callable[[], TestClient]):
    client = site()
    for path in ("/api/v1/me", "/api/v1/cycles", SEF):
        answer = client.get(path)
        assert answer.status_code == 401, path
    wrong = client.get("/api/v1/me", headers={"Authorization": "Bearer rvw_not-a-token"})
    assert wrong.status_code == 401


def test_a_cookie_session_must_send_the_csrf_header_to_change_anything(signed_in: SignedIn):
    browser = signed_in(HEADS[HOST])
    refused = browser.post("/api/v1/tokens", json={"name": "no header"})
    assert refused.status_code == 403
    assert set(refused.json()) == {"detail"}
    wrong = browser.post(
        "/api/v1/tokens", json={"name": "wrong"}, headers={"X-CSRF-Token": "not-the-token"}
    )
    assert wrong.status_code == 403
    assert browser.get("/api/v1/tokens").json() == []


def test_a_token_works_from_another_origin_without_cookies(
    cycle_rt: Runtime, site: Callable[[], TestClient]
):
    client = site()
    made = client.post(
        "/api/v1/tokens",
        json={"name": "from elsewhere"},
        headers={**bearer(cycle_rt, HEADS[HOST]), "Origin": "https://elsewhere.example"},
    )
    assert made.status_code == 201, made.text
    assert "review_session" not in client.cookies
    names = [t.name for t in signin.list_api_tokens(cycle_rt.acting_as(HEADS[HOST]))]
    assert names == ["test", "from elsewhere"]


def test_the_schema_lists_every_endpoint(site: Callable[[], TestClient]):
    schema = site().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    school = "/api/v1/cycles/{cycle}/schools/{urn}"
    expected = {
        "/api/v1/me": {"get"},
        "/api/v1/my-work": {"get"},
        "/api/v1/cycles": {"get"},
        "/api/v1/cycles/{cycle}/status": {"get"},
        f"{school}/sef": {"get", "post"},
        f"{school}/sef/decision": {"post"},
        f"{school}/visit": {"get"},
        f"{school}/write-up": {"get", "post"},
        f"{school}/write-up/agree": {"post"},
        f"{school}/write-up/return": {"post"},
        f"{school}/write-up/publish": {"post"},
        f"{school}/drafts/{{kind}}": {"get", "put"},
        f"{school}/feedback": {"post"},
        f"{school}/actions": {"get"},
        f"{school}/actions/{{number}}/update": {"post"},
        "/api/v1/practice": {"get"},
        "/api/v1/tokens": {"get", "post"},
        "/api/v1/tokens/{token_id}": {"delete"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) == methods, path
    assert all(p.startswith("/api/v1/") for p in paths), "pages stay out of the schema"
    assert "PersonalToken" in schema.json()["components"]["securitySchemes"]


# --- who am I, my work, cycles ----------------------------------------------------------


def test_my_work_lists_the_sef_with_its_page(api: Callable[[str], TestClient]):
    items = api(HEADS[HOST]).get("/api/v1/my-work").json()
    sefs = [i for i in items if i["page"] == "sef"]
    assert len(sefs) == 1, items
    assert sefs[0]["urn"] == HOST
    assert sefs[0]["cycle"] == CYCLE
    assert sefs[0]["url"].endswith(f"/schools/{HOST}/sef")


def test_cycles_are_those_you_have_a_part_in(api: Callable[[str], TestClient]):
    mine = api(HEADS[HOST]).get("/api/v1/cycles").json()
    assert [c["cycle"] for c in mine] == [CYCLE]
    assert mine[0]["schools"] == len(URNS)
    assert api(FACILITATOR).get("/api/v1/cycles").json()[0]["cycle"] == CYCLE
    assert api(OTHER_FACILITATOR).get("/api/v1/cycles").json() == []


@pytest.mark.parametrize("path", [CYCLE, ENCODED], ids=["slash", "encoded"])
def test_a_cycle_status_shows_the_schools_you_may_see(api: Callable[[str], TestClient], path: str):
    everyone = api(FACILITATOR).get(f"/api/v1/cycles/{path}/status")
    assert everyone.status_code == 200, everyone.text
    assert {s["urn"] for s in everyone.json()["schools"]} == set(URNS)
    head = api(HEADS[HOST]).get(f"/api/v1/cycles/{path}/status").json()
    assert [s["urn"] for s in head["schools"]] == [HOST]  # no triads yet: only itself
    hidden = api(OTHER_FACILITATOR).get(f"/api/v1/cycles/{path}/status")
    missing = api(OTHER_FACILITATOR).get("/api/v1/cycles/Nowhere/2026-27/status")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "no such cycle, or you may not see it"}


# --- the SEF --------------------------------------------------------------------------


def test_a_head_submits_the_sef_as_json_and_the_facilitator_returns_then_accepts_it(
    cycle_rt: Runtime, api: Callable[[str], TestClient]
):
    body = sef_body(URNS[1], cycle_rt)  # the sample primary SEF, as JSON
    head = api(HEADS[HOST])
    sent = head.post(SEF, json=body)
    assert sent.status_code == 201, sent.text
    assert sent.json()["version"] == 1
    assert sent.json()["enquiry_question"] == body["enquiry_question"]
    assert sef.show_sef(cycle_rt, cycle=CYCLE, urn=HOST).versions == 1

    facilitator = api(FACILITATOR)
    no_reason = facilitator.post(f"{SEF}/decision", json={"decision": "return"})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["detail"]
    returned = facilitator.post(
        f"{SEF}/decision", json={"decision": "return", "reason": "Add attendance evidence"}
    )
    assert returned.status_code == 200, returned.text
    again = head.post(SEF, json=body)
    assert again.json()["version"] == 2
    own = head.post(f"{SEF}/decision", json={"decision": "accept"})
    assert own.status_code == 403  # the school may see its SEF, but not accept it
    assert own.json()["detail"].startswith(f"{HEADS[HOST]} may not accept")
    accepted = facilitator.post(f"{SEF}/decision", json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    first = head.get(SEF, params={"version": 1}).json()
    assert first["version"] == 1 and first["versions"] == 2


def test_a_sef_with_problems_is_refused_in_one_line(
    cycle_rt: Runtime, api: Callable[[str], TestClient]
):
    body = sef_body(URNS[1], cycle_rt)
    body["areas"][0]["grade"] = "splendid"  # type: ignore[index]
    refused = api(HEADS[HOST]).post(SEF, json=body)
    assert refused.status_code == 400
    assert "splendid" in refused.json()["detail"]
    assert "\n" not in refused.json()["detail"]
    twice = {**body, "areas": [body["areas"][0], body["areas"][0]]}  # type: ignore[index]
    assert api(HEADS[HOST]).post(SEF, json=twice).status_code == 400
    long = {**body, "enquiry_question": "x" * 10_001}
    assert api(HEADS[HOST]).post(SEF, json=long).status_code == 400


def test_another_school_cannot_read_or_submit_a_sef_and_learns_nothing(
    cycle_rt: Runtime, api: Callable[[str], TestClient]
):
    submit_sef(cycle_rt, CYCLE, HOST)
    other = api(HEADS[URNS[4]])
    nowhere = f"/api/v1/cycles/{CYCLE}/schools/999999/sef"
    for answer in (
        other.get(SEF),
        other.post(SEF, json=sef_body(URNS[1], cycle_rt)),
        other.post(f"{SEF}/decision", json={"decision": "accept"}),
        other.get(nowhere),
    ):
        assert answer.status_code == 404
        assert answer.json() == {"detail": "no such self-evaluation, or you may not see it"}
    assert sef.show_sef(cycle_rt, cycle=CYCLE, urn=HOST).versions == 1


def test_bad_paths_and_bodies_answer_400_in_one_line(api: Callable[[str], TestClient]):
    client = api(FACILITATOR)
    for answer in (
        client.get(f"/api/v1/cycles/{CYCLE}/schools/12/sef"),
        client.get(f"/api/v1/cycles/{CYCLE}/schools/abc/sef"),
        client.get(SEF, params={"version": 0}),
        client.post(f"{SEF}/decision", json={"decision": "maybe"}),
        client.post(f"{SEF}/decision", content=b"not json", headers={"Content-Type": "text/plain"}),
    ):
        assert answer.status_code == 400, answer.text
        assert set(answer.json()) == {"detail"}
        assert "\n" not in answer.json()["detail"]
    assert client.delete("/api/v1/me").status_code == 405


# --- visit, write-up, actions ------------------------------------------------------------


@pytest.fixture
def published(cycle_rt: Runtime, clock: FakeClock) -> dict[int, list[int]]:
    """Triads by rotation; HOST visited and its write-up published to its reviewers;
    URNS[1] visited and its write-up drafted."""
    triads = set_rotation_triads(cycle_rt, CYCLE, URNS)
    plan_visit(cycle_rt, CYCLE, HOST, VISIT_DAYS[0])
    plan_visit(cycle_rt, CYCLE, URNS[1], VISIT_DAYS[1])
    clock.set(at(VISIT_DAYS[1]))
    from review_engine.services import visits

    for host in (HOST, URNS[1]):
        visits.complete(cycle_rt.acting_as(HEADS[host]), cycle=CYCLE, host=host)
    publish_writeup(cycle_rt, CYCLE, HOST, triads[HOST], SharingLevel.REVIEWERS)
    draft_writeup(cycle_rt, CYCLE, URNS[1], triads[URNS[1]][0])
    actions.add_action(
        cycle_rt.acting_as(HEADS[HOST]),
        cycle=CYCLE,
        urn=HOST,
        ebi=1,
        title="Keep-up sessions",
        owner="English lead",
        success_criteria="Seen in every class",
        due=date(2027, 3, 1),
    )
    return triads


def test_the_visit_and_write_up_are_read_by_the_host_side(
    published: dict[int, list[int]], api: Callable[[str], TestClient]
):
    visitor = api(HEADS[published[HOST][1]])
    visit = visitor.get(f"/api/v1/cycles/{CYCLE}/schools/{HOST}/visit")
    assert visit.status_code == 200, visit.text
    assert visit.json()["visit_date"] == VISIT_DAYS[0].isoformat()
    writeup = visitor.get(f"/api/v1/cycles/{CYCLE}/schools/{HOST}/write-up").json()
    assert writeup["sharing"] == "reviewers"
    assert [i["line"] for i in writeup["ebi"]] == [
        "Catching up pupils who fall behind",
        "Reading in the wider curriculum",
    ]
    outsider = api(HEADS[URNS[4]])
    for page in ("visit", "write-up"):
        hidden = outsider.get(f"/api/v1/cycles/{CYCLE}/schools/{HOST}/{page}")
        missing = outsider.get(f"/api/v1/cycles/{CYCLE}/schools/999999/{page}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()


def test_a_co_reviewer_returns_the_draft_and_then_agrees_the_redraft(
    cycle_rt: Runtime, published: dict[int, list[int]], api: Callable[[str], TestClient]
):
    host = URNS[1]
    lead, co_reviewers = published[host][0], published[host][1:]
    base = f"/api/v1/cycles/{CYCLE}/schools/{host}/write-up"
    empty = api(HEADS[co_reviewers[0]]).post(f"{base}/return", json={"reason": ""})
    assert empty.status_code == 400
    returned = api(HEADS[co_reviewers[0]]).post(f"{base}/return", json={"reason": "Cite evidence"})
    assert returned.status_code == 200, returned.text
    draft_writeup(cycle_rt, CYCLE, host, lead)
    for school in co_reviewers:
        agreed = api(HEADS[school]).post(f"{base}/agree")
        assert agreed.status_code == 200, agreed.text
    assert agreed.json()["state"] == "reviewers_agreed"
    host_agrees = api(HEADS[host]).post(f"{base}/agree")
    assert host_agrees.status_code == 200, host_agrees.text
    assert host_agrees.json()["state"] == "host_agreed"
    outsider = api(HEADS[URNS[5]]).post(f"{base}/agree")
    assert outsider.status_code == 404


def test_a_head_updates_an_action_and_outsiders_see_none(
    published: dict[int, list[int]], api: Callable[[str], TestClient]
):
    base = f"/api/v1/cycles/{CYCLE}/schools/{HOST}/actions"
    head = api(HEADS[HOST])
    listed = head.get(base).json()
    assert [(a["number"], a["title"], a["rag"]) for a in listed] == [
        (1, "Keep-up sessions", "amber")
    ]
    updated = head.post(f"{base}/1/update", json={"rag": Rag.GREEN, "note": "Running in Y1"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["rag"] == "green"
    assert updated.json()["latest_update"] == "Running in Y1"
    assert head.post(f"{base}/2/update", json={"rag": "green", "note": "x"}).status_code == 404
    assert head.post(f"{base}/1/update", json={"rag": "purple", "note": "x"}).status_code == 400
    outsider = api(HEADS[URNS[4]])
    listed_hidden = outsider.get(base)
    listed_missing = outsider.get(f"/api/v1/cycles/{CYCLE}/schools/999999/actions")
    assert listed_hidden.status_code == listed_missing.status_code == 404
    assert (
        listed_hidden.json()
        == listed_missing.json()
        == {"detail": "no such action, or you may not see it"}
    )
    visitor = api(HEADS[published[HOST][1]])  # may see the school, not its actions
    assert visitor.get(base).json() == []
    hidden = outsider.post(f"{base}/1/update", json={"rag": "red", "note": "sabotage"})
    missing = outsider.post(f"{base}/7/update", json={"rag": "red", "note": "sabotage"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert head.get(base).json()[0]["rag"] == "green"


def test_practice_lists_what_is_shared_with_you(
    published: dict[int, list[int]], api: Callable[[str], TestClient]
):
    reviewer = api(HEADS[published[HOST][0]]).get("/api/v1/practice").json()
    assert [(e["urn"], e["area"]) for e in reviewer] == [(HOST, "quality_of_education")]
    assert api(HEADS[URNS[4]]).get("/api/v1/practice").json() == []
    unknown = api(FACILITATOR).get("/api/v1/practice", params={"cluster": "Nowhere"})
    assert unknown.status_code == 200 and unknown.json() == []


# --- the account page ---------------------------------------------------------------------


def test_the_account_page_shows_who_you_are(signed_in: SignedIn):
    page = signed_in(HEADS[HOST]).get("/account")
    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    assert HEADS[HOST] in page.text
    assert "Head teacher" in page.text
    assert f"(URN {HOST})" in page.text
    assert "You have no API tokens." in page.text
    facilitator = signed_in(FACILITATOR).get("/account").text
    assert "Fran Facilitator" in facilitator and "Facilitator" in facilitator


def test_anyone_not_signed_in_is_sent_to_sign_in(site: Callable[[], TestClient]):
    answer = site().get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Faccount"


def test_a_token_made_on_the_account_page_is_shown_once_and_can_be_revoked(
    signed_in: SignedIn, site: Callable[[], TestClient]
):
    browser = signed_in(HEADS[HOST])
    csrf = csrf_of(browser, browser.get("/account").text)
    made = browser.post("/account/tokens", data={"name": "MIS export", "csrf_token": csrf})
    assert made.status_code == 200
    assert "Copy this token now" in made.text
    assert made.headers["Cache-Control"] == "no-store"
    raw = re.search(r'value="(rvw_[^"]+)"', made.text)
    assert raw, made.text
    script = site()
    auth = {"Authorization": f"Bearer {raw.group(1)}"}
    assert script.get("/api/v1/me", headers=auth).status_code == 200

    account = browser.get("/account").text
    assert "MIS export" in account
    assert raw.group(1) not in account  # never shown again
    assert "Active" in account
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', account)
    assert token_id
    refused = browser.post(f"/account/tokens/{token_id.group(1)}/revoke")
    assert refused.status_code == 403  # no CSRF token
    assert script.get("/api/v1/me", headers=auth).status_code == 200
    revoked = browser.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    after = browser.get(revoked.headers["location"]).text
    assert "The token “MIS export” has been revoked" in after
    assert "Revoked" in after
    assert script.get("/api/v1/me", headers=auth).status_code == 401


def test_a_token_needs_a_name_said_beside_the_field(signed_in: SignedIn):
    browser = signed_in(HEADS[HOST])
    csrf = csrf_of(browser, browser.get("/account").text)
    for name, message in (
        ("  ", "Enter a name for the token"),
        ("x" * 201, "token name"),
    ):
        answer = browser.post("/account/tokens", data={"name": name, "csrf_token": csrf})
        assert answer.status_code == 400
        assert 'id="token-name-error"' in answer.text
        assert 'aria-describedby="token-name-hint token-name-error"' in answer.text
        assert message in answer.text
    assert "You have no API tokens." in browser.get("/account").text


def test_someone_elses_token_cannot_be_revoked_from_the_page(
    cycle_rt: Runtime, signed_in: SignedIn
):
    _, theirs = signin.create_api_token(cycle_rt.acting_as(HEADS[URNS[1]]), name="theirs")
    browser = signed_in(HEADS[HOST])
    csrf = csrf_of(browser, browser.get("/account").text)
    answer = browser.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": csrf})
    assert answer.status_code == 404
    assert not signin.list_api_tokens(cycle_rt.acting_as(HEADS[URNS[1]]))[0].revoked
