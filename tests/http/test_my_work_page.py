"""My work: what the person owes, and their cycles with a way into each school's pages."""

from __future__ import annotations

from review_engine.runtime import Runtime
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn
from tests.integration.phase_helpers import HEADS, OTHER_FACILITATOR, submit_sef

CYCLE_PATH = "/cycles/Northbrook/2026-27/schools"


def test_a_head_sees_their_sef_owed_and_their_own_school_only(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    page = signed_in(HEADS[990101]).get("/").text
    assert "Submit your self-evaluation" in page
    assert f'href="{CYCLE_PATH}/990101/sef"' in page
    assert "Your cycles" in page and "Northbrook, 2026-27" in page and "Your school" in page
    assert f"{CYCLE_PATH}/990102/" not in page  # another school of the cluster: not theirs
    submit_sef(cycle_rt, "Northbrook/2026-27", 990101)
    after = signed_in(HEADS[990101]).get("/").text
    assert "Submit your self-evaluation" not in after and "Self-evaluation" in after


def test_the_facilitator_sees_every_school_and_the_sefs_to_decide(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    submit_sef(cycle_rt, "Northbrook/2026-27", 990102)
    page = signed_in(FACILITATOR).get("/").text
    assert "Accept or return the SEF of" in page
    for urn in (990101, 990102):
        assert f'href="{CYCLE_PATH}/{urn}/sef"' in page
    assert "In your cluster" in page


def test_another_clusters_facilitator_sees_nothing_of_northbrook(signed_in: SignedIn) -> None:
    page = signed_in(OTHER_FACILITATOR).get("/").text
    assert "Northbrook" not in page
    assert "You are not part of a review cycle yet." in page
