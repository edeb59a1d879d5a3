"""The rules tightened after review: what outsiders learn, returned SEFs, who returns and
closes what, and whose support history a reviewer sees."""

from __future__ import annotations

from datetime import date

import pytest

from review_engine.core.domain import Rag, SharingLevel
from review_engine.errors import GuardRejected, InvalidInput, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import actions, history, sef, transitions, writeups
from review_engine.testing import FakeClock
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    draft_writeup,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)  # 990101 ... 990108
HOST = URNS[0]


def _as(rt: Runtime, urn: int) -> Runtime:
    return rt.acting_as(HEADS[urn])


def test_an_outsider_firing_a_raw_trigger_learns_no_state(cycle_rt: Runtime) -> None:
    set_rotation_triads(cycle_rt, CYCLE, URNS)
    outsider = URNS[4]  # neither visits the host nor is visited by it
    with pytest.raises(NotPermitted, match="you have no part in it") as caught:
        transitions.fire(
            _as(cycle_rt, outsider),
            cycle=CYCLE,
            machine="write_up",
            trigger="publish",
            school_urn=HOST,
        )
    assert "state" not in str(caught.value) and "awaiting" not in str(caught.value)


def test_a_returned_sef_needs_a_new_version(cycle_rt: Runtime) -> None:
    submit_sef(cycle_rt, CYCLE, HOST)
    sef.decide_sef(cycle_rt, cycle=CYCLE, urn=HOST, accept=False, reason="add evidence")
    head = _as(cycle_rt, HOST)
    transitions.fire(head, cycle=CYCLE, machine="self_review", trigger="redraft", school_urn=HOST)
    with pytest.raises(GuardRejected, match="the returned self-evaluation needs a new version"):
        transitions.fire(
            head, cycle=CYCLE, machine="self_review", trigger="submit", school_urn=HOST
        )
    view = submit_sef(cycle_rt, CYCLE, HOST)
    assert (view.version, view.state) == (2, "submitted")


def test_lead_redrafts_reviewers_return_and_actions_wait_for_publishing(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    lead, co_reviewer, _ = by_host[HOST]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    draft_writeup(cycle_rt, CYCLE, HOST, lead)
    with pytest.raises(NotPermitted, match="only a co-reviewer, the facilitator or the school"):
        writeups.return_(_as(cycle_rt, lead), cycle=CYCLE, host=HOST, reason="mine")
    returned = writeups.return_(
        _as(cycle_rt, co_reviewer), cycle=CYCLE, host=HOST, reason="evidence for EBI 2"
    )
    assert returned.state == "drafted"
    with pytest.raises(InvalidInput, match="write-up is not published yet"):
        actions.add_action(
            _as(cycle_rt, HOST),
            cycle=CYCLE,
            urn=HOST,
            ebi=1,
            title="t",
            owner="o",
            success_criteria="c",
            due=date(2027, 3, 1),
        )


def test_a_school_closes_its_finished_plan_and_only_the_facilitator_overrides(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, by_host[HOST], SharingLevel.CLUSTER)
    head = _as(cycle_rt, HOST)
    actions.add_action(
        head,
        cycle=CYCLE,
        urn=HOST,
        ebi=1,
        title="Keep-up sessions",
        owner="English lead",
        success_criteria="Seen in every class",
        due=date(2027, 3, 1),
    )
    for trigger in ("agree_plan", "start"):
        transitions.fire(head, cycle=CYCLE, machine="support", trigger=trigger, school_urn=HOST)
    with pytest.raises(GuardRejected, match="only the facilitator may override"):
        actions.impact_review(head, cycle=CYCLE, urn=HOST, override=True, reason="later")
    actions.update_action(
        head, cycle=CYCLE, urn=HOST, number=1, rag=Rag.COMPLETE, note="seen in every class"
    )
    assert actions.impact_review(head, cycle=CYCLE, urn=HOST) == "closed"
    reviewer_view = history.history(_as(cycle_rt, by_host[HOST][1]), cycle=CYCLE)
    assert not [h for h in reviewer_view if h.machine == "support" and h.school_urn == HOST]
    own_view = history.history(head, cycle=CYCLE, school_urn=HOST)
    assert [h.to_state for h in own_view if h.machine == "support"] == [
        "plan_agreed",
        "in_progress",
        "impact_reviewed",
        "closed",
    ]


def test_explain_tells_the_facilitator_why_nearer_schools_were_not_chosen(
    cycle_rt: Runtime,
) -> None:
    from review_engine.services import triads

    triads.propose(cycle_rt, cycle=CYCLE, visitors=3)
    lines = triads.explain(cycle_rt, cycle=CYCLE, host=HOST)
    assert lines[0] == "Northbrook Primary School (990101) is visited by:"
    assert len([line for line in lines if "km;" in line]) == 3
    assert any(line.startswith("- lead reviewer ") for line in lines)
    row = next(r for r in triads.show(cycle_rt, cycle=CYCLE) if r.host == HOST)
    as_visitor = triads.explain(_as(cycle_rt, row.visitors[0]), cycle=CYCLE, host=HOST)
    assert as_visitor[:4] == lines[:4]
    assert not any(line.startswith(("- not ", "- lead reviewer ")) for line in as_visitor)
