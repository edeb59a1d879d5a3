"""Cycles: those you have a part in, and one cycle's status (only the schools you may see)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from review_engine.runtime import Runtime
from review_engine.services import cycles
from review_engine.web.api._common import (
    API,
    ERRORS,
    GUARDS,
    CyclePath,
    Out,
    reading,
    require_cycle,
)
from review_engine.web.session import acting

router = APIRouter(prefix=f"{API}/cycles", tags=["cycles"], responses=ERRORS, dependencies=GUARDS)


class Cycle(Out):
    cycle: str
    cluster: str
    academic_year: str
    state: str
    workflow: str
    schools: int


class SchoolStatus(Out):
    urn: int
    name: str
    states: dict[str, str]


class CycleStatus(Out):
    cycle: str
    state: str
    workflow: str
    workflow_version: int
    machines: list[str]
    schools: list[SchoolStatus]
    overdue: list[str]
    missing_feedback: list[str]


@router.get("", response_model=list[Cycle], summary="The cycles you have a part in")
def list_cycles(rt: Runtime = Depends(acting)) -> list[Cycle]:
    return [Cycle.model_validate(c) for c in cycles.visible_cycles(rt)]


@router.get(
    "/{cycle:path}/status",
    response_model=CycleStatus,
    summary="Where each school you may see stands in each phase",
)
def cycle_status(cycle: CyclePath, rt: Runtime = Depends(acting)) -> CycleStatus:
    require_cycle(rt, cycle)
    with reading("cycle"):
        return CycleStatus.model_validate(cycles.cycle_status(rt, cycle=cycle))
