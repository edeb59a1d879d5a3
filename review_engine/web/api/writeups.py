"""A school's write-up: read it; a co-reviewer or the host agrees it or sends it back."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from review_engine.runtime import Runtime
from review_engine.services import writeups
from review_engine.web.api._common import (
    API,
    ERRORS,
    GUARDS,
    CyclePath,
    Instant,
    Out,
    Text,
    UrnPath,
    may_see,
    reading,
    require_cycle,
    writing,
)
from review_engine.web.session import acting

router = APIRouter(prefix=f"{API}/cycles", tags=["write-up"], responses=ERRORS, dependencies=GUARDS)
WHAT = "write-up"


class Item(Out):
    kind: str
    line: str
    text: str
    evidence: str


class Practice(Out):
    area: str
    description: str
    contact: str


class WriteUp(Out):
    cycle: str
    host: int
    host_name: str
    state: str
    lead: str
    version: int
    activities: list[str]
    www: list[Item]
    ebi: list[Item]
    good_practice: list[Practice]
    next_steps: str
    sharing: str | None
    shared_with: list[int]
    agreed_by: list[str]
    published_at: Instant | None


class Reason(BaseModel):
    reason: Text


@router.get(
    "/{cycle:path}/schools/{urn}/write-up",
    response_model=WriteUp,
    summary="The write-up of the visit to a school",
)
def show_writeup(cycle: CyclePath, urn: UrnPath, rt: Runtime = Depends(acting)) -> WriteUp:
    require_cycle(rt, cycle)
    with reading(WHAT):
        return WriteUp.model_validate(writeups.show(rt, cycle=cycle, host=urn))


@router.post(
    "/{cycle:path}/schools/{urn}/write-up/agree",
    response_model=WriteUp,
    summary="Agree the write-up (a co-reviewer agrees the draft, then the host)",
)
def agree_writeup(cycle: CyclePath, urn: UrnPath, rt: Runtime = Depends(acting)) -> WriteUp:
    require_cycle(rt, cycle)
    view = writing(
        WHAT,
        lambda: writeups.agree(rt, cycle=cycle, host=urn),
        lambda: may_see(lambda: writeups.show(rt, cycle=cycle, host=urn)),
    )
    return WriteUp.model_validate(view)


@router.post(
    "/{cycle:path}/schools/{urn}/write-up/return",
    response_model=WriteUp,
    summary="Send the draft back to the lead reviewer, saying why",
)
def return_writeup(
    cycle: CyclePath, urn: UrnPath, body: Reason, rt: Runtime = Depends(acting)
) -> WriteUp:
    require_cycle(rt, cycle)
    view = writing(
        WHAT,
        lambda: writeups.return_(rt, cycle=cycle, host=urn, reason=body.reason),
        lambda: may_see(lambda: writeups.show(rt, cycle=cycle, host=urn)),
    )
    return WriteUp.model_validate(view)
