"""My work: what each person owes across their open cycles, in their own words, with due
dates and overdue marks from the same source as the reminders and the tick."""

from __future__ import annotations

from datetime import date

import pytest

from review_engine.errors import NotPermitted
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import mywork, sef, tick, visits
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    at,
    draft_writeup,
    hold_visit,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
SEF_DUE = date(2026, 10, 16)  # the end of Autumn 1 in the sample calendar


def _work(rt: Runtime, who: str) -> list[tuple[int, str, str]]:
    return [(i.urn, i.page, i.what) for i in mywork.my_work(rt.acting_as(who))]


def test_a_head_owes_the_sef_until_it_is_submitted_and_again_when_it_is_returned(
    cycle_rt: Runtime,
) -> None:
    rt = cycle_rt
    items = mywork.my_work(rt.acting_as(HEADS[HOST]))
    assert [(i.cycle, i.urn, i.page, i.what, i.due, i.overdue) for i in items] == [
        (CYCLE, HOST, "sef", "Submit your self-evaluation", SEF_DUE, False)
    ]
    assert items[0].school and items[0].cluster == "Northbrook"
    submit_sef(rt, CYCLE, HOST)
    assert _work(rt, HEADS[HOST]) == []
    name = items[0].school
    assert (HOST, "sef", f"Accept or return the SEF of {name}") in _work(rt, FACILITATOR)
    sef.decide_sef(rt, cycle=CYCLE, urn=HOST, accept=False, reason="add reading evidence")
    assert _work(rt, HEADS[HOST]) == [
        (HOST, "sef", "Redraft your self-evaluation (returned: add reading evidence)")
    ]
    assert not [w for w in _work(rt, FACILITATOR) if w[2].startswith("Accept")]


def test_overdue_work_comes_first_for_the_head_and_the_facilitator_chases_it(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    rt = cycle_rt
    for urn in URNS[1:]:
        submit_sef(rt, CYCLE, urn)
    clock.set(at(date(2026, 10, 19), 7))
    tick.tick(rt.acting_as("scheduler"))
    (item,) = mywork.my_work(rt.acting_as(HEADS[HOST]))
    assert (item.what, item.due, item.overdue) == ("Submit your self-evaluation", SEF_DUE, True)
    work = mywork.my_work(rt.acting_as(FACILITATOR))
    assert (
        work[0].overdue and work[0].what == f"Chase {item.school}: the self-evaluation is overdue"
    )
    assert all(not w.overdue for w in work[1:])


def test_reviewers_are_shown_their_part_in_the_peer_review_and_the_write_up(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    rt = cycle_rt
    for urn in URNS:
        submit_sef(rt, CYCLE, urn)
        sef.decide_sef(rt, cycle=CYCLE, urn=urn, accept=True, reason=None)
    by_host = set_rotation_triads(rt, CYCLE, URNS)
    lead, co = by_host[HOST][0], by_host[HOST][1]
    assert (HOST, "visit", "Agree the visit focus") in _work(rt, HEADS[HOST])
    hold_visit(rt, clock, CYCLE, HOST, date(2026, 11, 10))
    host_name = visits.show(rt, cycle=CYCLE, host=HOST).host_name
    lead_items = mywork.my_work(rt.acting_as(HEADS[lead]))
    draft = next(i for i in lead_items if i.page == "writeup")
    assert (draft.urn, draft.what) == (HOST, f"Draft the write-up for {host_name}")
    assert draft.due is not None and draft.due > date(2026, 11, 10) and not draft.overdue
    assert (HOST, "feedback", f"Give feedback on the visit to {host_name}") in _work(
        rt, HEADS[lead]
    )
    assert (HOST, "feedback", "Give feedback on the visit to your school") in _work(rt, HEADS[HOST])
    assert not [w for w in _work(rt, HEADS[co]) if w[1] == "writeup"]
    draft_writeup(rt, CYCLE, HOST, lead)
    assert (HOST, "writeup", f"Agree the write-up for {host_name}") in _work(rt, HEADS[co])
    assert not [w for w in _work(rt, HEADS[lead]) if w[1] == "writeup" and w[0] == HOST]


def test_nothing_for_an_unrelated_person_and_the_operator_is_refused(cycle_rt: Runtime) -> None:
    assert mywork.my_work(cycle_rt.acting_as(OTHER_FACILITATOR)) == []
    with pytest.raises(NotPermitted, match="per person"):
        mywork.my_work(cycle_rt.acting_as(OPERATOR))
    with pytest.raises(NotPermitted):
        mywork.my_work(cycle_rt.acting_as("scheduler"))
