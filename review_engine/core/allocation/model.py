"""The allocation model shared by the solvers and the report: costs as integers (thousandths
of a point, so answers are exact), the prepared problem (`_Prep`), candidate arcs, the
min-cost flow (the lower bound without the reciprocal-visit term), leads, and assignments
with their reasons. Pure, no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from review_engine.core.allocation.problem import (
    AllocationProblem,
    Assignment,
    Pair,
)
from review_engine.errors import InvalidInput

SCALE = 1000  # integer cost units per point; one point is one km at distance_per_km=1
EXACT_HOSTS = 80  # up to this many hosts: all arcs, CP-SAT proves the optimum
NEAREST = 24  # candidate visitors per host in large pools
_PERT = 1024  # tie-break range per arc (exact mode only)
_TINY_HOSTS = 6  # CP-SAT with one worker is fastest on clusters this small
_DIAGNOSE_SCHOOLS = 60  # name culprit schools one by one up to this pool size


# ---------------------------------------------------------------- the prepared instance


@dataclass
class _Prep:
    """The problem in index form (schools sorted by URN) with costs as integers."""

    p: AllocationProblem
    urns: list[int]
    idx: dict[int, int]
    hosts: np.ndarray  # school indices that host
    avail: np.ndarray  # bool per school: may visit this cycle
    k: int
    lo: np.ndarray  # per school visit limits (0 when unavailable)
    hi: np.ndarray
    xy: np.ndarray  # metres, nan where unknown
    neutral_m: float
    conflict: dict[Pair, str]  # (i, j) both orders -> reason
    gid: np.ndarray  # group id per school, -1 none (only with group_conflicts)
    must: list[Pair]  # (host index, visitor index), sorted
    must_not: set[Pair]
    repeat: dict[Pair, int]  # (host index, visitor index) -> cycles ago, within the window
    focus: np.ndarray  # focus area id per school, -1 none
    strong: np.ndarray  # bool (school, area)
    areas: list[str]
    dist_factor: float
    recip: int
    keys: dict[str, np.ndarray] = field(default_factory=dict)
    ok: np.ndarray | None = None  # eligibility matrix [host, visitor], built once for small pools

    @property
    def n(self) -> int:
        return len(self.urns)

    @property
    def places(self) -> int:
        return len(self.hosts) * self.k


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _prepare(problem: AllocationProblem) -> _Prep:
    """Validate the problem and turn URNs into indices and weights into integer costs."""
    p = problem
    urns = [s.urn for s in p.schools]
    if len(set(urns)) != len(urns):
        dupes = sorted({u for u in urns if urns.count(u) > 1})
        raise InvalidInput(f"schools listed twice: {', '.join(map(str, dupes))}")
    idx = {u: i for i, u in enumerate(urns)}
    k = p.visitors_per_host
    if k < 1:
        raise InvalidInput(f"visitors per host must be at least 1, got {k}")
    if p.rotation_window < 0:
        raise InvalidInput(f"rotation window must be >= 0, got {p.rotation_window}")

    def known(what: str, values: Iterable[int]) -> None:
        unknown = sorted(set(values) - idx.keys())
        if unknown:
            raise InvalidInput(f"{what} names schools not in the cluster: {unknown}")

    hosts = sorted(p.hosts) if p.hosts is not None else urns
    known("hosts", hosts)
    known("unavailable", p.unavailable)
    known("must pins", [u for pair in p.must for u in pair])
    known("must_not pins", [u for pair in p.must_not for u in pair])
    both = sorted(p.must & p.must_not)
    if both:
        raise InvalidInput(f"pairs pinned both must and must_not (host, visitor): {both}")
    n = len(urns)
    avail = np.array([u not in p.unavailable for u in urns], dtype=bool)
    places, eligible = len(hosts) * k, int(avail.sum())
    lo_default = places // eligible if eligible else 0
    if p.max_visits is not None:
        lo_default = min(lo_default, p.max_visits)
    lo_v = p.min_visits if p.min_visits is not None else lo_default
    hi_v = p.max_visits if p.max_visits is not None else max(-(-places // max(eligible, 1)), lo_v)
    if lo_v < 0 or hi_v < lo_v:
        raise InvalidInput(f"visit limits must satisfy 0 <= min <= max, got {lo_v}..{hi_v}")
    lo = np.where(avail, lo_v, 0).astype(np.int64)
    hi = np.where(avail, hi_v, 0).astype(np.int64)

    xy = np.array(
        [
            (s.easting, s.northing)
            if s.easting is not None and s.northing is not None
            else (
                np.nan,
                np.nan,
            )
            for s in p.schools
        ],
        dtype=float,
    ).reshape(n, 2)
    known_xy = xy[~np.isnan(xy[:, 0])][:2000]
    if len(known_xy) >= 2:
        d = np.hypot(*(known_xy[:, None, :] - known_xy[None, :, :]).transpose(2, 0, 1))
        neutral_m = float(np.median(d[np.triu_indices(len(known_xy), 1)]))
    else:
        neutral_m = 0.0

    conflict: dict[Pair, str] = {}
    for pair in sorted(p.conflicts, key=sorted):
        members = sorted(pair)
        if len(members) == 2 and all(u in idx for u in members):
            i, j = idx[members[0]], idx[members[1]]
            conflict[i, j] = conflict[j, i] = "declared conflict"
    groups = sorted({s.group for s in p.schools if s.group is not None})
    gid = np.full(n, -1, dtype=np.int64)
    if p.group_conflicts:
        gid = np.array([groups.index(s.group) if s.group else -1 for s in p.schools], np.int64)
    repeat: dict[Pair, int] = {}
    for h, v, ago in p.past_pairings:
        if h in idx and v in idx and 1 <= ago <= p.rotation_window:
            key = (idx[h], idx[v])
            repeat[key] = min(ago, repeat.get(key, ago))
    areas = sorted({s.focus_area for s in p.schools if s.focus_area})
    focus = np.array([areas.index(s.focus_area) if s.focus_area else -1 for s in p.schools])
    strong = np.array([[a in s.strengths for a in areas] for s in p.schools], bool)
    w = p.weights
    prep = _Prep(
        p=p,
        urns=urns,
        idx=idx,
        hosts=np.array([idx[u] for u in hosts], dtype=np.int64),
        avail=avail,
        k=k,
        lo=lo,
        hi=hi,
        xy=xy,
        neutral_m=neutral_m,
        conflict=conflict,
        gid=gid,
        must=sorted((idx[h], idx[v]) for h, v in p.must),
        must_not={(idx[h], idx[v]) for h, v in p.must_not},
        repeat=repeat,
        focus=focus.astype(np.int64).reshape(n),
        strong=strong.reshape(n, len(areas)),
        areas=areas,
        dist_factor=SCALE * w.distance_per_km / 1000.0,
        recip=round(SCALE * w.reciprocal),
    )

    def keyset(pairs: Iterable[Pair]) -> np.ndarray:
        return np.array(sorted(h * n + v for h, v in pairs), dtype=np.int64)

    prep.keys = {
        "conflict": keyset(conflict),
        "must_not": keyset(prep.must_not),
        "must": keyset(prep.must),
        "repeat": keyset(repeat),
    }
    return prep


def _member(keys: np.ndarray, sorted_arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which keys occur in a sorted array, and where."""
    if len(sorted_arr) == 0:
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_arr, keys), len(sorted_arr) - 1)
    return sorted_arr[pos] == keys, pos


