"""A school's write-up: read it; a co-reviewer or the host agrees it or sends it back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from review_engine.core.domain import SharingLevel
from review_engine.core.safe_text import NAME_MAX, TEXT_MAX, URN_MAX, URN_MIN
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


Line = Annotated[str, Field(max_length=NAME_MAX)]
LongText = Annotated[str, Field(max_length=TEXT_MAX)]
ITEMS_MAX = 100  # as the service allows


class ItemIn(BaseModel):
    line: Line = Field(description="The line of enquiry it answers")
    text: Text
    evidence: Text


class PracticeIn(BaseModel):
    area: Line = Field(description="A key of one of the framework's areas")
    description: Text
    contact: Line = ""


class DraftIn(BaseModel):
    """The lead reviewer's draft, sent for the co-reviewers' agreement."""

    activities: list[LongText] = Field(default=[], max_length=ITEMS_MAX)
    www: list[ItemIn] = Field(min_length=1, max_length=ITEMS_MAX)
    ebi: list[ItemIn] = Field(min_length=1, max_length=ITEMS_MAX)
    good_practice: list[PracticeIn] = Field(default=[], max_length=ITEMS_MAX)
    next_steps: LongText = ""


class PublishIn(BaseModel):
    sharing: SharingLevel = Field(
        description="reviewers: the triad only; cluster: every school of the cluster; "
        "named: the schools in `named` as well as the triad"
    )
    named: list[Annotated[int, Field(ge=URN_MIN, le=URN_MAX)]] = Field(
        default=[], max_length=ITEMS_MAX
    )


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
        lambda: may_see(lambda: writeups.show(rt, cycle=cycle, host=urn, record_access=False)),
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
        lambda: may_see(lambda: writeups.show(rt, cycle=cycle, host=urn, record_access=False)),
    )
    return WriteUp.model_validate(view)


@router.post(
    "/{cycle:path}/schools/{urn}/write-up",
    response_model=WriteUp,
    summary="The lead reviewer's draft (a redraft after a return is a new version)",
)
def draft_writeup(
    cycle: CyclePath, urn: UrnPath, body: DraftIn, rt: Runtime = Depends(acting)
) -> WriteUp:
    require_cycle(rt, cycle)
    items = [writeups.Item("www", i.line, i.text, i.evidence) for i in body.www] + [
        writeups.Item("ebi", i.line, i.text, i.evidence) for i in body.ebi
    ]
    practice = [writeups.Practice(p.area, p.description, p.contact) for p in body.good_practice]
    view = writing(
        WHAT,
        lambda: writeups.draft(
            rt,
            cycle=cycle,
            host=urn,
            items=items,
            good_practice=practice,
            activities=list(body.activities),
            next_steps=body.next_steps,
        ),
        lambda: may_see(lambda: writeups.show(rt, cycle=cycle, host=urn, record_access=False)),
    )
    return WriteUp.model_validate(view)


@router.post(
    "/{cycle:path}/schools/{urn}/write-up/publish",
    response_model=WriteUp,
    summary="The host publishes the agreed write-up and chooses who it is shared with",
)
def publish_writeup(
    cycle: CyclePath, urn: UrnPath, body: PublishIn, rt: Runtime = Depends(acting)
) -> WriteUp:
    require_cycle(rt, cycle)
    view = writing(
        WHAT,
        lambda: writeups.publish(
            rt, cycle=cycle, host=urn, sharing=body.sharing, named=list(body.named)
        ),
        lambda: may_see(lambda: writeups.show(rt, cycle=cycle, host=urn, record_access=False)),
    )
    return WriteUp.model_validate(view)
