"""A school's support actions (from its write-up's even-better-ifs) and their RAG updates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from review_engine.core.domain import Rag
from review_engine.core.safe_text import ID_MAX
from review_engine.runtime import Runtime
from review_engine.services import actions, sef
from review_engine.web.api._common import (
    API,
    ERRORS,
    GUARDS,
    CyclePath,
    Instant,
    Missing,
    Out,
    Text,
    UrnPath,
    may_see,
    reading,
    require_cycle,
    writing,
)
from review_engine.web.session import acting

router = APIRouter(
    prefix=f"{API}/cycles",
    tags=["support actions"],
    responses=ERRORS,
    dependencies=GUARDS,
)
WHAT = "action"


class Action(Out):
    cycle: str
    urn: int
    school: str
    number: int
    ebi: str
    title: str
    owner: str
    supporting_urn: int | None
    supporting_school: str | None
    success_criteria: str
    due: date | None
    due_label: str
    rag: str
    latest_update: str
    updated_at: Instant | None
    overdue: bool


class ActionUpdate(BaseModel):
    rag: Rag
    note: Text


NumberPath = Annotated[int, Path(ge=1, le=ID_MAX, description="The action's number")]


@router.get(
    "/{cycle:path}/schools/{urn}/actions",
    response_model=list[Action],
    summary="A school's support actions that you may see",
)
def list_actions(
    cycle: CyclePath,
    urn: UrnPath,
    rt: Runtime = Depends(acting),
    overdue: Annotated[bool, Query(description="Only those overdue")] = False,
) -> list[Action]:
    require_cycle(rt, cycle)
    with reading(WHAT):
        rows = actions.list_actions(rt, cycle=cycle, urn=urn, overdue=overdue)

    def the_sef() -> object:  # asks only whether they may see it: not a reading to log
        return sef.show_sef(rt, cycle=cycle, urn=urn, record_access=False)

    if not rows and not may_see(the_sef):
        raise Missing(WHAT)  # a school whose part you may not see: as one not in the cycle
    return [Action.model_validate(a) for a in rows]


@router.post(
    "/{cycle:path}/schools/{urn}/actions/{number}/update",
    response_model=Action,
    summary="A dated RAG update with a note (complete closes the action)",
)
def update_action(
    cycle: CyclePath,
    urn: UrnPath,
    number: NumberPath,
    body: ActionUpdate,
    rt: Runtime = Depends(acting),
) -> Action:
    require_cycle(rt, cycle)

    def listed() -> bool:
        return any(a.number == number for a in actions.list_actions(rt, cycle=cycle, urn=urn))

    view = writing(
        WHAT,
        lambda: actions.update_action(
            rt, cycle=cycle, urn=urn, number=number, rag=body.rag, note=body.note
        ),
        listed,
    )
    return Action.model_validate(view)
