"""Solving an allocation: which schools visit each host this cycle, and who leads each visit.

Without the reciprocal-visit term the model is a min-cost flow (visitor -> host arcs of
capacity 1), whose optimum bounds the full model from below. CP-SAT closes the gap for
clusters (flow answer as hint); large pools go to `large`. A tiny per-arc tie-break makes the
optimum unique, so answers are deterministic; an infeasible problem names the constraint and
the schools.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context

import numpy as np

from review_engine.core.allocation.large import solve_large
from review_engine.core.allocation.model import (
    _DIAGNOSE_SCHOOLS,
    _PERT,
    _TERMS,
    _TINY_HOSTS,
    EXACT_HOSTS,
    NEAREST,
    SCALE,
    _Arcs,
    _assignments,
    _blocker,
    _candidates,
    _eligible,
    _evaluate,
    _Flow,
    _flow,
    _names,
    _Prep,
    _prepare,
    _residual,
    _reverse,
    _tie_break,
)
from review_engine.core.allocation.problem import AllocationProblem, AllocationResult, Assignment
from review_engine.errors import AllocationInfeasible, InvalidInput


def _cpsat(
    prep: _Prep,
    arcs: _Arcs,
    costs: np.ndarray,
    recip_cost: int,
    hint: np.ndarray,
    seconds: float,
    deterministic_time: float | None = None,
) -> tuple[np.ndarray | None, float, bool]:
    """The full model (reciprocal pairs as y >= x_ab + x_ba - 1) on CP-SAT, hinted."""
    from ortools.sat.python import cp_model  # here: it loads pandas too, ~0.2 s

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(arcs.v))]
    need, lo, hi = _residual(prep)
    order_h, order_v = np.argsort(arcs.h, kind="stable"), np.argsort(arcs.v, kind="stable")
    split_h = np.split(order_h, np.searchsorted(arcs.h[order_h], np.arange(1, prep.n)))
    split_v = np.split(order_v, np.searchsorted(arcs.v[order_v], np.arange(1, prep.n)))
    for h in prep.hosts:
        model.add(sum(x[i] for i in split_h[h]) == int(need[h]))
    for v in np.nonzero(prep.avail)[0]:
        model.add_linear_constraint(sum(x[i] for i in split_v[v]), int(lo[v]), int(hi[v]))
    terms: list[cp_model.IntVar] = list(x)
    coefs = [int(c) for c in costs]
    a, b, _ = _reverse(prep, arcs)
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        y = model.new_bool_var(f"y{i}")
        model.add_bool_or([x[i].Not(), x[j].Not(), y])
        terms.append(y)
        coefs.append(recip_cost)
    model.minimize(cp_model.LinearExpr.weighted_sum(terms, coefs))
    for var, value in zip(x, hint.tolist(), strict=True):
        model.add_hint(var, bool(value))
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = 8
    if len(prep.hosts) <= _TINY_HOSTS:  # measured: one worker, no presolve is fastest here
        params.num_workers, params.cp_model_presolve, params.linearization_level = 1, False, 2
    params.random_seed = 7
    params.max_time_in_seconds = max(seconds, 0.05)
    if deterministic_time is not None:
        params.interleave_search = True
        params.max_deterministic_time = deterministic_time
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, -math.inf, False
    chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    return chosen, solver.best_objective_bound, status == cp_model.OPTIMAL


def solve(problem: AllocationProblem, *, time_limit_s: float = 10.0) -> AllocationResult:
    """Allocate visitors to every host at least cost; raises AllocationInfeasible if none exists.

    Exact (gap 0) for clusters up to EXACT_HOSTS hosts; beyond that, gap is against a proven bound.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    prep = _prepare(problem)
    _precheck(prep)
    if len(prep.hosts) == 0:
        return AllocationResult((), 0.0, dict.fromkeys(_TERMS, 0.0), 0.0, 0.0, True, 0.0, "empty")
    exact = len(prep.hosts) <= EXACT_HOSTS
    arcs = _candidates(prep, None if exact else NEAREST)
    pin_const = sum(_evaluate(prep, prep.must).values())
    f: _Flow | None = None
    for _attempt in range(2):
        a, b, rev_pinned = _reverse(prep, arcs)
        lin = arcs.base + prep.recip * rev_pinned
        big = _PERT * (prep.places + 1) if exact else 1
        costs = lin * big + _tie_break(prep, arcs) if exact else lin
        f = _flow(prep, arcs, costs)
        if f is not None or arcs.full:
            break
        arcs = _candidates(prep, None)  # the nearest arcs were not enough: take them all
    if f is None:
        raise _diagnose(prep)
    chosen, method = f.chosen, "min-cost flow"
    if arcs.full:
        bound = f.cost // big
    else:
        relaxed = _flow(prep, arcs, lin, relax=True)
        bound = relaxed.cost if relaxed is not None else -(2**62)
    if prep.recip and (chosen[a] & chosen[b]).any():
        if exact:
            rest = deadline - time.perf_counter()
            cp, cp_bound, proved = _cpsat(prep, arcs, costs, prep.recip * big, chosen, rest)
            if cp is not None:
                chosen = cp
                bound = max(bound, math.ceil(cp_bound - 1e-6) // big)
            workers = 1 if len(prep.hosts) <= _TINY_HOSTS else 8
            method += f" bound + CP-SAT ({workers} workers{', proved optimal' if proved else ''})"
        else:
            chosen, lagrangian = solve_large(prep, arcs, lin, chosen, deadline)
            bound = max(bound, lagrangian)
            method = (
                f"nearest-{NEAREST} candidates; Lagrangian bound over all arcs; flows rounded "
                "from its average, improved by majorize-minimize flows and visitor swaps"
            )
    free = zip(arcs.h[chosen].tolist(), arcs.v[chosen].tolist(), strict=True)
    pairs = sorted([*prep.must, *free])
    ints = _evaluate(prep, pairs)
    total = sum(ints.values())
    lower = min(total, bound + pin_const)
    gap = 0.0 if total == lower else (total - lower) / max(abs(total), 1)
    return AllocationResult(
        assignments=_assignments(prep, pairs),
        objective=total / SCALE,
        breakdown={name: value / SCALE for name, value in ints.items()},
        lower_bound=lower / SCALE,
        gap=gap,
        optimal=total == lower,
        wall_seconds=time.perf_counter() - t0,
        method=method,
    )


def _precheck(prep: _Prep) -> None:
    """Raise AllocationInfeasible for the causes that can be named without solving."""
    k, urn, hosts = prep.k, prep.urns, prep.hosts.tolist()
    if len(hosts) and prep.n < k + 1:
        raise AllocationInfeasible(
            "too few schools",
            f"{k} visitors per host need at least {k + 1} schools; the cluster has {prep.n}",
            urn,
        )
    host_set = set(hosts)
    pins: dict[int, list[int]] = {}
    for h, v in prep.must:
        if h not in host_set:
            detail = f"{urn[v]} is pinned to visit {urn[h]}, which is not hosting this cycle"
        else:
            blocker = _blocker(prep, h, v)
            detail = (
                f"{urn[v]} is pinned to visit {urn[h]} but {urn[v]} {blocker}" if blocker else ""
            )
        if detail:
            raise AllocationInfeasible("must pins", detail, [urn[h], urn[v]])
        pins.setdefault(h, []).append(v)
    for h, vs in pins.items():
        if len(vs) > k:
            raise AllocationInfeasible(
                "must pins",
                f"host {urn[h]} has {len(vs)} pinned visitors ({_names(prep, vs)}) for {k} places",
                [urn[h], *(urn[v] for v in vs)],
            )
    pin_load = np.bincount([v for _, v in prep.must], minlength=prep.n)
    over = np.nonzero(pin_load > prep.hi)[0]
    if len(over):
        s = int(over[0])
        raise AllocationInfeasible(
            "must pins",
            f"{urn[s]} is pinned to {pin_load[s]} visits but may make at most {prep.hi[s]}",
            [urn[s]],
        )
    places, lo_sum, hi_sum = prep.places, int(prep.lo.sum()), int(prep.hi.sum())
    available = int(prep.avail.sum())
    if hi_sum < places or lo_sum > places:
        side = "at most" if hi_sum < places else "at least"
        raise AllocationInfeasible(
            "visit limits",
            f"{places} visitor places are needed ({len(hosts)} hosts x {k}) but the "
            f"{available} available schools make {side} {hi_sum if hi_sum < places else lo_sum} "
            f"visits (between {prep.p.min_visits if prep.p.min_visits is not None else 'default'}"
            f" and {prep.p.max_visits if prep.p.max_visits is not None else 'default'} each: "
            f"{int(prep.lo.max(initial=0))}..{int(prep.hi.max(initial=0))})",
        )
    for h in hosts:
        ok = _eligible(prep, h=h)
        if ok.sum() < k:
            blocked = [v for v in range(prep.n) if v != h and not ok[v]]
            reasons = "; ".join(f"{urn[v]} {_blocker(prep, h, v)}" for v in blocked)
            raise AllocationInfeasible(
                "eligible visitors",
                f"host {urn[h]} has {int(ok.sum())} eligible visitors for {k} places: {reasons}",
                [urn[h], *(urn[v] for v in blocked)],
            )
    for v in np.nonzero(prep.lo > 0)[0].tolist():
        ok = _eligible(prep, v=v)
        if ok.sum() < prep.lo[v]:
            blocked = [h for h, good in zip(hosts, ok.tolist(), strict=True) if not good]
            reasons = "; ".join(f"{urn[h]}: {urn[v]} {_blocker(prep, h, v)}" for h in blocked)
            raise AllocationInfeasible(
                "visit limits",
                f"{urn[v]} must make at least {prep.lo[v]} visits but may visit only "
                f"{int(ok.sum())} hosts ({reasons})",
                [urn[v], *(urn[h] for h in blocked)],
            )


def _feasible(problem: AllocationProblem, widen: Iterable[int] = ()) -> bool:
    """Whether any allocation meets the hard constraints (visit limits widened for some)."""
    try:
        prep = _prepare(problem)
        for s in widen:
            prep.lo[s], prep.hi[s] = 0, len(prep.hosts) if prep.avail[s] else 0
        _precheck(prep)
    except (AllocationInfeasible, InvalidInput):
        return False
    arcs = _candidates(prep, None)
    return _flow(prep, arcs, arcs.base) is not None


def _diagnose(prep: _Prep) -> AllocationInfeasible:
    """Name the constraint family (and schools) to blame by relaxing families one at a time."""
    p, urns = prep.p, prep.urns

    def no_conflicts(s: int | None) -> AllocationProblem:
        schools = [replace(x, group=None) if s in (None, x.urn) else x for x in p.schools]
        kept = frozenset(c for c in p.conflicts if s is not None and s not in c)
        return replace(p, schools=schools, conflicts=kept)

    families = {
        "conflicts": no_conflicts,
        "unavailability": lambda s: replace(
            p, unavailable=p.unavailable - ({s} if s is not None else p.unavailable)
        ),
        "must pins": lambda s: replace(
            p, must=frozenset(m for m in p.must if s is not None and s not in m)
        ),
        "must_not pins": lambda s: replace(
            p, must_not=frozenset(m for m in p.must_not if s is not None and s not in m)
        ),
    }
    small = prep.n <= _DIAGNOSE_SCHOOLS
    for name, relax in families.items():
        if _feasible(relax(None)):
            culprits = [u for u in urns if small and _feasible(relax(u))]
            whose = (
                "; relaxing those of any one of the schools named would allow one"
                if (culprits)
                else "; no single school's can be dropped to allow one"
            )
            return AllocationInfeasible(
                name, f"the {name} leave no valid allocation{whose}", culprits
            )
    everyone = range(prep.n)
    if _feasible(p, widen=everyone):
        culprits = [u for i, u in enumerate(urns) if small and _feasible(p, widen=[i])]
        return AllocationInfeasible(
            "visit limits",
            f"no allocation keeps every school between {int(prep.lo.min(initial=0))} and "
            f"{int(prep.hi.max(initial=0))} visits; widening the limits of the schools named "
            "would allow one",
            culprits,
        )
    return AllocationInfeasible(
        "constraints combined",
        "conflicts, unavailability, pins and visit limits together leave no valid allocation; "
        "no one family alone is to blame",
    )


def check(problem: AllocationProblem, assignments: Iterable[Assignment]) -> list[str]:
    """Hard-constraint violations of a manual allocation, one sentence each naming the schools."""
    prep = _prepare(problem)
    urn, idx, k = prep.urns, prep.idx, prep.k
    hosts = {urn[h] for h in prep.hosts}
    problems: list[str] = []
    seen: dict[int, tuple[int, ...]] = {}
    load: dict[int, int] = {}
    for a in sorted(assignments, key=lambda a: a.host):
        if a.host not in idx:
            problems.append(f"host {a.host} is not a school in this cluster")
            continue
        if a.host not in hosts:
            problems.append(f"{a.host} is not hosting this cycle but has visitors")
        if a.host in seen:
            problems.append(f"host {a.host} is allocated twice")
        seen[a.host] = a.visitors
        if len(a.visitors) != k:
            problems.append(f"host {a.host} has {len(a.visitors)} visitors; each host needs {k}")
        for v in sorted(set(a.visitors)):
            if a.visitors.count(v) > 1:
                problems.append(f"{v} is listed more than once as a visitor to {a.host}")
            if v not in idx:
                problems.append(f"visitor {v} (to host {a.host}) is not a school in this cluster")
                continue
            load[v] = load.get(v, 0) + 1
            why = _blocker(prep, idx[a.host], idx[v])
            if why:
                problems.append(f"{v} may not visit {a.host}: {v} {why}")
        if a.lead is not None and a.lead not in a.visitors:
            problems.append(f"lead reviewer {a.lead} for {a.host} is not one of its visitors")
    problems += [f"host {h} has no visitors allocated" for h in sorted(hosts - seen.keys())]
    for h, v in sorted(problem.must):
        if v not in seen.get(h, ()):
            problems.append(f"{v} must visit {h} (pinned by the facilitator) but does not")
    for i, u in enumerate(urn):
        made = load.get(u, 0)
        if prep.avail[i] and not prep.lo[i] <= made <= prep.hi[i]:
            problems.append(
                f"{u} makes {made} visits; each school must make between {prep.lo[i]} and "
                f"{prep.hi[i]}"
            )
    return problems


def _solve_one(args: tuple[AllocationProblem, float]) -> AllocationResult | AllocationInfeasible:
    try:
        return solve(args[0], time_limit_s=args[1])
    except AllocationInfeasible as exc:
        return exc


def solve_many(
    problems: Sequence[AllocationProblem], *, processes: int = 2, time_limit_s: float = 10.0
) -> list[AllocationResult]:
    """Solve many clusters (a national run), in a process pool when there are enough of them.

    Raises the first AllocationInfeasible in input order, after every cluster has been tried.
    """
    jobs = [(p, time_limit_s) for p in problems]
    if processes <= 1 or len(jobs) < 4 * processes:
        outcomes = [_solve_one(job) for job in jobs]
    else:
        chunk = max(1, len(jobs) // (processes * 16))
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
            outcomes = list(pool.map(_solve_one, jobs, chunksize=chunk))
    for outcome in outcomes:
        if isinstance(outcome, AllocationInfeasible):
            raise outcome
    return [o for o in outcomes if isinstance(o, AllocationResult)]