def _terms(prep: _Prep, hs: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, ...]:
    """Integer (distance, repeat, bonus) costs and eligibility of arcs visitor vs -> host hs."""
    d = np.hypot(prep.xy[hs, 0] - prep.xy[vs, 0], prep.xy[hs, 1] - prep.xy[vs, 1])
    d = np.where(np.isnan(d), prep.neutral_m, d)
    dist = np.rint(d * prep.dist_factor).astype(np.int64)
    keys = hs * prep.n + vs
    w = prep.p.weights
    hit = _member(keys, prep.keys["repeat"])[0]
    rep = np.where(hit, round(SCALE * w.repeat), 0).astype(np.int64)
    f = prep.focus[hs]
    good = (f >= 0) & prep.strong[vs, np.maximum(f, 0)] if prep.areas else np.zeros(len(hs), bool)
    bonus = np.where(good, round(SCALE * w.strength_bonus), 0).astype(np.int64)
    ok = (hs != vs) & prep.avail[vs]
    ok &= ~_member(keys, prep.keys["conflict"])[0] & ~_member(keys, prep.keys["must_not"])[0]
    ok &= ~((prep.gid[hs] == prep.gid[vs]) & (prep.gid[hs] >= 0))
    return dist, rep, bonus, ok


def _eligible(prep: _Prep, h: int | None = None, v: int | None = None) -> np.ndarray:
    """Who may visit host h (a row over schools), or which hosts v may visit (over prep.hosts)."""
    n, everyone = prep.n, np.arange(prep.n)
    if prep.ok is None and n <= 600:
        prep.ok = _terms(prep, np.repeat(everyone, n), np.tile(everyone, n))[3].reshape(n, n)
    if h is not None:
        return prep.ok[h] if prep.ok is not None else _terms(prep, np.full(n, h), everyone)[3]
    assert v is not None
    if prep.ok is not None:
        return prep.ok[prep.hosts, v]
    return _terms(prep, prep.hosts, np.full(len(prep.hosts), v))[3]


