"""A school's self-evaluation (SEF): read it (any version), submit it as JSON, and the
facilitator's decision (accept, or return with a reason)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, model_validator

from review_engine.core.safe_text import ID_MAX, TEXT_MAX
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import sef
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

router = APIRouter(
    prefix=f"{API}/cycles",
    tags=["self-evaluation"],
    responses=ERRORS,
    dependencies=GUARDS,
)
WHAT = "self-evaluation"
AREAS_MAX = 20  # frameworks have fewer than ten areas


class SefArea(Out):
    key: str
    title: str
    grade: str
    grade_label: str
    strengths: str
    areas_for_development: str
    evidence: str


class Sef(Out):
    cycle: str
    urn: int
    school: str
    framework: str
    version: int
    versions: int
    state: str
    enquiry_question: str
    submitted_by: str
    submitted_at: Instant
    areas: list[SefArea]


class SefAreaIn(BaseModel):
    key: str = Field(
        min_length=1,
        max_length=100,
        description="The framework's key for the area",
        examples=["quality_of_education"],
    )
    grade: str = Field(max_length=100, description="A grade on the area's scale", examples=["good"])
    strengths: str = Field(max_length=TEXT_MAX)
    areas_for_development: str = Field(max_length=TEXT_MAX)
    evidence: str = Field(max_length=TEXT_MAX)


class SefIn(BaseModel):
    enquiry_question: Text = Field(description="The question for your peer visit")
    areas: list[SefAreaIn] = Field(max_length=AREAS_MAX)

    @model_validator(mode="after")
    def _one_entry_per_area(self) -> SefIn:
        keys = [a.key for a in self.areas]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"area {twice[0]} is given twice")
        return self


class Decision(BaseModel):
    decision: Literal["accept", "return"]
    reason: Annotated[str | None, Field(min_length=1, max_length=TEXT_MAX)] = Field(
        default=None, description="Why it goes back (required to return it)"
    )


@router.get(
    "/{cycle:path}/schools/{urn}/sef",
    response_model=Sef,
    summary="A school's SEF as submitted (the latest version unless asked)",
)
def show_sef(
    cycle: CyclePath,
    urn: UrnPath,
    rt: Runtime = Depends(acting),
    version: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> Sef:
    require_cycle(rt, cycle)
    with reading(WHAT):
        return Sef.model_validate(sef.show_sef(rt, cycle=cycle, urn=urn, version=version))


@router.post(
    "/{cycle:path}/schools/{urn}/sef",
    response_model=Sef,
    status_code=201,
    summary="Submit the school's SEF (a new version)",
)
def submit_sef(cycle: CyclePath, urn: UrnPath, body: SefIn, rt: Runtime = Depends(acting)) -> Sef:
    require_cycle(rt, cycle)
    view = writing(
        WHAT,
        lambda: sef.submit_sef_form(
            rt,
            cycle=cycle,
            urn=urn,
            enquiry_question=body.enquiry_question,
            areas=[a.model_dump() for a in body.areas],
        ),
        lambda: may_see(lambda: sef.show_sef(rt, cycle=cycle, urn=urn, record_access=False)),
    )
    return Sef.model_validate(view)


@router.post(
    "/{cycle:path}/schools/{urn}/sef/decision",
    response_model=Sef,
    summary="The facilitator accepts the SEF, or returns it with a reason",
)
def decide_sef(
    cycle: CyclePath, urn: UrnPath, body: Decision, rt: Runtime = Depends(acting)
) -> Sef:
    require_cycle(rt, cycle)
    accept = body.decision == "accept"
    if not accept and body.reason is None:
        raise InvalidInput("say why the self-evaluation goes back: a reason is required")
    view = writing(
        WHAT,
        lambda: sef.decide_sef(rt, cycle=cycle, urn=urn, accept=accept, reason=body.reason),
        lambda: may_see(lambda: sef.show_sef(rt, cycle=cycle, urn=urn, record_access=False)),
    )
    return Sef.model_validate(view)
