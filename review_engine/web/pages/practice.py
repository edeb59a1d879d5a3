"""The good-practice directory: who to visit for what, searched by area, phase and distance
from the reader's school. What each person may read is the service's policy, never this page's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import practice
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

DISTANCES = (5, 10, 20, 50)  # km


@router.get("/practice", response_class=HTMLResponse)
def directory(
    request: Request,
    area: str = "",
    phase: str = "",
    within: str = "",
    rt: Runtime = Depends(acting),
) -> Response:
    errors: dict[str, str] = {}
    km = None
    if within:
        try:
            km = float(within)
        except ValueError:
            errors["within"] = "Choose a distance from the list"
    try:
        found = practice.search_practice(
            rt, area=area[:200] or None, phase=phase[:200] or None, within_km=km
        )
    except InvalidInput as exc:
        errors["within"] = exc.message
        found = practice.search_practice(rt, area=area[:200] or None, phase=phase[:200] or None)
    return render(
        request,
        "practice.html",
        status_code=400 if errors else 200,
        title="Good practice",
        found=found,
        area=area,
        phase=phase,
        within=within,
        distances=DISTANCES,
        errors=errors,
        summary=[],
        searched=bool(area or phase or within),
    )
