"""Large pools (more than EXACT_HOSTS hosts): nearest-candidate arcs, a Lagrangian lower bound
over all arcs, and a primal answer from flows plus exact-cost visitor swaps.

The reciprocal term couples arc a->b with b->a, so the model is no longer a flow. Pricing each
pair (lambda on both arcs) and solving flows gives the LP bound by subgradient steps; the flows'
running average (an LP estimate) seeds a rounding, which is then improved by majorize-minimize
flows and by swapping visitors between two hosts, each swap costed exactly, reciprocals included.
Every loop runs a fixed number of steps, so the answer depends on the input only.
"""

from __future__ import annotations

import time

import numpy as np

from review_engine.core.allocation.model import _Arcs, _flow, _member, _Prep, _reverse

_LAGRANGE_STEPS = 64  # subgradient steps; the bound is within ~0.05% of the LP's by then
_AVERAGE_FROM = 15  # flows averaged (the LP estimate) from this step on
_ROUNDING = 20_000  # extra cost (thousandths) of an arc the averaged flows never used
_ROUNDS = 3  # swap / majorize-minimize alternations
_TABLE_CELLS = 1 << 22  # 32 MB
_OVERSHOOT = 100  # subgradient step target: the best answer plus 1/_OVERSHOOT of it


def _true_cost(x: np.ndarray, lin: np.ndarray, a: np.ndarray, b: np.ndarray, recip: int) -> int:
    return int(lin[x].sum()) + recip * int((x[a] & x[b]).sum())


def _descend(
    prep: _Prep, arcs: _Arcs, lin: np.ndarray, x: np.ndarray, deadline: float
) -> tuple[np.ndarray, int]:
    """Majorize-minimize on the reciprocal term: charge each pair's cost on one arc so the flow
    cost equals the true cost of the current answer, re-solve, repeat; the cost never rises."""
    a, b, _ = _reverse(prep, arcs)
    recip = prep.recip
    pen = np.zeros(len(lin), dtype=np.int64)
    parity = (arcs.h[a] + arcs.v[a]) % 2 == 0
    cost = _true_cost(x, lin, a, b, recip)
    for _ in range(100):
        both, only_a, only_b = x[a] & x[b], x[a] & ~x[b], x[b] & ~x[a]
        fresh = both & (pen[a] == 0) & (pen[b] == 0)
        pen[np.where(parity, a, b)[fresh]] = recip
        pen[a[only_a]], pen[b[only_a]] = 0, recip
        pen[b[only_b]], pen[a[only_b]] = 0, recip
        f = _flow(prep, arcs, lin + pen)
        if f is None or (f.chosen == x).all() or time.perf_counter() > deadline:
            break
        new = _true_cost(f.chosen, lin, a, b, recip)
        if new > cost:
            break
        x, cost = f.chosen, new
    return x, cost


def _majorize(
    prep: _Prep, arcs: _Arcs, lin: np.ndarray, x: np.ndarray, deadline: float
) -> tuple[np.ndarray, int]:
    """Strict majorize-minimize: every pair carries its cost on exactly one arc (the unused one
    when one is used), so each flow's true cost is at most the current one."""
    a, b, _ = _reverse(prep, arcs)
    recip = prep.recip
    on_a = (arcs.h[a] + arcs.v[a]) % 2 == 0
    cost = _true_cost(x, lin, a, b, recip)
    for _ in range(50):
        on_a = np.where(x[a] & ~x[b], False, np.where(x[b] & ~x[a], True, on_a))
        pen = np.zeros(len(lin), dtype=np.int64)
        pen[np.where(on_a, a, b)] = recip
        f = _flow(prep, arcs, lin + pen)
        if f is None or time.perf_counter() > deadline:
            break
        new = _true_cost(f.chosen, lin, a, b, recip)
        if new >= cost:
            break
        x, cost = f.chosen, new
    return x, cost


