"""Who am I, and what do I owe: the signed-in person and their work across their cycles."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request

from review_engine.errors import NotFound
from review_engine.runtime import Runtime
from review_engine.services import mywork, schools, signin
from review_engine.web.api._common import API, ERRORS, GUARDS, Out
from review_engine.web.rendering import page_url
from review_engine.web.session import acting, visitor

router = APIRouter(prefix=API, tags=["me"], responses=ERRORS, dependencies=GUARDS)


class Me(Out):
    email: str
    name: str
    role: str
    school_urn: int | None
    school: str | None


class WorkItem(Out):
    cycle: str
    cluster: str
    urn: int
    school: str
    page: str
    what: str
    due: date | None
    overdue: bool
    url: str


def school_name(rt: Runtime, urn: int | None) -> str | None:
    """The name of a person's school (None when they have none, or it has gone)."""
    if urn is None:
        return None
    try:
        return schools.show_school(rt, urn=urn).name
    except NotFound:
        return None


@router.get("/me", response_model=Me, summary="The signed-in person")
def me(
    request: Request,
    person: signin.SignedIn = Depends(visitor),
    rt: Runtime = Depends(acting),
) -> Me:
    return Me(
        email=person.email,
        name=person.name,
        role=person.role,
        school_urn=person.school_urn,
        school=school_name(rt, person.school_urn),
    )


@router.get(
    "/my-work",
    response_model=list[WorkItem],
    summary="Everything you owe in your open cycles, overdue first",
)
def my_work(rt: Runtime = Depends(acting)) -> list[WorkItem]:
    return [
        WorkItem(
            cycle=i.cycle,
            cluster=i.cluster,
            urn=i.urn,
            school=i.school,
            page=i.page,
            what=i.what,
            due=i.due,
            overdue=i.overdue,
            url=page_url(i.cycle, i.urn, i.page),
        )
        for i in mywork.my_work(rt)
    ]
