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


def test_a_head_cannot_change_the_members(cycle_rt: Runtime, signed_in: SignedIn) -> None:
    head = signed_in(HEADS[990101])
    token = csrf_of(head, head.get("/").text)
    assert head.get(PAGE).status_code == 404
    refused = head.post(f"{PAGE}/schools/990102/leave", data={"csrf_token": token})
    assert refused.status_code == 404
    assert 990102 in _members(cycle_rt)
