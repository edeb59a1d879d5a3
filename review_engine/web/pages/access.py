"""The access log in the browser: who has viewed or downloaded a cycle's records. The cycle's
facilitator (and programme admins) read the whole cycle's; a school's own staff read their
school's. Anyone else is told there is no such page, exactly as for one that does not exist."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import access_log
from review_engine.web.pages.cycles import cycle_url
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)


def _entries(rt: Runtime, **kwargs: Any) -> access_log.AccessPage:
    """The log as the person may read it; anything they may not is the 404 of a missing page."""
    try:
        return access_log.entries(rt, **kwargs)
    except (NotFound, NotPermitted, InvalidInput):
        raise HTTPException(404) from None


def access_url(cycle: str, urn: int | None = None) -> str:
    school = f"/schools/{urn}" if urn is not None else ""
    return f"/cycles/{quote(cycle, safe='/')}{school}/access"


# The school's own page first: the cycle's page takes any path ending in /access.
@router.get("/cycles/{cycle:path}/schools/{urn}/access", response_class=HTMLResponse)
def school_access(
    request: Request,
    cycle: str,
    urn: int,
    before: Annotated[int | None, Query(ge=1)] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    page = _entries(rt, cycle=cycle, school=urn, before=before)
    older = f"?{urlencode({'before': page.older})}" if page.older is not None else None
    return render(
        request,
        "access_log.html",
        title=f"Who has read the records of {page.school}",
        page=page,
        filters={"school": "", "person": ""},
        here=access_url(page.cycle, urn),
        whole=access_url(page.cycle) if page.whole_cycle else None,
        older=older,
        nav=None,
    )


@router.get("/cycles/{cycle:path}/access", response_class=HTMLResponse)
def cycle_access(
    request: Request,
    cycle: str,
    school: Annotated[str, Query(max_length=10)] = "",
    person: Annotated[str, Query(max_length=320)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    urn = int(school) if school.isdigit() else None
    page = _entries(rt, cycle=cycle, school=urn, person=person or None, before=before)
    if not page.whole_cycle:
        raise HTTPException(404)  # a school reads its own page, under its school
    filters = {"school": school, "person": person}
    older = None
    if page.older is not None:
        older = "?" + urlencode({**{k: v for k, v in filters.items() if v}, "before": page.older})
    return render(
        request,
        "access_log.html",
        title=f"Who has read the records of {page.cycle}",
        page=page,
        filters=filters,
        here=access_url(page.cycle),
        whole=None,
        older=older,
        nav={"cycle": page.cycle},
        cycle_url=cycle_url,
    )
