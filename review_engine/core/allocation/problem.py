"""The allocation problem and its answer, as the services build and read them.

Plain values: importing them costs nothing, so a service can name them at the top while the
solver (numpy, OR-Tools) is imported only when a command allocates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from review_engine.errors import InvalidInput


@dataclass(frozen=True)
class Weights:
    """Soft-cost weights in points (1 point = 1 km of travel at the default distance weight)."""

    distance_per_km: float = 1.0
    repeat: float = 50.0  # a (host, visitor) pairing already made within the rotation window
    reciprocal: float = 10.0  # A visits B and B visits A in the same cycle
    strength_bonus: float = 5.0  # subtracted when the visitor is strong in the host's focus

    def __post_init__(self) -> None:
        for name in ("distance_per_km", "repeat", "reciprocal", "strength_bonus"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(f"weight {name} must be a finite number >= 0, got {value}")


@dataclass(frozen=True)
class SchoolNode:
    """A school as the solver sees it: URN, GIAS easting/northing in metres, trust group."""

    urn: int
    easting: int | None
    northing: int | None
    group: str | None = None
    strengths: frozenset[str] = frozenset()
    focus_area: str | None = None


Pair = tuple[int, int]


@dataclass(frozen=True)
class AllocationProblem:
    """One cycle of one cluster; pins and past pairings are (host, visitor) URN pairs."""

    schools: Sequence[SchoolNode]
    hosts: frozenset[int] | None = None
    visitors_per_host: int = 3
    min_visits: int | None = None
    max_visits: int | None = None
    conflicts: frozenset[frozenset[int]] = frozenset()
    group_conflicts: bool = False
    unavailable: frozenset[int] = frozenset()
    must: frozenset[Pair] = frozenset()
    must_not: frozenset[Pair] = frozenset()
    past_pairings: Sequence[tuple[int, int, int]] = ()
    past_leads: Mapping[int, int] = field(default_factory=dict)
    rotation_window: int = 2
    weights: Weights = Weights()

    def __post_init__(self) -> None:
        # Input order must not matter: keep every collection sorted by URN.
        object.__setattr__(self, "schools", tuple(sorted(self.schools, key=lambda s: s.urn)))
        if self.hosts is not None:
            object.__setattr__(self, "hosts", frozenset(self.hosts))
        object.__setattr__(self, "conflicts", frozenset(frozenset(c) for c in self.conflicts))
        object.__setattr__(self, "past_pairings", tuple(sorted(self.past_pairings)))
        object.__setattr__(self, "past_leads", dict(sorted(self.past_leads.items())))


@dataclass(frozen=True)
class Assignment:
    """One host's visitors (sorted), its lead reviewer, and per-visitor km and reasons."""

    host: int
    visitors: tuple[int, ...]
    lead: int | None = None
    distances_km: tuple[float, ...] = ()
    why: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class AllocationResult:
    """The allocation, its cost per term, and how far it is proved from the optimum."""

    assignments: tuple[Assignment, ...]
    objective: float
    breakdown: dict[str, float]
    lower_bound: float
    gap: float
    optimal: bool
    wall_seconds: float
    method: str
