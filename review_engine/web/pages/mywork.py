"""My work: everything the signed-in person owes across their cycles, overdue first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.runtime import Runtime
from review_engine.services import mywork
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def my_work(request: Request, rt: Runtime = Depends(acting)) -> Response:
    items = mywork.my_work(rt)
    overdue = sum(1 for i in items if i.overdue)
    cycles = mywork.my_cycles(rt)
    return render(request, "my_work.html", items=items, overdue=overdue, cycles=cycles)
