"""The triad solver: who visits whom (pure; OR-Tools min-cost flow and CP-SAT).

`model` holds the problem, the result and the arc and cost helpers; `solver` solves exactly or,
for large pools, through `large` (a Lagrangian bound and rounding); `report` explains a result.
"""

from review_engine.core.allocation.model import (
    AllocationProblem,
    AllocationResult,
    Assignment,
    SchoolNode,
    Weights,
)
from review_engine.core.allocation.report import explain, greedy_baseline
from review_engine.core.allocation.solver import check, solve, solve_many

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
