"""A cluster's member schools on its settings page: the facilitator adds schools by URN
(all or none, a bad URN named beside the field) and a school leaves; a head may not."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services import clusters
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import CLUSTER, HEADS

PAGE = f"/clusters/{CLUSTER}"


def _members(rt: Runtime) -> set[int]:
    return {s.urn for s in clusters.cluster_settings(rt, name=CLUSTER).schools}


def test_the_facilitator_adds_a_school_and_one_leaves(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(FACILITATOR)
    page = client.get(PAGE)
    assert page.status_code == 200 and "Member schools" in page.text
    before = _members(cycle_rt)
    assert all(f"<td>{urn}</td>" in page.text for urn in before)
    token = csrf_of(client, page.text)
    bad = client.post(f"{PAGE}/schools", data={"csrf_token": token, "urns": "99999999, abc"})
    assert bad.status_code == 400 and "A URN is a number" in bad.text
    unknown = client.post(f"{PAGE}/schools", data={"csrf_token": token, "urns": "99999999"})
    assert unknown.status_code == 400 and "99999999" in unknown.text
    assert _members(cycle_rt) == before  # nothing added
    leaving = min(before)
    left = client.post(f"{PAGE}/schools/{leaving}/leave", data={"csrf_token": token})
    assert left.status_code == 303 and "saved=removed" in left.headers["location"]
    assert _members(cycle_rt) == before - {leaving}
    back = client.post(f"{PAGE}/schools", data={"csrf_token": token, "urns": str(leaving)})
    assert back.status_code == 303
    assert _members(cycle_rt) == before


def test_the_facilitator_finds_each_schools_notice_routing_from_the_cluster(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(FACILITATOR)
    page = client.get(PAGE)
    for urn in _members(cycle_rt):
        assert f'href="/schools/{urn}/notices"' in page.text
    routing = client.get("/schools/990101/notices")
    assert routing.status_code == 200


def test_a_head_cannot_change_the_members(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    head = signed_in(HEADS[990101])
    token = csrf_of(head, head.get("/").text)
    assert head.get(PAGE).status_code == 404
    refused = head.post(f"{PAGE}/schools/990102/leave", data={"csrf_token": token})
    assert refused.status_code == 404
    assert 990102 in _members(cycle_rt)


def test_a_programme_admin_creates_a_cluster_and_nobody_else_may(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    from review_engine.core.domain import Role
    from review_engine.services import people

    admin = "programme@example.org"
    people.add_person(cycle_rt.acting_as("operator"), email=admin, name="Pat Lead", role=Role.ADMIN)
    client = signed_in(admin)
    form = client.get("/clusters")
    assert form.status_code == 200 and "Create a cluster" in form.text
    token = csrf_of(client, form.text)
    taken = client.post("/clusters", data={"csrf_token": token, "name": CLUSTER})
    assert taken.status_code == 400 and "already exists" in taken.text
    made = client.post(
        "/clusters",
        data={
            "csrf_token": token,
            "name": "Riverside",
            "facilitator": FACILITATOR,
            "framework": "renewed2025",
            "visitors_per_host": "2",
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/clusters/Riverside#schools"
    settings = clusters.cluster_settings(cycle_rt.acting_as(admin), name="Riverside")
    assert (settings.facilitator, settings.framework, settings.visitors_per_host) == (
        FACILITATOR,
        "renewed2025",
        2,
    )
    for who in (FACILITATOR, HEADS[990101]):
        other = signed_in(who)
        assert other.get("/clusters").status_code == 404
        refused = other.post(
            "/clusters", data={"csrf_token": csrf_of(other, other.get("/").text), "name": "X"}
        )
        assert refused.status_code == 404
