"""Two writers on one review: one wins, the other gets an error; nothing is lost or doubled."""

from __future__ import annotations

import threading

import pytest

from review_engine.errors import Conflict, ReviewEngineError, TransitionNotAllowed
from review_engine.runtime import Runtime
from review_engine.services import cycles, history, transitions
from review_engine.services._context import open_cycle
from tests.conftest import FACILITATOR


@pytest.fixture
def cycle(rt: Runtime, sample_cluster: list[int]) -> str:
    ref = cycles.start_cycle(rt, cluster="Northbrook", year="2026-27").cycle
    transitions.fire(rt, cycle=ref, machine="cycle", trigger="open_self_review")
    return ref


def test_two_threads_racing_on_one_review(rt: Runtime, cycle: str) -> None:
    urn = 990101
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def writer() -> None:
        barrier.wait()
        try:
            fired = transitions.fire(
                rt, cycle=cycle, machine="self_review", trigger="start", school_urn=urn
            )
            outcomes.append(fired.to_state)
        except ReviewEngineError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [o for o in outcomes if o == "drafting"]
    losses = [o for o in outcomes if isinstance(o, Conflict | TransitionNotAllowed)]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    starts = [h for h in history.history(rt, cycle=cycle, school_urn=urn) if h.trigger == "start"]
    assert len(starts) == 1
    status = {s.urn: s.states for s in cycles.cycle_status(rt, cycle=cycle).schools}
    assert status[urn]["self_review"] == "drafting"


def test_stale_writer_gets_conflict(rt: Runtime, cycle: str) -> None:
    """Both read version 1; the first commits; the second's version check fails."""
    if rt.db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers up front (BEGIN IMMEDIATE); the race test covers it")
    urn = 990102
    with rt.db.transaction() as first:
        ctx1 = open_cycle(first, rt, cycle)
        with rt.db.transaction() as second:
            ctx2 = open_cycle(second, rt, cycle)
            review = ctx2.review(urn)  # the second writer reads version 1 and the old state
            assert review.id is not None
            assert ctx2.states(urn)["self_review"] == "not_started"
            ctx1.fire("self_review", "start", urn)
            first.commit()
            with pytest.raises(Conflict, match="changed by someone else"):
                ctx2.fire("self_review", "start", urn)
    starts = [h for h in history.history(rt, cycle=cycle, school_urn=urn) if h.trigger == "start"]
    assert [h.actor for h in starts] == [FACILITATOR]
