"""The support and feedback pages: a school turns its EBIs into actions, updates their RAG
with notes, its supporting school adds notes, the plan moves on with what changed; feedback
on the visit from the host and its visitors."""

from __future__ import annotations

from datetime import date

import pytest

from review_engine.core.domain import SharingLevel
from review_engine.runtime import Runtime
from review_engine.services import actions, feedback
from review_engine.testing import FakeClock
from review_engine.web.rendering import page_url
from tests.http.conftest import SignedIn, csrf_of
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
SUPPORTER = URNS[4]  # neither visits the host nor is visited by it
BYSTANDER = URNS[5]
SUPPORT = page_url(CYCLE, HOST, "support")
FEEDBACK = page_url(CYCLE, HOST, "feedback")


@pytest.fixture
def visitors(cycle_rt: Runtime, clock: FakeClock) -> list[int]:
    """The host's visit held and its write-up published to the cluster."""
    submit_sef(cycle_rt, CYCLE, HOST)
    found = set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    publish_writeup(cycle_rt, CYCLE, HOST, found, SharingLevel.CLUSTER)
    return found


def test_a_school_adds_an_action_updates_it_and_its_supporter_adds_a_note(
    cycle_rt: Runtime, clock: FakeClock, signed_in: SignedIn, visitors: list[int]
) -> None:
    school = signed_in(HEADS[HOST])
    page = school.get(SUPPORT)
    assert page.status_code == 200
    assert "No support plan agreed yet" in page.text
    assert "Daily keep-up sessions were planned" in page.text  # the EBI to choose from
    token = csrf_of(school, page.text)

    missing = school.post(SUPPORT + "/actions", data={"csrf_token": token, "ebi": "1"})
    assert missing.status_code == 400
    assert 'id="title-error"' in missing.text and 'id="success_criteria-error"' in missing.text

    added = school.post(
        SUPPORT + "/actions",
        data={
            "csrf_token": token,
            "ebi": "1",
            "title": "Daily keep-up sessions in every class",
            "owner": "English lead",
            "success_criteria": "Seen in every class on a learning walk",
            "due_half_term": "Spring 2",
            "supporting": str(SUPPORTER),
        },
    )
    assert added.status_code == 303
    page = school.get(SUPPORT).text
    assert "Action 1: Daily keep-up sessions in every class" in page

    empty = school.post(
        SUPPORT + "/actions/1/update", data={"csrf_token": token, "rag": "green", "note": ""}
    )
    assert empty.status_code == 400 and 'id="note-1-error"' in empty.text
    updated = school.post(
        SUPPORT + "/actions/1/update",
        data={"csrf_token": token, "rag": "green", "note": "Running in all three classes."},
    )
    assert updated.status_code == 303

    clock.advance(days=1)
    supporter = signed_in(HEADS[SUPPORTER])
    seen = supporter.get(SUPPORT)
    assert seen.status_code == 200
    assert "Your school supports this action" in seen.text
    assert "Record the update" not in seen.text  # the status stays the school's
    noted = supporter.post(
        SUPPORT + "/actions/1/note",
        data={"csrf_token": csrf_of(supporter, seen.text), "note": "Our English lead visited."},
    )
    assert noted.status_code == 303

    page = signed_in(HEADS[HOST]).get(SUPPORT).text  # the next day: a new session
    names = {a.urn: a.school for a in actions.list_actions(cycle_rt, cycle=CYCLE)}
    assert "Running in all three classes." in page and "Green: on track" in page
    assert "Our English lead visited." in page and "(supporting school)" in page
    assert "10 November 2026" in page and "11 November 2026" in page  # the dates of each
    assert names[HOST] in page
    row = actions.list_actions(cycle_rt, cycle=CYCLE, urn=HOST)[0]
    assert row.rag == "green"  # the supporter's note left the school's status alone


def test_the_plan_is_agreed_started_and_its_impact_reviewed_with_what_changed(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    school = signed_in(HEADS[HOST])
    token = csrf_of(school, school.get(SUPPORT).text)
    for step in ("agree_plan", "start"):
        assert (
            school.post(SUPPORT + "/plan", data={"csrf_token": token, "step": step}).status_code
            == 303
        )
    silent = school.post(SUPPORT + "/plan", data={"csrf_token": token, "step": "review_impact"})
    assert silent.status_code == 400 and 'id="what_changed-error"' in silent.text
    done = school.post(
        SUPPORT + "/plan",
        data={
            "csrf_token": token,
            "step": "review_impact",
            "what_changed": "Fewer pupils fall behind in phonics.",
        },
    )
    assert done.status_code == 303
    page = school.get(SUPPORT).text
    assert "Impact reviewed" in page and "Fewer pupils fall behind in phonics." in page
    assert "Plan agreed" in page and "Plan started" in page


def test_a_school_with_no_part_finds_no_support_page(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    stranger = signed_in(HEADS[BYSTANDER])
    assert stranger.get(SUPPORT).status_code == 404
    assert stranger.get(page_url(CYCLE, 999999, "support")).status_code == 404
    assert stranger.get(FEEDBACK).status_code == 404


def test_feedback_given_on_the_day_appears(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    visitor = signed_in(HEADS[visitors[1]])
    page = visitor.get(FEEDBACK)
    assert page.status_code == 200 and "How useful was the visit" in page.text
    token = csrf_of(visitor, page.text)
    none = visitor.post(FEEDBACK, data={"csrf_token": token, "kind": "immediate"})
    assert none.status_code == 400 and 'id="usefulness-error"' in none.text
    given = visitor.post(
        FEEDBACK,
        data={
            "csrf_token": token,
            "kind": "immediate",
            "usefulness": "4",
            "comment": "The learning walk was well planned.",
        },
    )
    assert given.status_code == 303
    again = visitor.get(FEEDBACK).text
    assert "4: very useful" in again and "The learning walk was well planned." in again
    assert "Give feedback" not in again
    # The host reads it among the feedback from others.
    host = signed_in(HEADS[HOST])
    host_page = host.get(FEEDBACK).text
    assert "The learning walk was well planned." in host_page
    assert [f.comment for f in feedback.list_feedback(cycle_rt, cycle=CYCLE)] == [
        "The learning walk was well planned."
    ]


def test_a_reflection_says_what_changed(
    cycle_rt: Runtime, signed_in: SignedIn, visitors: list[int]
) -> None:
    visitor = signed_in(HEADS[visitors[2]])
    page = visitor.get(FEEDBACK).text
    token = csrf_of(visitor, page)
    empty = visitor.post(FEEDBACK, data={"csrf_token": token, "kind": "reflection"})
    assert empty.status_code == 400 and 'id="changed_practice-error"' in empty.text
    given = visitor.post(
        FEEDBACK,
        data={
            "csrf_token": token,
            "kind": "reflection",
            "changed_practice": "We started keep-up sessions in Year 1.",
        },
    )
    assert given.status_code == 303
    assert "We started keep-up sessions in Year 1." in visitor.get(FEEDBACK).text
