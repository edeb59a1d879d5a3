"""Feedback on a visit: on the day (how useful it was, 1 to 5, and a comment) from the host and
each visiting school, and a later reflection from each visiting school on what it changed.
Who may give and read which is the services' (`feedback.feedback_page`); anyone else: 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.errors import AlreadyExists, InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import feedback
from review_engine.web.rendering import page_url, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

BASE = "/cycles/{cycle:path}/schools/{urn}/feedback"
TEXT_MAX = 4000
USEFULNESS = {
    1: "1: not useful",
    2: "2: a little useful",
    3: "3: useful",
    4: "4: very useful",
    5: "5: extremely useful",
}


def _page(
    request: Request,
    rt: Runtime,
    cycle: str,
    urn: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    page = feedback.feedback_page(rt, cycle=cycle, host=urn)
    return render(
        request,
        "feedback.html",
        status_code=status_code,
        title=f"Feedback: the visit to {page.host_name}",
        page=page,
        usefulness=USEFULNESS,
        errors=errors or {},
        summary=[],
        typed=typed or {},
        url=page_url(page.cycle, page.host, "feedback"),
    )


@router.get(BASE, response_class=HTMLResponse)
def feedback_page(
    request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)
) -> Response:
    return _page(request, rt, cycle, urn)


@router.post(BASE, response_class=HTMLResponse)
def give(
    request: Request,
    cycle: str,
    urn: int,
    kind: Annotated[str, Form(max_length=20)] = "immediate",
    usefulness: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    changed_practice: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    feedback.feedback_page(rt, cycle=cycle, host=urn)  # 404 for anyone with no part in it
    typed = {"usefulness": usefulness, "comment": comment, "changed_practice": changed_practice}
    errors: dict[str, str] = {}
    score = int(usefulness) if usefulness.isdigit() else None
    if kind == "reflection":
        if not changed_practice.strip():
            errors["changed_practice"] = "Say what your school has changed since the visit"
    elif score not in USEFULNESS:
        errors["usefulness"] = "Choose how useful the visit was"
    if not errors:
        try:
            feedback.give(
                rt,
                cycle=cycle,
                host=urn,
                kind="reflection" if kind == "reflection" else "immediate",
                usefulness=score if kind != "reflection" else None,
                comment=comment,
                changed_practice=changed_practice if kind == "reflection" else None,
            )
        except (InvalidInput, AlreadyExists) as exc:
            field = "changed_practice" if kind == "reflection" else "usefulness"
            errors[field] = exc.message
    if errors:
        return _page(request, rt, cycle, urn, status_code=400, errors=errors, typed=typed)
    return RedirectResponse(page_url(cycle, urn, "feedback") + "?given=1", status_code=303)