def _blocker(prep: _Prep, h: int, v: int) -> str | None:
    """Why school v may not visit host h this cycle, in words (None if it may)."""
    if h == v:
        return "is the host itself"
    if not prep.avail[v]:
        return "is unavailable this cycle"
    if (h, v) in prep.conflict:
        return prep.conflict[h, v]
    if prep.gid[h] >= 0 and prep.gid[h] == prep.gid[v]:
        return f"same group ({prep.p.schools[h].group})"
    if (h, v) in prep.must_not:
        return "pinned must-not by the facilitator"
    return None


# ---------------------------------------------------------------- arcs and flows


@dataclass
class _Arcs:
    """Free candidate arcs (pins excluded); lb[h] bounds any arc left out (None: none left)."""

    v: np.ndarray
    h: np.ndarray
    base: np.ndarray
    lb: np.ndarray | None
    full: bool


def _candidates(prep: _Prep, nearest: int | None) -> _Arcs:
    """All eligible arcs, or each host's nearest (plus each visitor's nearest hosts)."""
    n, vs_all = prep.n, np.arange(prep.n)
    pinned = prep.keys["must"]
    out_v, out_h, out_c, lbs = [], [], [], []
    for start in range(0, len(prep.hosts), 256):
        block = prep.hosts[start : start + 256]
        hs = np.repeat(block, n)
        vs = np.tile(vs_all, len(block))
        dist, rep, bonus, ok = _terms(prep, hs, vs)
        ok &= ~_member(hs * n + vs, pinned)[0]
        cost = np.where(ok, dist + rep - bonus, np.iinfo(np.int64).max).reshape(len(block), n)
        if nearest is None or nearest >= n - 1:
            rows, cols = np.nonzero(ok.reshape(len(block), n))
        else:
            order = np.argsort(cost, axis=1, kind="stable")
            cols = order[:, :nearest].ravel()
            rows = np.repeat(np.arange(len(block)), nearest)
            keep = cost[rows, cols] < np.iinfo(np.int64).max
            rows, cols = rows[keep], cols[keep]
            lbs.append(cost[np.arange(len(block)), order[:, nearest]])
        out_v.append(cols)
        out_h.append(block[rows])
        out_c.append(cost[rows, cols])
    v = np.concatenate(out_v) if out_v else np.zeros(0, np.int64)
    h = np.concatenate(out_h) if out_h else np.zeros(0, np.int64)
    c = np.concatenate(out_c) if out_c else np.zeros(0, np.int64)
    if nearest is None or nearest >= n - 1:
        return _Arcs(v, h, c, None, True)
    # Make sure every visitor has enough candidate hosts to meet its limits.
    counts = np.bincount(v, minlength=n)
    extra_v, extra_h, extra_c = [], [], []
    for s in np.nonzero(prep.avail & (counts < 2 * prep.hi + 2))[0]:
        hs = prep.hosts
        dist, rep, bonus, ok = _terms(prep, hs, np.full(len(hs), s))
        ok &= ~_member(hs * n + s, pinned)[0]
        cost = dist + rep - bonus
        pick = [i for i in np.argsort(cost, kind="stable") if ok[i]][: int(2 * prep.hi[s] + 2)]
        extra_v.append(np.full(len(pick), s))
        extra_h.append(hs[pick])
        extra_c.append(cost[pick])
    v, h, c = (np.concatenate([a, *b]) for a, b in ((v, extra_v), (h, extra_h), (c, extra_c)))
    _, first = np.unique(h * n + v, return_index=True)
    lb = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    lb[prep.hosts] = np.concatenate(lbs)
    return _Arcs(v[first], h[first], c[first], lb, False)


@dataclass
class _Flow:
    cost: int  # total in flow units, pins excluded
    chosen: np.ndarray  # bool per candidate arc
    catch_all: bool  # the relaxation used an arc outside the candidates