def _swaps(prep: _Prep, arcs: _Arcs, lin: np.ndarray, x: np.ndarray, deadline: float) -> np.ndarray:
    """Swap visitors between two hosts (h1 gets v2, h2 gets v1) while any swap lowers the true
    cost; all swaps are costed at once, the best non-overlapping ones applied each round."""
    n, recip = prep.n, prep.recip
    keys = arcs.h * n + arcs.v
    order = np.argsort(keys)
    sorted_keys = keys[order]
    table = None
    if n * n <= _TABLE_CELLS:  # a dense key -> arc table is ten times faster than a search
        table = np.full(n * n, -1, dtype=np.int64)
        table[keys] = np.arange(len(keys))

    def find(h: np.ndarray, v: np.ndarray) -> np.ndarray:
        if table is not None:
            return table[h * n + v]
        hit, pos = _member(h * n + v, sorted_keys)
        return np.where(hit, order[pos], -1)

    def expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(starts, counts) + offsets

    rev = find(arcs.v, arcs.h)
    by_h = np.argsort(arcs.h, kind="stable")
    start_h = np.searchsorted(arcs.h[by_h], np.arange(n + 1))
    x = x.copy()
    for _ in range(200):
        if time.perf_counter() > deadline:
            break
        used = np.nonzero(x)[0]
        rev_used = np.where(rev >= 0, x[np.maximum(rev, 0)], False).astype(np.int64)
        by_v = used[np.argsort(arcs.v[used], kind="stable")]
        start_v = np.searchsorted(arcs.v[by_v], np.arange(n + 1))
        # i = (h1, v1) used; j = (h1, v2) unused; k = (h2, v2) used; l = (h2, v1) unused.
        h1 = arcs.h[used]
        count = start_h[h1 + 1] - start_h[h1]
        i, j = np.repeat(used, count), by_h[expand(start_h[h1], count)]
        i, j = i[~x[j]], j[~x[j]]
        v2 = arcs.v[j]
        count = start_v[v2 + 1] - start_v[v2]
        i, j, k = np.repeat(i, count), np.repeat(j, count), by_v[expand(start_v[v2], count)]
        keep = arcs.h[k] != arcs.h[i]
        i, j, k = i[keep], j[keep], k[keep]
        ell = find(arcs.h[k], arcs.v[i])
        keep = ell >= 0
        keep[keep] = ~x[ell[keep]]
        i, j, k, ell = i[keep], j[keep], k[keep], ell[keep]
        # No reverse of one of the four arcs is another of them, so the changes add up.
        delta = lin[j] + lin[ell] - lin[i] - lin[k]
        delta += recip * (rev_used[j] + rev_used[ell] - rev_used[i] - rev_used[k])
        better = np.nonzero(delta < 0)[0]
        if len(better) == 0:
            break
        better = better[np.lexsort((k[better], j[better], i[better], delta[better]))]
        touched = np.zeros(n, dtype=bool)
        for m in better.tolist():
            schools = [arcs.h[i[m]], arcs.v[i[m]], arcs.h[k[m]], arcs.v[k[m]]]
            if touched[schools].any():
                continue  # swaps on disjoint schools cannot change each other's reciprocals
            touched[schools] = True
            x[i[m]] = x[k[m]] = False
            x[j[m]] = x[ell[m]] = True
    return x


def _improve(
    prep: _Prep, arcs: _Arcs, lin: np.ndarray, x: np.ndarray, deadline: float
) -> tuple[np.ndarray, int]:
    """Local search from x: majorize-minimize flows, then swaps and strict flows in turn."""
    x, cost = _descend(prep, arcs, lin, x, deadline)
    for _ in range(_ROUNDS):
        x = _swaps(prep, arcs, lin, x, deadline)
        before = x
        x, cost = _majorize(prep, arcs, lin, x, deadline)
        if x is before:
            break
    return x, cost


def _lagrange(
    prep: _Prep, arcs: _Arcs, lin: np.ndarray, upper: int, deadline: float
) -> tuple[int, np.ndarray]:
    """Lagrangian bound over all arcs: price each reciprocal pair by lambda in [0, cost] on both
    arcs (deflected subgradient steps); every flow over the catch-all relaxation is a valid lower
    bound. Also returns the later flows' average use of each candidate arc (an LP estimate)."""
    a, b, _ = _reverse(prep, arcs)
    lam = np.zeros(len(a), dtype=float)
    previous = np.zeros(len(a), dtype=float)
    average = np.zeros(len(lin), dtype=float)
    bound, theta, stale, averaged = -(2**62), 1.0, 0, 0
    target = upper + upper // _OVERSHOOT  # steps aimed past the best answer converge faster
    for step in range(_LAGRANGE_STEPS):
        if time.perf_counter() > deadline:
            break
        lam_int = np.rint(lam).astype(np.int64)
        extra = np.zeros(len(lin), dtype=np.int64)
        extra[a] += lam_int
        extra[b] += lam_int
        f = _flow(prep, arcs, lin + extra, relax=True)
        if f is None:
            break
        value = f.cost - int(lam_int.sum())
        if value > bound:
            bound, stale = value, 0
        else:
            stale += 1
            if stale >= 4:
                theta, stale = theta / 2, 0
        if step >= _AVERAGE_FROM or step == _LAGRANGE_STEPS - 1:
            average += f.chosen
            averaged += 1
        g = f.chosen[a].astype(float) + f.chosen[b] - 1 + 0.3 * previous
        previous = g
        g = np.where((lam <= 0) & (g < 0), 0, g)
        g = np.where((lam >= prep.recip) & (g > 0), 0, g)
        norm = float((g * g).sum())
        if upper <= bound or norm == 0:
            break
        lam = np.clip(lam + theta * (target - value) / norm * g, 0, prep.recip)
    return bound, average / max(averaged, 1)


def solve_large(
    prep: _Prep, arcs: _Arcs, lin: np.ndarray, x: np.ndarray, deadline: float
) -> tuple[np.ndarray, int]:
    """Best answer found (bool per candidate arc) and a lower bound valid over all arcs."""
    budget = deadline - time.perf_counter()
    best, upper = _improve(prep, arcs, lin, x, time.perf_counter() + 0.3 * budget)
    bound, average = _lagrange(prep, arcs, lin, upper, deadline - 0.25 * budget)
    if upper > bound:
        rounding = np.rint((1 - average) * _ROUNDING).astype(np.int64)
        f = _flow(prep, arcs, lin + rounding)
        if f is not None:
            y, cost = _improve(prep, arcs, lin, f.chosen, deadline - 0.05 * budget)
            if cost < upper:
                best, upper = y, cost
    return best, bound
