"""Work in progress on a SEF or a write-up: read it back and save it, as the pages' autosave
does (the same service, the same rules: only whoever may submit or draft it)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from review_engine.runtime import Runtime
from review_engine.services import drafts
from review_engine.web.api._common import (
    API,
    ERRORS,
    GUARDS,
    CyclePath,
    Instant,
    Out,
    UrnPath,
    reading,
    require_cycle,
    writing,
)
from review_engine.web.session import acting

router = APIRouter(prefix=f"{API}/cycles", tags=["drafts"], responses=ERRORS, dependencies=GUARDS)
Kind = Literal["sef", "write-up"]
_KINDS = {"sef": "sef", "write-up": "writeup"}


class Draft(Out):
    kind: str
    content: dict[str, Any]
    saved_by: str
    saved_at: Instant


class DraftIn(BaseModel):
    content: dict[str, Any] = Field(
        description="The form's fields as text, lists and objects (at most 4 deep)",
        examples=[{"enquiry_question": "To what extent do pupils catch up quickly?"}],
    )


def _what(kind: str) -> str:
    return "self-evaluation draft" if kind == "sef" else "write-up draft"


@router.get(
    "/{cycle:path}/schools/{urn}/drafts/{kind}",
    response_model=Draft | None,
    summary="The saved draft of a school's SEF or write-up (null when none is saved)",
)
def show_draft(
    cycle: CyclePath, urn: UrnPath, kind: Kind, rt: Runtime = Depends(acting)
) -> Draft | None:
    require_cycle(rt, cycle)
    with reading(_what(kind)):
        found = drafts.load_draft(rt, cycle=cycle, urn=urn, kind=_KINDS[kind])
    return None if found is None else Draft.model_validate(found)


@router.put(
    "/{cycle:path}/schools/{urn}/drafts/{kind}",
    response_model=Draft,
    summary="Save the draft of a school's SEF or write-up (replaces the saved one)",
)
def save_draft(
    cycle: CyclePath, urn: UrnPath, kind: Kind, body: DraftIn, rt: Runtime = Depends(acting)
) -> Draft:
    require_cycle(rt, cycle)
    saved = writing(
        _what(kind),
        lambda: drafts.save_draft(
            rt, cycle=cycle, urn=urn, kind=_KINDS[kind], content=body.content
        ),
        lambda: False,  # who may not save it may not read it either (load_draft says so)
    )
    return Draft.model_validate(saved)