def _flow(prep: _Prep, arcs: _Arcs, costs: np.ndarray, relax: bool = False) -> _Flow | None:
    """Min-cost flow over candidate arcs; relax adds a cheap catch-all for the left-out arcs."""
    n = prep.n
    need, lo, hi = _residual(prep)
    if (need < 0).any() or (hi < 0).any() or lo.sum() > need.sum() or hi.sum() < need.sum():
        return None
    from ortools.graph.python import min_cost_flow  # here: OR-Tools loads only to solve

    smcf = min_cost_flow.SimpleMinCostFlow()
    src, hub = 2 * n, 2 * n + 1
    supplies = np.concatenate([lo, -need, [need.sum() - lo.sum(), 0]])
    smcf.set_nodes_supplies(np.arange(2 * n + 2, dtype=np.int32), supplies.astype(np.int64))
    vs = np.nonzero(hi > lo)[0]
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.full(len(vs), src, np.int32),
        vs.astype(np.int32),
        hi[vs] - lo[vs],
        np.zeros(len(vs)).astype(np.int64),
    )
    ids = smcf.add_arcs_with_capacity_and_unit_cost(
        arcs.v.astype(np.int32),
        (arcs.h + n).astype(np.int32),
        np.ones(len(arcs.v), np.int64),
        costs.astype(np.int64),
    )
    hub_ids = None
    if relax and arcs.lb is not None:
        av = np.nonzero(prep.avail)[0]
        big = int(need.sum())
        smcf.add_arcs_with_capacity_and_unit_cost(
            av.astype(np.int32),
            np.full(len(av), hub, np.int32),
            np.full(len(av), big),
            np.zeros(len(av), np.int64),
        )
        hs = prep.hosts[arcs.lb[prep.hosts] < np.iinfo(np.int64).max]
        hub_ids = smcf.add_arcs_with_capacity_and_unit_cost(
            np.full(len(hs), hub, np.int32), (hs + n).astype(np.int32), need[hs], arcs.lb[hs]
        )
    if smcf.solve() != smcf.OPTIMAL:
        return None
    used = bool(hub_ids is not None and smcf.flows(hub_ids).any())
    return _Flow(int(smcf.optimal_cost()), smcf.flows(ids) > 0, used)


