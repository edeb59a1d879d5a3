"""Drafts saved from a browser form as it is typed: the school's SEF and the lead reviewer's
write-up, seen only by whoever may save them."""

from __future__ import annotations

from datetime import date

import pytest

from review_engine.core.phases import SelfReviewState
from review_engine.errors import InvalidInput, NotFound
from review_engine.runtime import Runtime
from review_engine.services import cycles, drafts, history, sef
from review_engine.testing import FakeClock
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    draft_writeup,
    hold_visit,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST, OTHER = URNS[0], URNS[1]
CONTENT = {"enquiry_question": "How well do pupils read?", "areas": [{"key": "qe", "grade": "2"}]}


def _state(rt: Runtime, urn: int) -> str:
    status = cycles.cycle_status(rt, cycle=CYCLE)
    return next(s.states["self_review"] for s in status.schools if s.urn == urn)


def test_a_head_saves_and_reloads_a_sef_draft_which_starts_the_self_review(
    cycle_rt: Runtime,
) -> None:
    head = cycle_rt.acting_as(HEADS[HOST])
    assert drafts.load_draft(head, cycle=CYCLE, urn=HOST, kind="sef") is None
    saved = drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content=CONTENT)
    loaded = drafts.load_draft(head, cycle=CYCLE, urn=HOST, kind="sef")
    assert loaded is not None
    assert (loaded.content, saved.content, saved.saved_by) == (CONTENT, CONTENT, HEADS[HOST])
    assert loaded.saved_by == "Aisha Rahman"  # shown by name once loaded
    assert _state(cycle_rt, HOST) == SelfReviewState.DRAFTING
    rows = history.history(cycle_rt, cycle=CYCLE, school_urn=HOST)
    assert [(r.trigger, r.actor) for r in rows if r.machine == "self_review"] == [
        ("start", HEADS[HOST])
    ]
    # A second save replaces the first, and changes no state.
    drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content={"note": "more"})
    again = drafts.load_draft(head, cycle=CYCLE, urn=HOST, kind="sef")
    assert again is not None and again.content == {"note": "more"}


def test_submitting_the_sef_clears_its_draft_and_a_draft_is_refused_until_it_is_returned(
    cycle_rt: Runtime,
) -> None:
    head = cycle_rt.acting_as(HEADS[HOST])
    drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content=CONTENT)
    submit_sef(cycle_rt, CYCLE, HOST)
    assert drafts.load_draft(head, cycle=CYCLE, urn=HOST, kind="sef") is None
    with pytest.raises(InvalidInput, match="self-evaluation is submitted"):
        drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content=CONTENT)
    sef.decide_sef(cycle_rt, cycle=CYCLE, urn=HOST, accept=False, reason="add evidence")
    drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content=CONTENT)
    assert _state(cycle_rt, HOST) == SelfReviewState.DRAFTING  # redrafted


def test_another_schools_head_finds_no_draft_and_may_not_save_one(cycle_rt: Runtime) -> None:
    head = cycle_rt.acting_as(HEADS[HOST])
    other = cycle_rt.acting_as(HEADS[OTHER])
    drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content=CONTENT)
    with pytest.raises(NotFound) as seen:
        drafts.load_draft(other, cycle=CYCLE, urn=HOST, kind="sef")
    assert "self-evaluation draft" in str(seen.value)
    with pytest.raises(Exception, match="only"):
        drafts.save_draft(other, cycle=CYCLE, urn=HOST, kind="sef", content=CONTENT)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"evidence": "x" * (drafts.DRAFT_LIMIT + 1)}, "at most"),
        ({"evidence": "bell\x07"}, "evidence contains a control character"),
        ({"areas": [{"qe": {"notes": "\x00"}}]}, r"areas\[1\]\.qe\.notes contains a control"),
        ({"grade": 2}, "grade is a int"),
        ({"a": {"b": {"c": {"d": {"e": "deep"}}}}}, "nested more than 4"),
    ],
    ids=["oversize", "control", "nested-nul", "number", "too-deep"],
)
def test_bad_content_is_refused_in_one_line_naming_the_field(
    cycle_rt: Runtime, content: dict, message: str
) -> None:
    head = cycle_rt.acting_as(HEADS[HOST])
    with pytest.raises(InvalidInput, match=message) as seen:
        drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="sef", content=content)
    assert "\n" not in str(seen.value)
    assert _state(cycle_rt, HOST) == SelfReviewState.NOT_STARTED


def test_an_unknown_kind_is_refused(cycle_rt: Runtime) -> None:
    head = cycle_rt.acting_as(HEADS[HOST])
    with pytest.raises(InvalidInput, match="draft kind 'notes'"):
        drafts.save_draft(head, cycle=CYCLE, urn=HOST, kind="notes", content={})


def test_the_lead_reviewer_drafts_a_writeup_until_it_is_drafted(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    rt = cycle_rt
    submit_sef(rt, CYCLE, HOST)
    by_host = set_rotation_triads(rt, CYCLE, URNS)
    lead, co = by_host[HOST][0], by_host[HOST][1]
    hold_visit(rt, clock, CYCLE, HOST, date(2026, 11, 10))
    as_lead = rt.acting_as(HEADS[lead])
    drafts.save_draft(as_lead, cycle=CYCLE, urn=HOST, kind="writeup", content={"www": ["a"]})
    found = drafts.load_draft(as_lead, cycle=CYCLE, urn=HOST, kind="writeup")
    assert found is not None and found.content == {"www": ["a"]}
    with pytest.raises(NotFound):
        drafts.load_draft(rt.acting_as(HEADS[co]), cycle=CYCLE, urn=HOST, kind="writeup")
    clock.advance(minutes=5)
    draft_writeup(rt, CYCLE, HOST, lead)
    assert drafts.load_draft(as_lead, cycle=CYCLE, urn=HOST, kind="writeup") is None
