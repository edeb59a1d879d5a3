"""The triad solver: who visits whom (pure; OR-Tools min-cost flow and CP-SAT).

`problem` holds the problem and the result (plain values); `model` the instance in index form
and the arc and cost helpers; `solver` solves exactly or, for large pools, through `large` (a
Lagrangian bound and rounding); `report` explains a result.

The values are imported here; the functions, with numpy and OR-Tools behind them, on first use,
so a service that names the values at the top costs a command nothing until it allocates.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from review_engine.core.allocation.problem import (
    AllocationProblem,
    AllocationResult,
    Assignment,
    SchoolNode,
    Weights,
)

if TYPE_CHECKING:
    from review_engine.core.allocation.report import explain, greedy_baseline
    from review_engine.core.allocation.solver import check, solve, solve_many

_LAZY = {
    "check": "solver",
    "solve": "solver",
    "solve_many": "solver",
    "explain": "report",
    "greedy_baseline": "report",
}

__all__ = [
    "AllocationProblem",
    "AllocationResult",
    "Assignment",
    "SchoolNode",
    "Weights",
    "check",
    "explain",
    "greedy_baseline",
    "solve",
    "solve_many",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
