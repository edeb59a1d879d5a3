"""Inside Knowledge's pure rules: phases, regions, distance, search filters, capacity, and the
programme workflow kind (its contract checked when it loads; the triad workflow unchanged)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from review_engine.core.knowledge import (
    BOOKING_CONTRACT,
    OFFER_CONTRACT,
    PhaseKey,
    ProspectusQuery,
    bounding_box,
    check_offer_dates,
    check_places,
    distance_km,
    fits_phases,
    may_book_region,
    normalise_postcode,
    parse_phases,
    phases_words,
    places_left,
    reflection_due,
    search_terms,
)
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog, load_file, parse
from review_engine.errors import InvalidInput, WorkflowError

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "inside-knowledge.yaml"


@pytest.mark.parametrize(
    ("gias", "offer", "fits"),
    [
        ("Primary", ["primary"], True),
        ("Middle deemed primary", ["primary"], True),
        ("Secondary", ["primary"], False),
        ("All-through", ["secondary"], True),
        ("Special", [], True),
        (None, ["primary"], False),
        ("16 plus", ["post16"], True),
    ],
    ids=[
        "primary",
        "middle",
        "secondary-refused",
        "all-through",
        "every-phase",
        "unknown",
        "post16",
    ],
)
def test_a_school_fits_the_phases_an_offer_suits(
    gias: str | None, offer: list[str], fits: bool
) -> None:
    assert fits_phases(gias, offer) is fits


def test_phases_are_read_in_words_and_kept_in_order() -> None:
    assert parse_phases("Secondary, primary") == (PhaseKey.PRIMARY, PhaseKey.SECONDARY)
    assert parse_phases("all-through,16 plus") == (PhaseKey.ALL_THROUGH, PhaseKey.POST16)
    assert phases_words(()) == "All phases"
    with pytest.raises(InvalidInput, match="phase 'infants': one of nursery, primary"):
        parse_phases("infants")


def test_the_region_rule() -> None:
    assert may_book_region("own_region", "London", "London")
    assert not may_book_region("own_region", "London", "North West")
    assert not may_book_region("own_region", None, None)
    assert may_book_region("anywhere", "London", "North West")


def test_distance_and_the_box_an_index_narrows_to() -> None:
    assert distance_km(384000, 398000, 387000, 402000) == pytest.approx(5.0)
    assert bounding_box(384000, 398000, 2.5) == (381500, 386500, 395500, 400500)


def test_postcodes_and_search_words() -> None:
    assert normalise_postcode(" m19  2pn ") == "M19 2PN"
    assert normalise_postcode("SK42DX") == "SK4 2DX"
    assert normalise_postcode("990101") is None
    assert search_terms("Writing, writing at KS2!") == ("writing", "at", "ks2")
    assert search_terms("a") == ()


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (ProspectusQuery(page=0), "pages run from 1 to 10,000"),
        (ProspectusQuery(page=10**30), "pages run from 1"),
        (ProspectusQuery(near="990101", within_km=float("nan")), "between 0 and 1000"),
        (ProspectusQuery(per_page=500), "between 1 and 100"),
        (ProspectusQuery(region="Narnia"), "region 'Narnia'"),
        (ProspectusQuery(within_km=10), "needs a school to measure from"),
        (ProspectusQuery(near="990101", within_km=5000), "between 0 and 1000"),
        (
            ProspectusQuery(date_from=date(2027, 3, 1), date_to=date(2027, 2, 1)),
            "ends before it starts",
        ),
        (ProspectusQuery(phase="infants"), "phase 'infants'"),
    ],
    ids=[
        "page",
        "huge-page",
        "nan-km",
        "per-page",
        "region",
        "distance-alone",
        "too-far",
        "dates",
        "phase",
    ],
)
def test_a_bad_search_filter_is_one_line(query: ProspectusQuery, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        query.checked()


def test_capacity_and_dates() -> None:
    assert places_left(7, 5) == 2 and places_left(7, 9) == 0
    check_places(7, 2)
    with pytest.raises(InvalidInput, match="1 to 20 visiting schools"):
        check_places(0, 2)
    with pytest.raises(InvalidInput, match="between 1 and 6 may come"):
        check_places(7, 9)
    today = date(2026, 9, 1)
    check_offer_dates(visit_date=date(2026, 10, 14), deadline=date(2026, 10, 1), today=today)
    with pytest.raises(InvalidInput, match="weekend"):
        check_offer_dates(visit_date=date(2026, 10, 17), deadline=date(2026, 10, 1), today=today)
    with pytest.raises(InvalidInput, match="deadline must be before"):
        check_offer_dates(visit_date=date(2026, 10, 14), deadline=date(2026, 10, 14), today=today)
    assert reflection_due(date(2026, 10, 14), 8) == date(2026, 12, 9)


def test_the_shipped_programme_workflow_loads_with_its_two_machines() -> None:
    wf = load_file(WORKFLOW)
    assert wf.is_programme
    assert [m.name for m in wf.machines.values()] == ["offer", "booking"]
    assert wf.school_machines == [] and wf.parts == {}
    offer = wf.machine("offer")
    assert offer.transition("published", "fill") is not None
    assert offer.by_state["published"]["fill"].actors == ("system",)
    with pytest.raises(WorkflowError, match=r"is a programme workflow .* use `review ik`"):
        wf.cycle_machine  # noqa: B018 - the property refuses


def test_the_catalogue_offers_only_cycle_workflows_to_start_a_cycle() -> None:
    catalog = WorkflowCatalog()
    assert "inside-knowledge" not in catalog.all()
    assert set(catalog.programmes()) == {"inside-knowledge"}
    assert catalog.get("inside-knowledge").is_programme
    triad = catalog.get(DEFAULT_WORKFLOW)
    assert not triad.is_programme and triad.cycle_machine.name == "cycle"


def _without(text: str, line: str) -> str:
    assert line in text
    return text.replace(line, "")


def test_a_programme_workflow_missing_part_of_its_contract_is_refused() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    broken = _without(
        text, "      - {trigger: lapse, source: waitlisted, dest: cancelled, actors: [system]}\n"
    )
    with pytest.raises(
        WorkflowError, match="machine booking: runs the bookings but lacks lapse from waitlisted"
    ):
        parse(broken)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("actors: [visitor, admin]}", "actors: [facilitator]}"), "unknown actors"),
        (
            ("guards: [booking_open, school_eligible, place_left]", "guards: [sef_complete]"),
            "unknown guards",
        ),
        (("scope: booking\n", "scope: school\n"), "need scope offer or booking"),
        (("kind: programme\n", ""), "need scope cycle or school"),
    ],
    ids=["cycle-actor", "cycle-guard", "school-scope", "no-kind"],
)
def test_the_kinds_do_not_mix(change: tuple[str, str], problem: str) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(WorkflowError, match=problem):
        parse(text.replace(change[0], change[1], 1))


def test_contracts_name_every_state() -> None:
    assert {s.value for s in OFFER_CONTRACT.states} == {
        "draft", "published", "full", "held", "closed", "cancelled"
    }  # fmt: skip
    assert {s.value for s in BOOKING_CONTRACT.states} == {
        "requested", "confirmed", "waitlisted", "attended", "no_show", "cancelled"
    }  # fmt: skip
