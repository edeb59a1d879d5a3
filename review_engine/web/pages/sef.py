"""The self-evaluation page: the school fills in its SEF (or uploads the file), saves drafts
as it types and submits; the facilitator accepts it or returns it with a reason; reviewers
read it; anyone else is told there is no such page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.clock import to_london
from review_engine.core.phases import SelfReviewState
from review_engine.core.sef_file import FIELDS, FORM_QUESTION, form_field
from review_engine.errors import FormRejected, InvalidInput, NotFound
from review_engine.runtime import Runtime
from review_engine.services import drafts, sef
from review_engine.web.rendering import page_url, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

BASE = "/cycles/{cycle:path}/schools/{urn}/sef"
REASON_MAX = 10_000

STATE_WORDS = {
    SelfReviewState.NOT_STARTED: "Not started",
    SelfReviewState.DRAFTING: "Being drafted",
    SelfReviewState.SUBMITTED: "Submitted, waiting for the facilitator",
    SelfReviewState.RETURNED: "Returned by the facilitator",
    SelfReviewState.ACCEPTED: "Accepted",
}
STATE_TAGS = {
    SelfReviewState.NOT_STARTED: "tag-grey",
    SelfReviewState.DRAFTING: "tag-amber",
    SelfReviewState.SUBMITTED: "tag-amber",
    SelfReviewState.RETURNED: "tag-red",
    SelfReviewState.ACCEPTED: "tag-green",
}


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (already read and cached by the CSRF check)."""
    form = await request.form()
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _page(rt: Runtime, cycle: str, urn: int, version: int | None = None) -> sef.SefPage:
    try:
        return sef.sef_page(rt, cycle=cycle, urn=urn, version=version)
    except NotFound:
        raise HTTPException(404) from None  # the same page whether hidden or missing


def _values_from(page: sef.SefPage) -> dict[str, Any]:
    """What the form shows: the draft, else the latest version, else nothing."""
    if page.draft is not None:
        content = page.draft.content
        found = content.get("areas")
        areas: dict[str, Any] = found if isinstance(found, dict) else {}
        return {
            "enquiry_question": str(content.get("enquiry_question", "")),
            "areas": {
                a.key: {
                    k: str(_field(areas.get(a.key), k)) for k in ("grade", *(f for f, _ in FIELDS))
                }
                for a in page.framework.areas
            },
        }
    shown = {a.key: a for a in page.shown.areas} if page.shown else {}
    return {
        "enquiry_question": page.shown.enquiry_question if page.shown else "",
        "areas": {
            a.key: {
                "grade": shown[a.key].grade if a.key in shown else "",
                "strengths": shown[a.key].strengths if a.key in shown else "",
                "areas_for_development": (
                    shown[a.key].areas_for_development if a.key in shown else ""
                ),
                "evidence": shown[a.key].evidence if a.key in shown else "",
            }
            for a in page.framework.areas
        },
    }


def _field(area: object, key: str) -> object:
    return area.get(key, "") if isinstance(area, dict) else ""


def _values_posted(page: sef.SefPage, fields: dict[str, str]) -> dict[str, Any]:
    return {
        "enquiry_question": fields.get(FORM_QUESTION, ""),
        "areas": {
            a.key: {
                k: fields.get(form_field(a.key, k), "") for k in ("grade", *(f for f, _ in FIELDS))
            }
            for a in page.framework.areas
        },
    }


def _show(
    request: Request,
    page: sef.SefPage,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    upload_error: str | None = None,
    decision_error: str | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "sef.html",
        status_code=status_code,
        title=f"Self-evaluation: {page.school}",
        page=page,
        values=values if values is not None else _values_from(page),
        errors=errors or {},
        upload_error=upload_error,
        decision_error=decision_error,
        reason=reason,
        fields=FIELDS,
        state_words=STATE_WORDS.get(SelfReviewState(page.state), page.state),
        state_tag=STATE_TAGS.get(SelfReviewState(page.state), "tag-grey"),
        base=page_url(page.cycle, page.urn, "sef"),
        notice=request.query_params.get("done", ""),
    )


