"""Words and yardsticks for an allocation: why each host got its visitors and lead (explain),
and a nearest-first greedy cost under the same objective (a benchmark baseline, never the answer).
"""

from __future__ import annotations

import numpy as np

from review_engine.core.allocation.model import (
    NEAREST,
    SCALE,
    _blocker,
    _candidates,
    _evaluate,
    _leads,
    _nearness,
    _prepare,
    _residual,
)
from review_engine.core.allocation.problem import AllocationProblem, AllocationResult
from review_engine.errors import InvalidInput

_NEARER_SHOWN = 5


def explain(problem: AllocationProblem, result: AllocationResult, host: int) -> list[str]:
    """Human lines on why this host has these visitors (and not nearer schools) and this lead."""
    prep = _prepare(problem)
    found = next((a for a in result.assignments if a.host == host), None)
    if found is None or host not in prep.idx:
        raise InvalidInput(f"{host} is not a host in this allocation")
    h = prep.idx[host]
    km, _ = _nearness(prep, h)
    lines = [
        f"{host} receives {len(found.visitors)} visitors: {', '.join(map(str, found.visitors))}"
    ]
    for i, v in enumerate(found.visitors):
        dist = f"{found.distances_km[i]:.1f} km" if i < len(found.distances_km) else "distance ?"
        why = "; ".join(found.why[i]) if i < len(found.why) else ""
        lines.append(f"{v}: {dist}" + (f"; {why}" if why else ""))

    loads: dict[int, int] = {}
    visits_by: dict[int, set[int]] = {}
    for a in result.assignments:
        for v in a.visitors:
            loads[v] = loads.get(v, 0) + 1
            visits_by.setdefault(v, set()).add(a.host)
    chosen = [prep.idx[v] for v in found.visitors if v in prep.idx]
    farthest = max((float(km[v]) for v in chosen), default=0.0)
    nearer = [
        s
        for s in sorted(range(prep.n), key=lambda s: (float(km[s]), prep.urns[s]))
        if s != h and s not in chosen and float(km[s]) < farthest
    ]
    for s in nearer[:_NEARER_SHOWN]:
        urn = prep.urns[s]
        reason = _blocker(prep, h, s)
        if reason:
            reason = f"{urn} {reason}"
        elif loads.get(urn, 0) >= prep.hi[s]:
            reason = f"{urn} already makes {loads.get(urn, 0)} visits, the most allowed"
        elif (h, s) in prep.repeat:
            ago = prep.repeat[h, s]
            reason = f"{urn} visited {host} {ago} cycle{'s' if ago > 1 else ''} ago (rotation)"
        elif urn in visits_by.get(host, set()):
            reason = f"{host} visits {urn}; a visit back would be reciprocal"
        else:
            reason = f"{urn} is needed at its other hosts; the cluster's total cost is lower so"
        lines.append(f"not {urn} ({float(km[s]):.1f} km): {reason}")
    if len(nearer) > _NEARER_SHOWN:
        lines.append(f"... and {len(nearer) - _NEARER_SHOWN} more nearer schools not used")
    missing = [
        u for u in (host, *found.visitors) if u in prep.idx and np.isnan(prep.xy[prep.idx[u], 0])
    ]
    if missing:
        lines.append(
            f"no coordinates for {', '.join(map(str, missing))}: a neutral distance of "
            f"{prep.neutral_m / 1000:.1f} km (the median between schools in the pool) was used"
        )

    leads = _leads(prep, {a.host: list(a.visitors) for a in result.assignments})
    if found.lead is not None and host in leads and leads[host][0] == found.lead:
        _, past, now = leads[host]
        lines.append(
            f"lead reviewer {found.lead}: the role is shared so leads stay even across cycles "
            f"({found.lead} led {past} time{'s' if past != 1 else ''} before and leads {now} "
            "this cycle); ties go to the lowest URN"
        )
    elif found.lead is not None:
        lines.append(f"lead reviewer {found.lead}: chosen by hand")
    quality = "proved optimal" if result.optimal else f"within {result.gap:.2%} of the bound"
    lines.append(
        f"whole allocation: cost {result.objective:.1f} (lower bound {result.lower_bound:.1f}), "
        f"{quality}; {result.method}"
    )
    return lines


def greedy_baseline(problem: AllocationProblem) -> float:
    """Cost of a nearest-first greedy allocation under the solver's objective (for benchmarks)."""
    prep = _prepare(problem)
    need, _, hi = _residual(prep)
    pairs = list(prep.must)
    arcs = _candidates(prep, None if prep.n <= 2000 else NEAREST)
    order = np.lexsort((arcs.v, arcs.h, arcs.base))
    load = np.zeros(prep.n, dtype=np.int64)
    taken: set[tuple[int, int]] = set()
    for capped in (True, False):  # then fill any host left short, ignoring the visit maximum
        for i in order.tolist():
            h, v = int(arcs.h[i]), int(arcs.v[i])
            if need[h] > 0 and (h, v) not in taken and (not capped or load[v] < hi[v]):
                need[h] -= 1
                load[v] += 1
                taken.add((h, v))
                pairs.append((h, v))
            if not need.any():
                break
    return sum(_evaluate(prep, pairs).values()) / SCALE