def _residual(prep: _Prep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Places still needed per host and visit limits per school once the must pins are placed."""
    need = np.zeros(prep.n, dtype=np.int64)
    need[prep.hosts] = prep.k
    lo, hi = prep.lo.copy(), prep.hi.copy()
    for h, v in prep.must:
        need[h] -= 1
        lo[v], hi[v] = max(lo[v] - 1, 0), hi[v] - 1
    return need, lo, hi


def _tie_break(prep: _Prep, arcs: _Arcs) -> np.ndarray:
    """A small fixed pseudo-random integer per arc, so equal-cost optima are not left to chance."""
    u = np.array(prep.urns, dtype=np.int64)
    mixed = (u[arcs.h] * 1_000_003) ^ (u[arcs.v] * 8_191 + 12_345)
    return np.asarray(mixed % (_PERT - 3), dtype=np.int64)


def _reverse(prep: _Prep, arcs: _Arcs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of candidate arcs (a, b) that are each other's reverse, and arcs whose reverse is
    pinned (those pay the reciprocal cost linearly)."""
    n = prep.n
    keys = arcs.h * n + arcs.v
    order = np.argsort(keys)
    hit, pos = _member(arcs.v * n + arcs.h, keys[order])
    partner = np.where(hit, order[pos], -1)
    a = np.nonzero(partner > np.arange(len(keys)))[0]
    rev_pinned = _member(arcs.v * n + arcs.h, prep.keys["must"])[0]
    return a, partner[a], rev_pinned


def _evaluate(prep: _Prep, pairs: Sequence[Pair]) -> dict[str, int]:
    """Integer cost per term of a full allocation given as (host, visitor) index pairs."""
    hs = np.array([h for h, _ in pairs], dtype=np.int64)
    vs = np.array([v for _, v in pairs], dtype=np.int64)
    dist, rep, bonus, _ = _terms(prep, hs, vs)
    chosen = set(pairs)
    recips = sum(1 for h, v in pairs if h < v and (v, h) in chosen)
    return {
        "distance_km": int(dist.sum()),
        "repeat": int(rep.sum()),
        "reciprocal": recips * prep.recip,
        "strength_bonus": -int(bonus.sum()),
    }


_TERMS = ("distance_km", "repeat", "reciprocal", "strength_bonus")


def _leads(prep: _Prep, visitors: Mapping[int, Sequence[int]]) -> dict[int, tuple[int, int, int]]:
    """Lead per host (URN -> lead, its past leads, its leads this cycle): one visitor per host,
    spreading the role so everyone's total (past + this cycle) is as even as possible (least sum
    of squares, a min-cost flow), ties to lower URNs."""
    past = prep.p.past_leads
    hosts = sorted(h for h in visitors if visitors[h])
    people = sorted({v for h in hosts for v in visitors[h]})
    if not hosts:
        return {}
    slot = {v: i for i, v in enumerate(people)}
    visits = Counter(v for h in hosts for v in visitors[h])
    tie = len(people) * (len(hosts) + 1)  # URN tie-breaks never outweigh one step of fairness
    from ortools.graph.python import min_cost_flow  # here: OR-Tools loads only to solve

    smcf = min_cost_flow.SimpleMinCostFlow()
    src, sink = len(people) + len(hosts), len(people) + len(hosts) + 1
    for v in people:  # the j-th lead this cycle costs (p+j+1)^2 - (p+j)^2: convex, so in order
        for j in range(visits[v]):
            smcf.add_arc_with_capacity_and_unit_cost(
                src, slot[v], 1, (2 * (past.get(v, 0) + j) + 1) * tie
            )
    arcs = []
    for i, h in enumerate(hosts):
        for v in visitors[h]:
            arcs.append(
                (
                    h,
                    v,
                    smcf.add_arc_with_capacity_and_unit_cost(slot[v], len(people) + i, 1, slot[v]),
                )
            )
        smcf.add_arc_with_capacity_and_unit_cost(len(people) + i, sink, 1, 0)
    smcf.set_node_supply(src, len(hosts))
    smcf.set_node_supply(sink, -len(hosts))
    smcf.solve()
    chosen = {h: v for h, v, arc in arcs if smcf.flow(arc) > 0}
    this_cycle = {v: list(chosen.values()).count(v) for v in people}
    return {h: (v, past.get(v, 0), this_cycle[v]) for h, v in chosen.items()}


def _nearness(prep: _Prep, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (km) from host h to every school, and the schools allowed to visit h by
    distance (URN breaks ties); pinned visitors count as allowed."""
    everyone = np.arange(prep.n)
    ok = _eligible(prep, h=h)
    d = np.hypot(prep.xy[h, 0] - prep.xy[:, 0], prep.xy[h, 1] - prep.xy[:, 1])
    km = np.where(np.isnan(d), prep.neutral_m, d) / 1000.0
    return km, everyone[ok][np.argsort(km[ok], kind="stable")]


def _assignments(prep: _Prep, pairs: Sequence[Pair]) -> tuple[Assignment, ...]:
    """Assignments with leads and per-visitor reasons, hosts in URN order."""
    by_host: dict[int, list[int]] = {int(h): [] for h in prep.hosts}
    for h, v in pairs:
        by_host[h].append(v)
    chosen, pinned = set(pairs), set(prep.must)
    urn = prep.urns
    leads = _leads(prep, {urn[h]: [urn[v] for v in vs] for h, vs in by_host.items()})
    out = []
    for h, vs in sorted(by_host.items(), key=lambda item: urn[item[0]]):
        vs.sort(key=lambda v: urn[v])
        km, ranked = _nearness(prep, h)
        rank = np.zeros(prep.n, dtype=np.int64)  # 0: not allowed to visit h
        rank[ranked] = np.arange(1, len(ranked) + 1)
        why = []
        for v in vs:
            reasons = []
            if (h, v) in pinned:
                reasons.append("pinned by the facilitator")
            if rank[v]:
                r = int(rank[v])
                reasons.append(
                    "nearest available" if r == 1 else f"{_ordinal(r)} nearest available"
                )
            if (h, v) in prep.repeat:
                ago = prep.repeat[h, v]
                reasons.append(f"repeat from {ago} cycle{'s' if ago > 1 else ''} ago")
            area = prep.p.schools[h].focus_area
            if area and area in prep.p.schools[v].strengths:
                reasons.append(f"strength in {area}")
            if (v, h) in chosen:
                reasons.append(f"reciprocal: {urn[h]} also visits {urn[v]}")
            if np.isnan(prep.xy[h, 0]) or np.isnan(prep.xy[v, 0]):
                reasons.append(f"no coordinates: neutral {prep.neutral_m / 1000:.1f} km used")
            why.append(tuple(reasons))
        out.append(
            Assignment(
                host=urn[h],
                visitors=tuple(urn[v] for v in vs),
                lead=leads[urn[h]][0] if urn[h] in leads else None,
                distances_km=tuple(round(float(km[v]), 3) for v in vs),
                why=tuple(why),
            )
        )
    return tuple(out)


def _names(prep: _Prep, schools: Iterable[int]) -> str:
    return ", ".join(str(prep.urns[s]) for s in sorted(schools, key=lambda s: prep.urns[s]))
