"""A school's peer visit: its focus, date, agenda and visitors."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends

from review_engine.runtime import Runtime
from review_engine.services import visits
from review_engine.web.api._common import (
    API,
    ERRORS,
    GUARDS,
    CyclePath,
    Out,
    UrnPath,
    reading,
    require_cycle,
)
from review_engine.web.session import acting

router = APIRouter(
    prefix=f"{API}/cycles", tags=["peer visit"], responses=ERRORS, dependencies=GUARDS
)


class AgendaItem(Out):
    time: str
    activity: str
    who: str


class Visit(Out):
    cycle: str
    host: int
    host_name: str
    state: str
    focus: str | None
    focus_area: str | None
    enquiry_question: str | None
    visit_date: date | None
    slot: str | None
    agenda: list[AgendaItem]
    host_staff: list[str]
    visitors: list[str]
    lead: str | None
    warnings: list[str]


@router.get(
    "/{cycle:path}/schools/{urn}/visit",
    response_model=Visit,
    summary="The visit to a school: focus, date, agenda and visitors",
)
def show_visit(cycle: CyclePath, urn: UrnPath, rt: Runtime = Depends(acting)) -> Visit:
    require_cycle(rt, cycle)
    with reading("visit"):
        return Visit.model_validate(visits.show(rt, cycle=cycle, host=urn))
