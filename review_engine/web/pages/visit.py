"""The visit page: the host (or the facilitator) sets the focus, picks a day when every school
of the triad is open, writes the agenda, records the visit as held or cancels it; the
reviewers read the plan and take the visit pack and the calendar invite; anyone else is told
there is no such page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.core.domain import Slot, VisitFocus
from review_engine.core.phases import VisitState
from review_engine.documents import Format
from review_engine.documents.invites import SLOT_TIMES
from review_engine.documents.templating import FOCUS_LABELS
from review_engine.errors import FormRejected, NotFound
from review_engine.runtime import Runtime
from review_engine.services import docs, visits
from review_engine.web.pages.sef import form_fields
from review_engine.web.rendering import page_url, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

BASE = "/cycles/{cycle:path}/schools/{urn}/visit"
MAX_ROWS = visits.MAX_AGENDA + 1
DOCUMENT_CSP = (  # a rendered document carries its own stylesheet and nothing else
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

STATE_WORDS = {
    VisitState.AWAITING_TRIAD: "Waiting for the triad",
    VisitState.TRIAD_ASSIGNED: "Triad formed: focus to choose",
    VisitState.FOCUS_AGREED: "Focus chosen: day to pick",
    VisitState.SCHEDULED: "Booked",
    VisitState.VISITED: "Visit held",
    VisitState.CANCELLED: "Cancelled",
}
STATE_TAGS = {
    VisitState.AWAITING_TRIAD: "tag-grey",
    VisitState.TRIAD_ASSIGNED: "tag-amber",
    VisitState.FOCUS_AGREED: "tag-amber",
    VisitState.SCHEDULED: "tag-green",
    VisitState.VISITED: "tag-green",
    VisitState.CANCELLED: "tag-red",
}
NOTICES = {
    "focus": "The focus is saved.",
    "date": "The visit is booked; the reviewers can add it to their calendars.",
    "agenda": "The agenda is saved.",
    "held": "The visit is recorded as held; the lead reviewer can now write it up.",
    "cancelled": "The visit is cancelled; the reviewers see why.",
}


def _page(rt: Runtime, cycle: str, urn: int) -> visits.VisitPage:
    try:
        return visits.visit_page(rt, cycle=cycle, host=urn)
    except NotFound:
        raise HTTPException(404) from None  # the same page whether hidden or missing


def _next_step(page: visits.VisitPage) -> str:
    state, view = page.visit.state, page.visit
    if state == VisitState.AWAITING_TRIAD:
        return "The facilitator forms the triads; then the host chooses what the visit looks at."
    if state == VisitState.TRIAD_ASSIGNED:
        return "The host chooses the focus and the enquiry question, then picks a day."
    if state == VisitState.FOCUS_AGREED:
        return (
            "The host picks a day when every school in the triad is open; "
            "the reviewers are then invited."
        )
    if state == VisitState.SCHEDULED and view.visit_date and view.visit_date > page.today:
        return "On the day, or after it, the host records the visit as held."
    if state == VisitState.SCHEDULED:
        return (
            "The visit day has come: the host records the visit as held, "
            "then the lead reviewer writes it up."
        )
    if state == VisitState.VISITED:
        return (
            "The lead reviewer now writes up what went well and what would be even better, "
            "for the host to agree."
        )
    return "This visit will not take place; the facilitator will say what happens next."


def _weeks(days: list[date]) -> list[tuple[date, list[date]]]:
    """Days grouped by the Monday of their week."""
    weeks: dict[date, list[date]] = {}
    for day in days:
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(day)
    return sorted(weeks.items())


def _rows_posted(fields: dict[str, str]) -> list[dict[str, str]]:
    try:
        count = min(int(fields.get("rows", "0")), MAX_ROWS)
    except ValueError:
        count = 0
    return [
        {k: fields.get(f"agenda-{n}-{k}", "") for k in ("time", "activity", "who")}
        for n in range(1, count + 1)
        if not fields.get(f"agenda-{n}-remove")
    ]


def _show(
    request: Request,
    page: visits.VisitPage,
    *,
    values: dict[str, Any] | None = None,
    rows: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    unsaved: bool = False,
) -> Response:
    view = page.visit
    shown = {
        "focus": view.focus or "",
        "area": view.focus_area or "",
        "question": view.enquiry_question or "",
        "visit_date": view.visit_date.isoformat() if view.visit_date else "",
        "slot": view.slot or "",
        "reason": "",
        **(values or {}),
    }
    if rows is None:
        rows = [{"time": a.time, "activity": a.activity, "who": a.who} for a in view.agenda]
        rows.append({"time": "", "activity": "", "who": ""})
    notice = NOTICES.get(request.query_params.get("done", ""))
    return render(
        request,
        "visit.html",
        status_code=status_code,
        title=f"Visit to {view.host_name}",
        page=page,
        view=view,
        values=shown,
        rows=rows or [{"time": "", "activity": "", "who": ""}],
        errors=errors or {},
        unsaved=unsaved,
        notice=notice,
        next_step=_next_step(page),
        state_words=STATE_WORDS.get(VisitState(view.state), view.state),
        state_tag=STATE_TAGS.get(VisitState(view.state), "tag-grey"),
        focus_labels={f.value: FOCUS_LABELS[f] for f in VisitFocus},
        slot_times={s.value: SLOT_TIMES[s] for s in Slot},
        weeks=_weeks(page.days),
        base=page_url(view.cycle, view.host, "visit"),
        sef_url=page_url(view.cycle, view.host, "sef"),
        area_titles=dict(page.areas),
    )


def _done(page: visits.VisitPage, what: str) -> Response:
    url = page_url(page.visit.cycle, page.visit.host, "visit")
    return RedirectResponse(f"{url}?done={what}", status_code=303)


@router.get(BASE, response_class=HTMLResponse)
def visit_page(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    return _show(request, _page(rt, cycle, urn))


@router.post(BASE + "/focus", response_class=HTMLResponse)
def set_focus(
    request: Request,
    cycle: str,
    urn: int,
    fields: dict[str, str] = Depends(form_fields),
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    values = {k: fields.get(k, "") for k in ("focus", "area", "question")}
    try:
        visits.set_focus_form(rt, cycle=page.visit.cycle, host=urn, **values)
    except FormRejected as exc:
        return _show(request, page, values=values, errors=exc.errors, status_code=400)
    return _done(page, "focus")


@router.post(BASE + "/date", response_class=HTMLResponse)
def set_date(
    request: Request,
    cycle: str,
    urn: int,
    fields: dict[str, str] = Depends(form_fields),
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    values = {"visit_date": fields.get("visit_date", ""), "slot": fields.get("slot", "")}
    try:
        visits.schedule_form(
            rt, cycle=page.visit.cycle, host=urn, day=values["visit_date"], slot=values["slot"]
        )
    except FormRejected as exc:
        return _show(request, page, values=values, errors=exc.errors, status_code=400)
    return _done(page, "date")


@router.post(BASE + "/agenda", response_class=HTMLResponse)
def set_agenda(
    request: Request,
    cycle: str,
    urn: int,
    fields: dict[str, str] = Depends(form_fields),
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    rows = _rows_posted(fields)
    if "add_row" in fields:  # without JavaScript: the form again, one row longer, unsaved
        rows.append({"time": "", "activity": "", "who": ""})
        return _show(request, page, rows=rows[:MAX_ROWS], unsaved=True)
    try:
        visits.set_agenda_form(rt, cycle=page.visit.cycle, host=urn, rows=rows)
    except FormRejected as exc:
        return _show(request, page, rows=rows, errors=exc.errors, status_code=400)
    return _done(page, "agenda")


@router.post(BASE + "/held", response_class=HTMLResponse)
def record_held(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    page = _page(rt, cycle, urn)
    visits.complete_form(rt, cycle=page.visit.cycle, host=urn)
    return _done(page, "held")


@router.post(BASE + "/cancel", response_class=HTMLResponse)
def cancel(
    request: Request,
    cycle: str,
    urn: int,
    fields: dict[str, str] = Depends(form_fields),
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    reason = fields.get("reason", "")
    try:
        visits.cancel_form(rt, cycle=page.visit.cycle, host=urn, reason=reason)
    except FormRejected as exc:
        return _show(request, page, values={"reason": reason}, errors=exc.errors, status_code=400)
    return _done(page, "cancelled")


def _download(data: bytes, name: str, media_type: str, *, inline: bool = False) -> Response:
    how = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{how}; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(BASE + "/pack", response_class=HTMLResponse)
def pack_html(cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    try:
        name, data = docs.visit_pack(rt, cycle=cycle, host=urn, fmt=Format.HTML)
    except NotFound:
        raise HTTPException(404) from None
    response = _download(data, name, "text/html; charset=utf-8", inline=True)
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    return response


@router.get(BASE + "/pack.pdf")
def pack_pdf(cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    try:
        name, data = docs.visit_pack(rt, cycle=cycle, host=urn, fmt=Format.PDF)
    except NotFound:
        raise HTTPException(404) from None
    return _download(data, name, "application/pdf")


@router.get(BASE + "/invite.ics")
def invite(cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    try:
        name, data = docs.visit_invite_file(rt, cycle=cycle, host=urn)
    except NotFound:
        raise HTTPException(404) from None
    return _download(data, name, "text/calendar; charset=utf-8")
