"""The good-practice directory: entries from write-ups shared with you."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from review_engine.core.safe_text import CLUSTER_NAME_MAX
from review_engine.errors import NotFound
from review_engine.runtime import Runtime
from review_engine.services import practice
from review_engine.web.api._common import API, ERRORS, GUARDS, Out
from review_engine.web.session import acting

router = APIRouter(
    prefix=f"{API}/practice", tags=["practice"], responses=ERRORS, dependencies=GUARDS
)


class PracticeEntry(Out):
    cluster: str
    academic_year: str
    area: str
    urn: int
    school: str
    description: str
    contact: str


@router.get("", response_model=list[PracticeEntry], summary="Good practice shared with you")
def list_practice(
    rt: Runtime = Depends(acting),
    cluster: Annotated[
        str | None, Query(min_length=1, max_length=CLUSTER_NAME_MAX, examples=["Northbrook"])
    ] = None,
    area: Annotated[
        str | None, Query(min_length=1, max_length=100, examples=["quality_of_education"])
    ] = None,
) -> list[PracticeEntry]:
    try:
        entries = practice.list_practice(rt, cluster=cluster, area=area)
    except NotFound:
        entries = []  # an unknown cluster lists nothing, as one that shares nothing with you
    return [PracticeEntry.model_validate(e) for e in entries]
