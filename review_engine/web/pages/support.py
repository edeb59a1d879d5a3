"""A school's support after its review: actions from the EBIs (owner, supporting school, due
half-term, success criteria), dated RAG updates by the school and notes by its supporting
school, and the plan agreed, started, its impact reviewed and closed.

What each person sees is the services' (`actions.support_page`): the school and the
facilitator all of it, a supporting school the actions it supports, anyone else a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.core.domain import HalfTerm, Rag
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import actions, plans
from review_engine.web.rendering import page_url, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

BASE = "/cycles/{cycle:path}/schools/{urn}/support"
TEXT_MAX = 4000
NAME_MAX = 200
RAG_WORDS = {
    Rag.RED.value: "Red: not on track",
    Rag.AMBER.value: "Amber: some progress",
    Rag.GREEN.value: "Green: on track",
    Rag.COMPLETE.value: "Complete",
}
RAG_TAGS = {"red": "tag-red", "amber": "tag-amber", "green": "tag-green", "complete": "tag-grey"}
STATES = {
    "awaiting_plan": "No support plan agreed yet",
    "plan_agreed": "Plan agreed, not yet started",
    "in_progress": "Under way",
    "impact_reviewed": "Impact reviewed",
    "closed": "Closed",
}
STEP_BUTTONS = {
    "agree_plan": "Agree the support plan",
    "start": "Start the support plan",
    "review_impact": "Record the impact review",
    "close": "Close the support plan",
}
STEP_DONE = {
    "agree_plan": "Plan agreed",
    "start": "Plan started",
    "review_impact": "Impact reviewed",
    "close": "Plan closed",
}


def _url(cycle: str, urn: int, tail: str = "") -> str:
    return page_url(cycle, urn, "support") + tail


def _page(
    request: Request,
    rt: Runtime,
    cycle: str,
    urn: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    summary: list[str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    page = actions.support_page(rt, cycle=cycle, urn=urn)
    return render(
        request,
        "support.html",
        status_code=status_code,
        title=f"Support: {page.school}",
        page=page,
        state_words=STATES.get(page.state, page.state.replace("_", " ")),
        rag_words=RAG_WORDS,
        rag_tags=RAG_TAGS,
        step_buttons=STEP_BUTTONS,
        step_done=STEP_DONE,
        half_terms=[h.value for h in HalfTerm],
        errors=errors or {},
        summary=summary or [],
        typed=typed or {},
        url=_url(page.cycle, page.urn),
    )


@router.get(BASE, response_class=HTMLResponse)
def support_page(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    return _page(request, rt, cycle, urn)


@router.post(BASE + "/actions", response_class=HTMLResponse)
def add_action(
    request: Request,
    cycle: str,
    urn: int,
    ebi: Annotated[str, Form(max_length=10)] = "",
    title: Annotated[str, Form(max_length=NAME_MAX)] = "",
    owner: Annotated[str, Form(max_length=NAME_MAX)] = "",
    success_criteria: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    due_half_term: Annotated[str, Form(max_length=20)] = "",
    due: Annotated[str, Form(max_length=20)] = "",
    supporting: Annotated[str, Form(max_length=10)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    typed = {
        "ebi": ebi,
        "title": title,
        "owner": owner,
        "success_criteria": success_criteria,
        "due_half_term": due_half_term,
        "due": due,
        "supporting": supporting,
    }
    actions.support_page(rt, cycle=cycle, urn=urn)  # 404 first for anyone with no part in it
    errors: dict[str, str] = {}
    if not ebi.isdigit():
        errors["ebi"] = "Choose the Even Better If this action comes from"
    for name, words in (
        ("title", "Say what the action is"),
        ("owner", "Say who owns the action"),
        ("success_criteria", "Say how you will know it has worked"),
    ):
        if not typed[name].strip():
            errors[name] = words
    due_day = None
    if due:
        try:
            due_day = date.fromisoformat(due)
        except ValueError:
            errors["due"] = "Enter the date as a date, for example 2027-03-26"
    half = HalfTerm(due_half_term) if due_half_term in set(HalfTerm) else None
    if half is None and due_day is None and "due" not in errors:
        errors["due_half_term"] = "Choose the half-term it is due by, or give a date"
    elif half is not None and due_day is not None:
        errors["due"] = "Give a half-term or a date, not both"
    if not errors:
        try:
            actions.add_action(
                rt,
                cycle=cycle,
                urn=urn,
                ebi=int(ebi),
                title=title,
                owner=owner,
                success_criteria=success_criteria,
                due=due_day,
                due_half_term=half,
                supporting_urn=int(supporting) if supporting.isdigit() else None,
            )
        except InvalidInput as exc:
            return _page(
                request, rt, cycle, urn, status_code=400, summary=[exc.message], typed=typed
            )
        return RedirectResponse(_url(cycle, urn, "?added=1"), status_code=303)
    return _page(request, rt, cycle, urn, status_code=400, errors=errors, typed=typed)


@router.post(BASE + "/actions/{number}/update", response_class=HTMLResponse)
def update_action(
    request: Request,
    cycle: str,
    urn: int,
    number: int,
    rag: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    actions.support_page(rt, cycle=cycle, urn=urn)
    errors = {}
    if rag not in RAG_WORDS:
        errors[f"rag-{number}"] = "Choose the action's status now"
    if not note.strip():
        errors[f"note-{number}"] = "Say what has changed since the last update"
    if not errors:
        try:
            actions.update_action(rt, cycle=cycle, urn=urn, number=number, rag=Rag(rag), note=note)
        except InvalidInput as exc:
            errors[f"note-{number}"] = exc.message
    if errors:
        typed = {f"rag-{number}": rag, f"note-{number}": note}
        return _page(request, rt, cycle, urn, status_code=400, errors=errors, typed=typed)
    return RedirectResponse(_url(cycle, urn, f"?updated={number}#action-{number}"), status_code=303)


@router.post(BASE + "/actions/{number}/note", response_class=HTMLResponse)
def supporting_note(
    request: Request,
    cycle: str,
    urn: int,
    number: int,
    note: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    actions.support_page(rt, cycle=cycle, urn=urn)
    field = f"support-note-{number}"
    problem = None if note.strip() else "Say what your school has seen or done"
    if problem is None:
        try:
            actions.add_supporting_note(rt, cycle=cycle, urn=urn, number=number, note=note)
        except InvalidInput as exc:
            problem = exc.message
    if problem is not None:
        return _page(
            request, rt, cycle, urn, status_code=400, errors={field: problem}, typed={field: note}
        )
    return RedirectResponse(_url(cycle, urn, f"?noted={number}#action-{number}"), status_code=303)


@router.post(BASE + "/plan", response_class=HTMLResponse)
def move_plan(
    request: Request,
    cycle: str,
    urn: int,
    step: Annotated[str, Form(max_length=40)] = "",
    what_changed: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    actions.support_page(rt, cycle=cycle, urn=urn)
    if step == "review_impact" and not what_changed.strip():
        return _page(
            request,
            rt,
            cycle,
            urn,
            status_code=400,
            errors={"what_changed": "Say what changed as a result of the support"},
        )
    try:
        plans.move_support_plan(rt, cycle=cycle, urn=urn, step=step, what_changed=what_changed)
    except InvalidInput as exc:
        return _page(request, rt, cycle, urn, status_code=400, summary=[exc.message])
    return RedirectResponse(_url(cycle, urn, "?moved=1"), status_code=303)