@router.get(BASE, response_class=HTMLResponse)
def sef_page(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    return _show(request, _page(rt, cycle, urn))


@router.get(BASE + "/versions/{version}", response_class=HTMLResponse)
def sef_version(
    request: Request, cycle: str, urn: int, version: int, rt: Runtime = Depends(acting)
) -> Response:
    page = _page(rt, cycle, urn, version)
    assert page.shown is not None
    return render(
        request,
        "sef_version.html",
        title=f"Self-evaluation version {version}: {page.school}",
        page=page,
        base=page_url(page.cycle, page.urn, "sef"),
    )


def _areas(page: sef.SefPage, fields: dict[str, str]) -> list[dict[str, str]]:
    return [
        {
            "key": a.key,
            **{k: fields.get(form_field(a.key, k), "") for k in ("grade", *(f for f, _ in FIELDS))},
        }
        for a in page.framework.areas
    ]


@router.post(BASE + "/draft", response_class=HTMLResponse)
def save_draft(
    request: Request,
    cycle: str,
    urn: int,
    fields: dict[str, str] = Depends(form_fields),
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    values = _values_posted(page, fields)
    htmx = request.headers.get("HX-Request") == "true"
    try:
        saved = drafts.save_draft(rt, cycle=page.cycle, urn=urn, kind="sef", content=values)
    except InvalidInput as exc:
        if htmx:
            return render(
                request, "sef_saved.html", status_code=400, saved_at=None, error=exc.message
            )
        return _show(request, page, values=values, errors={"form": exc.message}, status_code=400)
    if htmx:
        return render(
            request, "sef_saved.html", saved_at=f"{to_london(saved.saved_at):%H:%M}", error=None
        )
    return RedirectResponse(page_url(page.cycle, urn, "sef") + "?done=saved", status_code=303)


@router.post(BASE + "/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    cycle: str,
    urn: int,
    fields: dict[str, str] = Depends(form_fields),
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    try:
        sef.submit_sef_form(
            rt,
            cycle=page.cycle,
            urn=urn,
            enquiry_question=fields.get(FORM_QUESTION, ""),
            areas=_areas(page, fields),
        )
    except FormRejected as exc:
        values = _values_posted(page, fields)
        return _show(request, page, values=values, errors=exc.errors, status_code=400)
    except InvalidInput as exc:
        values = _values_posted(page, fields)
        return _show(request, page, values=values, errors={"form": exc.message}, status_code=400)
    return RedirectResponse(page_url(page.cycle, urn, "sef") + "?done=submitted", status_code=303)


@router.post(BASE + "/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    cycle: str,
    urn: int,
    file: Annotated[UploadFile | None, File()] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    data = file.file.read(sef.SEF_UPLOAD_LIMIT + 1) if file is not None else b""
    try:
        sef.submit_sef_upload(
            rt, cycle=page.cycle, urn=urn, filename=(file.filename or "") if file else "", data=data
        )
    except InvalidInput as exc:
        return _show(request, page, upload_error=exc.message, status_code=400)
    return RedirectResponse(page_url(page.cycle, urn, "sef") + "?done=submitted", status_code=303)


@router.post(BASE + "/decision", response_class=HTMLResponse)
def decide(
    request: Request,
    cycle: str,
    urn: int,
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    page = _page(rt, cycle, urn)
    if decision not in ("accept", "return"):
        return _show(request, page, decision_error="Choose Accept or Return.", status_code=400)
    if decision == "return" and not reason.strip():
        return _show(
            request,
            page,
            decision_error="Say why you are returning it, so the school knows what to change.",
            status_code=400,
        )
    try:
        sef.decide_sef(
            rt,
            cycle=page.cycle,
            urn=urn,
            accept=decision == "accept",
            reason=reason.strip() if decision == "return" else None,
        )
    except InvalidInput as exc:
        return _show(request, page, decision_error=exc.message, reason=reason, status_code=400)
    done = "accepted" if decision == "accept" else "returned"
    return RedirectResponse(page_url(page.cycle, urn, "sef") + f"?done={done}", status_code=303)
