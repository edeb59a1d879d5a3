"""Feedback on a visit: on the day (how useful, 1 to 5) from the host and its visitors, and the
visiting schools' later reflection on what they changed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from review_engine.core.safe_text import TEXT_MAX
from review_engine.errors import NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import feedback
from review_engine.web.api._common import (
    API,
    ERRORS,
    GUARDS,
    CyclePath,
    Out,
    UrnPath,
    require_cycle,
    writing,
)
from review_engine.web.session import acting

router = APIRouter(prefix=f"{API}/cycles", tags=["feedback"], responses=ERRORS, dependencies=GUARDS)
WHAT = "visit"


class Feedback(Out):
    host: int
    host_name: str
    from_urn: int
    from_name: str
    kind: str
    usefulness: int | None
    comment: str
    changed_practice: str | None


class FeedbackIn(BaseModel):
    kind: Literal["immediate", "reflection"] = Field(
        description="immediate: on the day; reflection: what your school changed, weeks later"
    )
    usefulness: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="On the day: 1 (not useful) to 5"
    )
    comment: Annotated[str, Field(max_length=TEXT_MAX)] = ""
    changed_practice: Annotated[str, Field(min_length=1, max_length=TEXT_MAX)] | None = Field(
        default=None, description="A reflection: what your school changed"
    )

    @model_validator(mode="after")
    def _complete(self) -> FeedbackIn:
        if self.kind == "immediate" and self.usefulness is None:
            raise ValueError("feedback on the day needs usefulness from 1 to 5")
        if self.kind == "reflection" and not (self.changed_practice or "").strip():
            raise ValueError("a reflection says what your school changed (changed_practice)")
        return self


@router.post(
    "/{cycle:path}/schools/{urn}/feedback",
    response_model=Feedback,
    status_code=201,
    summary="Give your school's feedback on the visit to a school",
)
def give_feedback(
    cycle: CyclePath, urn: UrnPath, body: FeedbackIn, rt: Runtime = Depends(acting)
) -> Feedback:
    require_cycle(rt, cycle)
    view = writing(
        WHAT,
        lambda: feedback.give(
            rt,
            cycle=cycle,
            host=urn,
            kind=body.kind,
            usefulness=body.usefulness,
            comment=body.comment,
            changed_practice=body.changed_practice,
        ),
        lambda: _sees_the_visit(rt, cycle, urn),
    )
    return Feedback.model_validate(view)


def _sees_the_visit(rt: Runtime, cycle: str, host: int) -> bool:
    """The visit's feedback page answers "not found" to whoever may not see the visit."""
    try:
        feedback.feedback_page(rt, cycle=cycle, host=host)
    except (NotFound, NotPermitted):
        return False
    return True
