"""The triad allocation solver: known optima, hard constraints, infeasibility in words, rotation."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_engine.core.allocation import (
    AllocationProblem,
    Assignment,
    SchoolNode,
    Weights,
    check,
    explain,
    greedy_baseline,
    solve,
    solve_many,
)
from review_engine.errors import AllocationInfeasible, InvalidInput

MANCHESTER_12 = Path("/work/shared/data/gias-manchester-12.csv")


def school(
    urn: int,
    x_km: float,
    y_km: float = 0.0,
    *,
    group: str | None = None,
    strengths: frozenset[str] = frozenset(),
    focus_area: str | None = None,
) -> SchoolNode:
    """A school placed x_km east and y_km north of a fixed point in England."""
    return SchoolNode(
        urn=urn,
        easting=400_000 + round(x_km * 1000),
        northing=300_000 + round(y_km * 1000),
        group=group,
        strengths=strengths,
        focus_area=focus_area,
    )


def line(n: int) -> list[SchoolNode]:
    """n schools 1 km apart on a line, URNs 1..n."""
    return [school(i + 1, float(i)) for i in range(n)]


def cluster(n: int, seed: int, spread_km: float = 6.0) -> list[SchoolNode]:
    rng = random.Random(seed)
    return [school(100 + i, rng.uniform(0, spread_km), rng.uniform(0, spread_km)) for i in range(n)]


def visits(result_assignments: tuple[Assignment, ...]) -> set[tuple[int, int]]:
    return {(a.host, v) for a in result_assignments for v in a.visitors}


# ---------------------------------------------------------------- known optima


@pytest.mark.parametrize(
    ("reciprocal", "objective", "reciprocal_cost"),
    [(0.0, 4.0, 0.0), (0.5, 5.0, 1.0), (10.0, 6.0, 0.0)],
    ids=["pairs-when-free", "pairs-when-cheap", "a-ring-when-pairs-cost"],
)
def test_four_in_a_line_one_visitor_each(reciprocal, objective, reciprocal_cost):
    problem = AllocationProblem(
        schools=line(4), visitors_per_host=1, weights=Weights(reciprocal=reciprocal)
    )
    result = solve(problem)
    assert result.objective == pytest.approx(objective)
    assert result.breakdown["reciprocal"] == pytest.approx(reciprocal_cost)
    assert result.optimal and result.gap == 0.0
    assert check(problem, result.assignments) == []


def test_four_schools_three_visitors_everyone_visits_everyone():
    result = solve(AllocationProblem(schools=line(4)))
    assert [a.visitors for a in result.assignments] == [(2, 3, 4), (1, 3, 4), (1, 2, 4), (1, 2, 3)]
    # 20 km over the 12 ordered pairs, and all 6 pairs are reciprocal at 10 points each
    assert result.breakdown == pytest.approx(
        {"distance_km": 20.0, "repeat": 0.0, "reciprocal": 60.0, "strength_bonus": 0.0}
    )
    assert result.objective == pytest.approx(80.0)
    assert result.lower_bound == pytest.approx(80.0)


def test_distances_are_reported_per_visitor():
    result = solve(AllocationProblem(schools=line(4)))
    first = result.assignments[0]
    assert first.host == 1
    assert first.distances_km == (1.0, 2.0, 3.0)
    assert first.why[0][0] == "nearest available"


def test_a_strength_in_the_hosts_focus_wins_a_visit():
    schools = [
        school(1, 0, focus_area="reading"),
        school(2, 1),
        school(3, 2),
        school(4, 8, strengths=frozenset({"reading"})),
        school(5, 3),
    ]
    problem = AllocationProblem(
        schools=schools, visitors_per_host=1, weights=Weights(strength_bonus=20.0)
    )
    result = solve(problem)
    host_1 = result.assignments[0]
    assert host_1.visitors == (4,)
    assert "strength in reading" in host_1.why[0]
    assert result.breakdown["strength_bonus"] == pytest.approx(-20.0)


# ---------------------------------------------------------------- the Manchester network


def read_manchester() -> list[SchoolNode]:
    if not MANCHESTER_12.exists():
        pytest.skip(f"{MANCHESTER_12} is missing (the 12-school GIAS extract)")
    with MANCHESTER_12.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        SchoolNode(urn=int(r["URN"]), easting=int(r["Easting"]), northing=int(r["Northing"]))
        for r in rows
    ]


def test_manchester_twelve_each_school_visits_three():
    problem = AllocationProblem(schools=read_manchester())
    result = solve(problem)
    assert len(result.assignments) == 12
    assert sum(len(a.visitors) for a in result.assignments) == 36
    made: dict[int, int] = {}
    for a in result.assignments:
        assert len(set(a.visitors)) == 3 and a.host not in a.visitors
        assert a.lead in a.visitors
        for v in a.visitors:
            made[v] = made.get(v, 0) + 1
    assert set(made.values()) == {3}
    assert result.optimal and result.gap == 0.0
    assert check(problem, result.assignments) == []
    assert greedy_baseline(problem) >= result.objective


# ---------------------------------------------------------------- infeasible, in words


def five(**kwargs: object) -> AllocationProblem:
    return AllocationProblem(schools=line(5), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("problem", "constraint", "named"),
    [
        (AllocationProblem(schools=line(3)), "too few schools", {"1", "2", "3"}),
        (
            five(conflicts=frozenset({frozenset({1, 2}), frozenset({1, 3})})),
            "eligible visitors",
            {"1", "2", "3"},
        ),
        (five(unavailable=frozenset({2, 3})), "eligible visitors", {"2", "3"}),
        (five(max_visits=2), "visit limits", set()),
        (
            five(must=frozenset({(1, 2), (1, 3), (1, 4), (1, 5)})),
            "must pins",
            {"1", "2", "3", "4", "5"},
        ),
        (five(must=frozenset({(1, 2)}), unavailable=frozenset({2})), "must pins", {"1", "2"}),
    ],
    ids=[
        "three-schools-for-k3",
        "conflicts-leave-host-two",
        "unavailable-leave-hosts-short",
        "capacity",
        "too-many-pins",
        "pinned-visitor-unavailable",
    ],
)
def test_infeasible_names_constraint_and_schools(problem, constraint, named):
    with pytest.raises(AllocationInfeasible) as caught:
        solve(problem)
    assert caught.value.constraint == constraint
    assert named <= set(caught.value.schools)
    assert constraint in str(caught.value)


def test_conflicts_found_by_relaxing_families():
    """Four schools of one trust can only be visited by the other three, who lack the places."""
    schools = [school(i, float(i), group="T" if i <= 4 else None) for i in range(1, 8)]
    problem = AllocationProblem(schools=schools, group_conflicts=True)
    with pytest.raises(AllocationInfeasible) as caught:
        solve(problem)
    assert caught.value.constraint == "conflicts"
    assert caught.value.schools and set(caught.value.schools) <= {"1", "2", "3", "4"}


def test_input_errors_are_invalid_input():
    with pytest.raises(InvalidInput, match="not in the cluster"):
        solve(five(must=frozenset({(1, 99)})))
    with pytest.raises(InvalidInput, match="both must and must_not"):
        solve(five(must=frozenset({(1, 2)}), must_not=frozenset({(1, 2)})))


# ---------------------------------------------------------------- rotation and leads


def test_three_cycles_rotate_without_repeats():
    schools = cluster(12, seed=3)
    past: list[tuple[int, int, int]] = []
    leads: dict[int, int] = {}
    earlier: list[set[tuple[int, int]]] = []
    for _cycle in range(3):
        result = solve(AllocationProblem(schools=schools, past_pairings=past, past_leads=leads))
        pairs = visits(result.assignments)
        for previous in earlier[-2:]:
            assert not pairs & previous
        earlier.append(pairs)
        past = [(h, v, ago + 1) for h, v, ago in past] + [(h, v, 1) for h, v in pairs]
        for a in result.assignments:
            assert a.lead is not None
            leads[a.lead] = leads.get(a.lead, 0) + 1
    assert max(leads.values()) - min(leads.values()) <= 1


def test_lead_goes_to_the_visitor_with_fewest_past_leads():
    problem = AllocationProblem(schools=line(4), past_leads={2: 3, 3: 1, 4: 0, 1: 5})
    result = solve(problem)
    assert result.assignments[0].lead == 4
    lines = explain(problem, result, 1)
    assert any("lead reviewer 4" in text for text in lines)


def test_repeat_is_explained():
    problem = AllocationProblem(schools=line(4), past_pairings=[(1, 2, 1)])
    result = solve(problem)
    assert "repeat from 1 cycle ago" in result.assignments[0].why[0]


# ---------------------------------------------------------------- determinism and odd input


def test_same_input_in_any_order_gives_the_same_answer():
    schools = cluster(14, seed=9)
    conflicts = frozenset({frozenset({100, 101}), frozenset({105, 110})})
    first = solve(AllocationProblem(schools=schools, conflicts=conflicts))
    again = solve(AllocationProblem(schools=schools, conflicts=conflicts))
    shuffled = list(schools)
    random.Random(1).shuffle(shuffled)
    other = solve(AllocationProblem(schools=shuffled, conflicts=conflicts))
    assert first.assignments == again.assignments == other.assignments
    assert first.objective == other.objective


def test_schools_without_coordinates_get_a_neutral_distance():
    schools = [*line(5), SchoolNode(urn=6, easting=None, northing=None)]
    problem = AllocationProblem(schools=schools)
    result = solve(problem)
    assert check(problem, result.assignments) == []
    host_6 = next(a for a in result.assignments if a.host == 6)
    assert all(any("neutral" in why for why in reasons) for reasons in host_6.why)
    assert any("no coordinates for 6" in text for text in explain(problem, result, 6))


def test_no_coordinates_at_all_still_solves():
    schools = [SchoolNode(urn=u, easting=None, northing=None) for u in range(1, 6)]
    result = solve(AllocationProblem(schools=schools))
    assert result.breakdown["distance_km"] == 0.0


def test_solve_many_returns_results_in_order():
    problems = [AllocationProblem(schools=cluster(5, seed=s)) for s in range(3)]
    results = solve_many(problems, processes=1)
    assert [r.assignments[0].host for r in results] == [100, 100, 100]
    assert all(r.optimal for r in results)


# ---------------------------------------------------------------- check() on manual allocations


def manual(*rows: tuple[int, tuple[int, ...]]) -> list[Assignment]:
    return [Assignment(host=h, visitors=vs) for h, vs in rows]


GOOD_FIVE = [(1, (2, 3, 4)), (2, (3, 4, 5)), (3, (4, 5, 1)), (4, (5, 1, 2)), (5, (1, 2, 3))]


@pytest.mark.parametrize(
    ("problem", "change", "expected"),
    [
        (five(), {}, None),
        (five(), {1: (1, 2, 3)}, "1 may not visit 1: 1 is the host itself"),
        (
            five(conflicts=frozenset({frozenset({1, 2})})),
            {},
            "2 may not visit 1: 2 declared conflict",
        ),
        (five(unavailable=frozenset({2})), {}, "2 may not visit 1: 2 is unavailable this cycle"),
        (five(), {1: (2, 3)}, "host 1 has 2 visitors; each host needs 3"),
        (five(must=frozenset({(1, 5)})), {}, "5 must visit 1 (pinned by the facilitator)"),
        (five(must_not=frozenset({(1, 2)})), {}, "2 may not visit 1: 2 pinned must-not"),
        (five(), {1: (2, 3, 5)}, "4 makes 2 visits; each school must make between 3 and 3"),
    ],
    ids=[
        "valid",
        "self-visit",
        "conflict",
        "unavailable",
        "too-few-visitors",
        "missing-must",
        "must-not",
        "visit-limits",
    ],
)
def test_check_names_the_schools(problem, change, expected):
    rows = [(h, change.get(h, vs)) for h, vs in GOOD_FIVE]
    problems = check(problem, manual(*rows))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in text for text in problems), problems


def test_check_flags_a_lead_who_is_not_visiting():
    rows = [Assignment(host=h, visitors=vs, lead=9 if h == 1 else None) for h, vs in GOOD_FIVE]
    assert check(five(), rows) == ["lead reviewer 9 for 1 is not one of its visitors"]


# ---------------------------------------------------------------- property: every answer is valid


@st.composite
def random_problems(draw: st.DrawFn) -> AllocationProblem:
    n = draw(st.integers(4, 15))
    urns = list(range(1, n + 1))
    coords = draw(
        st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=n, max_size=n)
    )
    groups = draw(st.lists(st.sampled_from([None, "A", "B"]), min_size=n, max_size=n))
    schools = [
        SchoolNode(urn=u, easting=400_000 + x * 500, northing=300_000 + y * 500, group=g)
        for u, (x, y), g in zip(urns, coords, groups, strict=True)
    ]
    pair = st.tuples(st.sampled_from(urns), st.sampled_from(urns)).filter(lambda p: p[0] != p[1])
    conflicts = draw(st.frozensets(pair.map(frozenset), max_size=4))
    must = draw(st.frozensets(pair, max_size=3))
    must_not = draw(st.frozensets(pair, max_size=3)) - must
    unavailable = draw(st.frozensets(st.sampled_from(urns), max_size=2))
    k = draw(st.sampled_from([2, 3]))
    return AllocationProblem(
        schools=schools,
        visitors_per_host=k,
        conflicts=conflicts,
        group_conflicts=draw(st.booleans()),
        unavailable=unavailable,
        must=must,
        must_not=must_not,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=random_problems())
def test_every_answer_meets_every_hard_constraint(problem):
    try:
        result = solve(problem, time_limit_s=5.0)
    except AllocationInfeasible as exc:
        assert exc.constraint and exc.detail
        return
    assert check(problem, result.assignments) == []
    assert result.lower_bound <= result.objective + 1e-9
