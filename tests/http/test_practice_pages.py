"""The good-practice directory: what a reader may see, searched by area, phase and distance."""

from __future__ import annotations

from datetime import date

import pytest

from review_engine.core.domain import SharingLevel
from review_engine.runtime import Runtime
from review_engine.services import writeups
from review_engine.testing import FakeClock
from tests.http.conftest import SignedIn
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    agree_writeup,
    hold_visit,
    publish_writeup,
    sample_draft,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
SHARED, PRIVATE = URNS[0], URNS[1]  # published to the cluster; to its triad only
READER = URNS[6]  # in the cluster, outside PRIVATE's triad
PUBLIC_TEXT = "Whole-school phonics routines and the keep-up tracker"  # the sample's
PRIVATE_TEXT = "Maths mastery lesson study with Year 6"


@pytest.fixture
def published(cycle_rt: Runtime, clock: FakeClock) -> dict[int, list[int]]:
    rt = cycle_rt
    for host in (SHARED, PRIVATE):
        submit_sef(rt, CYCLE, host)
    triads = set_rotation_triads(rt, CYCLE, URNS)
    hold_visit(rt, clock, CYCLE, SHARED, date(2026, 11, 10))
    hold_visit(rt, clock, CYCLE, PRIVATE, date(2026, 11, 17))
    publish_writeup(rt, CYCLE, SHARED, triads[SHARED], SharingLevel.CLUSTER)
    draft = sample_draft()
    writeups.draft(
        rt.acting_as(HEADS[triads[PRIVATE][0]]),
        cycle=CYCLE,
        host=PRIVATE,
        items=draft.items,
        good_practice=[writeups.Practice("quality_of_education", PRIVATE_TEXT, "Maths lead")],
        activities=draft.activities,
        next_steps=draft.next_steps,
    )
    agree_writeup(rt, CYCLE, PRIVATE, triads[PRIVATE])
    writeups.publish(
        rt.acting_as(HEADS[PRIVATE]), cycle=CYCLE, host=PRIVATE, sharing=SharingLevel.REVIEWERS
    )
    return triads


def test_a_reader_outside_the_triad_sees_what_was_shared_with_the_cluster_only(
    cycle_rt: Runtime, signed_in: SignedIn, published: dict[int, list[int]]
) -> None:
    assert READER not in (PRIVATE, *published[PRIVATE])
    page = signed_in(HEADS[READER]).get("/practice")
    assert page.status_code == 200
    assert PUBLIC_TEXT in page.text
    assert PRIVATE_TEXT not in page.text
    assert "km" in page.text  # distances from the reader's school


def test_a_school_in_the_triad_sees_both(
    cycle_rt: Runtime, signed_in: SignedIn, published: dict[int, list[int]]
) -> None:
    page = signed_in(HEADS[published[PRIVATE][0]]).get("/practice").text
    assert PRIVATE_TEXT in page and PUBLIC_TEXT in page


def test_searching_by_area_phase_and_distance(
    cycle_rt: Runtime, signed_in: SignedIn, published: dict[int, list[int]]
) -> None:
    reader = signed_in(HEADS[READER])
    assert PUBLIC_TEXT in reader.get("/practice?area=quality_of_education").text
    assert PUBLIC_TEXT not in reader.get("/practice?area=leadership_and_management").text
    assert PUBLIC_TEXT in reader.get("/practice?phase=Primary").text
    assert PUBLIC_TEXT not in reader.get("/practice?phase=Secondary").text
    assert PUBLIC_TEXT in reader.get("/practice?within=5").text
    bad = reader.get("/practice?within=far")
    assert bad.status_code == 400 and 'id="within-error"' in bad.text
