"""Moving the cycle itself on from its plan page: open the next phase before its date, or
cancel with a reason; the workflow says who may (the facilitator, not a head)."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services import cycles, history
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import CYCLE, HEADS

PLAN = f"/cycles/{CYCLE}/plan"
MOVE = f"/cycles/{CYCLE}/move"


def test_the_facilitator_opens_peer_visits_early_and_history_says_who(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(FACILITATOR)
    page = client.get(PLAN)
    assert page.status_code == 200
    assert "Open “Peer visits” now" in page.text and "Cancel the cycle" in page.text
    moved = client.post(
        MOVE, data={"csrf_token": csrf_of(client, page.text), "trigger": "open_peer_review"}
    )
    assert moved.status_code == 303
    after = client.get(moved.headers["location"])
    assert "the cycle is now at “Peer visits”" in after.text
    assert cycles.cycle_status(cycle_rt, cycle=CYCLE).state == "peer_review"
    last = history.history(cycle_rt, cycle=CYCLE)[-1]
    assert (last.trigger, last.actor) == ("open_peer_review", FACILITATOR)


def test_cancelling_needs_a_reason_and_a_head_cannot_move_the_cycle(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(FACILITATOR)
    token = csrf_of(client, client.get(PLAN).text)
    refused = client.post(MOVE, data={"csrf_token": token, "trigger": "cancel"})
    assert refused.status_code == 400 and "Say why" in refused.text
    assert cycles.cycle_status(cycle_rt, cycle=CYCLE).state == "self_review"
    head = signed_in(HEADS[990101])
    head_token = csrf_of(head, head.get("/").text)
    hidden = head.post(MOVE, data={"csrf_token": head_token, "trigger": "open_peer_review"})
    assert hidden.status_code == 404
    assert head.get(PLAN).status_code == 404
    unknown = client.post(MOVE, data={"csrf_token": token, "trigger": "close"})
    assert unknown.status_code == 404  # not a move the cycle can make now
    cancelled = client.post(
        MOVE, data={"csrf_token": token, "trigger": "cancel", "reason": "The cluster merged"}
    )
    assert cancelled.status_code == 303
    assert cycles.cycle_status(cycle_rt, cycle=CYCLE).state == "cancelled"
    assert history.history(cycle_rt, cycle=CYCLE)[-1].reason == "The cluster merged"
