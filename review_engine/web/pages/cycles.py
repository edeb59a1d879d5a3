"""The facilitator's console for cycles: the list and the start of a cycle (with its checks on
a confirmation step), the dated plan as a timeline, the SEFs to decide, the history with
filters and every document of the cycle as one zip. Anyone who does not run the cycle is told
there is no such page, exactly as for a cycle that does not exist."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from review_engine.core.phases import SelfReviewState, any_state_words, trigger_words
from review_engine.core.phases import cycle_words as phase_words
from review_engine.documents.files import safe_filename
from review_engine.errors import InvalidInput, NotFound, NotPermitted, ReviewEngineError
from review_engine.runtime import Runtime
from review_engine.services import cycles, docs, history, plans, sef
from review_engine.web.rendering import PAGE_HEADERS, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

REASON_MAX = 10_000
CHUNK = 64 * 1024


def cycle_url(cycle: str, page: str = "") -> str:
    """A page of the cycle's console: /cycles/<cycle>/<page>."""
    return f"/cycles/{quote(cycle, safe='/')}" + (f"/{page}" if page else "")


def words() -> dict[str, Any]:
    return {
        "phase_words": phase_words,
        "state_words": any_state_words,
        "trigger_words": trigger_words,
        "cycle_url": cycle_url,
    }


def hidden(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A service call whose refusal (not found, or not theirs) is the same 404 page as for
    anything that does not exist."""
    try:
        return call(*args, **kwargs)
    except (NotFound, NotPermitted):
        raise HTTPException(404) from None
    except InvalidInput:  # a cycle reference that cannot be one
        raise HTTPException(404) from None


def facilitated(rt: Runtime, cycle: str, *, admin_reads: bool = False) -> cycles.CycleSummary:
    found: cycles.CycleSummary = hidden(
        cycles.facilitated_cycle, rt, cycle=cycle, admin_reads=admin_reads
    )
    return found


# --- the list of cycles, and starting one -------------------------------------------------------


def _years(today: date) -> list[str]:
    first = today.year if today.month >= 8 else today.year - 1
    return [f"{y}-{str(y + 1)[2:]}" for y in (first - 1, first, first + 1, first + 2)]


def _list(
    request: Request,
    rt: Runtime,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clusters = hidden(cycles.console, rt)
    workflows = sorted(
        ((w.name, w.title or w.name) for w in rt.catalog.all().values()), key=lambda w: w[1]
    )
    today = rt.clock.now().date()
    years = _years(today)
    return render(
        request,
        "cycles.html",
        status_code=status_code,
        title="Cycles",
        clusters=clusters,
        startable=[c for c in clusters],
        workflows=workflows,
        years=years,
        errors=errors or {},
        values=values or {"year": years[1], "workflow": "triad-peer-review", "cluster": ""},
        **words(),
    )


@router.get("/cycles", response_class=HTMLResponse)
def cycle_list(request: Request, rt: Runtime = Depends(acting)) -> Response:
    return _list(request, rt)


@router.post("/cycles", response_class=HTMLResponse)
def start_cycle(
    request: Request,
    cluster: Annotated[str, Form(max_length=200)] = "",
    year: Annotated[str, Form(max_length=20)] = "",
    workflow: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
    start_at: Annotated[str, Form(max_length=20)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    """Step 1 (no `confirm`): the checks, on a confirmation page. Step 2: start, then the plan."""
    hidden(cycles.console, rt)  # only people who run clusters get this far
    values = {"cluster": cluster, "year": year, "workflow": workflow}
    errors = {}
    if not cluster:
        errors["cluster"] = "Choose the cluster"
    if not year:
        errors["year"] = "Choose the academic year"
    if errors:
        return _list(request, rt, errors=errors, values=values, status_code=400)
    try:
        preview = cycles.preview_start(rt, cluster=cluster, year=year, workflow=workflow or None)
    except NotFound as exc:
        if exc.kind == "cluster":
            raise HTTPException(404) from None
        return _list(request, rt, errors={"form": exc.message}, values=values, status_code=400)
    except NotPermitted:
        raise HTTPException(404) from None
    except ReviewEngineError as exc:
        return _list(request, rt, errors={"form": exc.message}, values=values, status_code=400)
    if confirm != "yes":
        return render(
            request,
            "cycle_start.html",
            title=f"Start the {year} cycle of {preview.cluster}",
            preview=preview,
            values=values,
            moved_days=cycles.MOVED_DEADLINE_SCHOOL_DAYS,
            errors={},
            **words(),
        )
    if preview.mid_year and start_at not in ("current", "beginning"):
        return render(
            request,
            "cycle_start.html",
            status_code=400,
            title=f"Start the {year} cycle of {preview.cluster}",
            preview=preview,
            values=values,
            moved_days=cycles.MOVED_DEADLINE_SCHOOL_DAYS,
            errors={"start_at": "Choose where the cycle starts"},
            **words(),
        )
    try:
        started = cycles.start_cycle(
            rt,
            cluster=cluster,
            year=year,
            workflow=workflow or None,
            from_current_phase=start_at == "current",
        )
    except ReviewEngineError as exc:
        return _list(request, rt, errors={"form": exc.message}, values=values, status_code=400)
    return RedirectResponse(cycle_url(started.cycle, "plan") + "?done=started", status_code=303)


# --- the plan ------------------------------------------------------------------------------------


@router.get("/cycles/{cycle:path}/plan", response_class=HTMLResponse)
def plan_page(request: Request, cycle: str, rt: Runtime = Depends(acting)) -> Response:
    summary = facilitated(rt, cycle, admin_reads=True)
    view = hidden(plans.show_plan, rt, cycle=summary.cycle)
    today = rt.clock.now().date()
    upcoming = next(
        (n for n, s in enumerate(view.steps) if s.applied_at is None and s.due_on >= today),
        None,
    )
    return render(
        request,
        "cycle_plan.html",
        title=f"Plan: {summary.cycle}",
        summary=summary,
        view=view,
        today=today,
        upcoming=upcoming,
        notice=request.query_params.get("done", ""),
        moves=hidden(cycles.phase_moves, rt, cycle=summary.cycle),
        error=None,
        **words(),
    )


@router.post("/cycles/{cycle:path}/move", response_class=HTMLResponse)
def move_cycle(
    request: Request,
    cycle: str,
    trigger: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    """Open the next phase before its date, close or cancel the cycle: the workflow says who
    may, and whether a reason is needed."""
    summary = facilitated(rt, cycle)
    moves = {m.trigger: m for m in hidden(cycles.phase_moves, rt, cycle=summary.cycle)}
    move = moves.get(trigger)
    if move is None:
        raise HTTPException(404)
    if move.needs_reason and not reason.strip():
        view = hidden(plans.show_plan, rt, cycle=summary.cycle)
        return render(
            request,
            "cycle_plan.html",
            status_code=400,
            title=f"Plan: {summary.cycle}",
            summary=summary,
            view=view,
            today=rt.clock.now().date(),
            upcoming=None,
            notice="",
            moves=list(moves.values()),
            error="Say why, for the history: the reason is kept with the change.",
            **words(),
        )
    cycles.move_cycle(rt, cycle=summary.cycle, trigger=trigger, reason=reason.strip() or None)
    return RedirectResponse(cycle_url(summary.cycle, "plan") + "?done=moved", status_code=303)


# --- the SEFs to decide ---------------------------------------------------------------------------


def _sefs(
    request: Request,
    rt: Runtime,
    cycle: str,
    *,
    errors: dict[int, str] | None = None,
    reasons: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    summary = facilitated(rt, cycle)
    label, rows = hidden(cycles.sef_overview, rt, cycle=summary.cycle)
    waiting = sum(1 for r in rows if r.state == SelfReviewState.SUBMITTED)
    return render(
        request,
        "cycle_sefs.html",
        status_code=status_code,
        title=f"Self-evaluations: {label}",
        summary=summary,
        rows=rows,
        waiting=waiting,
        errors=errors or {},
        reasons=reasons or {},
        notice=request.query_params.get("done", ""),
        school=request.query_params.get("school", ""),
        **words(),
    )


@router.get("/cycles/{cycle:path}/sefs", response_class=HTMLResponse)
def sefs_page(request: Request, cycle: str, rt: Runtime = Depends(acting)) -> Response:
    return _sefs(request, rt, cycle)


@router.post("/cycles/{cycle:path}/sefs", response_class=HTMLResponse)
def decide_sef(
    request: Request,
    cycle: str,
    urn: Annotated[int, Form()],
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    summary = facilitated(rt, cycle)
    problem = None
    if decision not in ("accept", "return"):
        problem = "Choose Accept or Return."
    elif decision == "return" and not reason.strip():
        problem = "Say why you are returning it, so the school knows what to change."
    if problem is None:
        try:
            hidden(
                sef.decide_sef,
                rt,
                cycle=summary.cycle,
                urn=urn,
                accept=decision == "accept",
                reason=reason.strip() if decision == "return" else None,
            )
        except HTTPException:
            raise
        except ReviewEngineError as exc:
            problem = exc.message
    if problem is not None:
        return _sefs(
            request, rt, cycle, errors={urn: problem}, reasons={urn: reason}, status_code=400
        )
    done = "accepted" if decision == "accept" else "returned"
    return RedirectResponse(
        cycle_url(summary.cycle, "sefs") + f"?done={done}&school={urn}#sef-{urn}",
        status_code=303,
    )


# --- the history ---------------------------------------------------------------------------------


def _day_or_none(text: str, name: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Give a date as day, month and year, e.g. 2026-11-04"
        return None


@router.get("/cycles/{cycle:path}/history", response_class=HTMLResponse)
def history_page(
    request: Request,
    cycle: str,
    school: Annotated[str, Query(max_length=10)] = "",
    machine: Annotated[str, Query(max_length=60)] = "",
    person: Annotated[str, Query(max_length=320)] = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    summary = facilitated(rt, cycle)
    errors: dict[str, str] = {}
    urn = int(school) if school.isdigit() else None
    first = _day_or_none(since, "from", errors)
    last = _day_or_none(until, "to", errors)
    page = hidden(
        history.history_page,
        rt,
        cycle=summary.cycle,
        school_urn=urn,
        machine=machine or None,
        actor=person or None,
        since=first,
        until=last,
        before=before,
    )
    filters = {"school": school, "machine": machine, "person": person, "from": since, "to": until}
    older = None
    if page.older is not None:
        older = "?" + urlencode({**{k: v for k, v in filters.items() if v}, "before": page.older})
    return render(
        request,
        "cycle_history.html",
        status_code=400 if errors else 200,
        title=f"History: {summary.cycle}",
        summary=summary,
        page=page,
        filters=filters,
        errors=errors,
        older=older,
        **words(),
    )


# --- every document as one zip --------------------------------------------------------------------


@router.get("/cycles/{cycle:path}/documents.zip")
def documents_zip(cycle: str, rt: Runtime = Depends(acting)) -> Response:
    summary = facilitated(rt, cycle)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        docs.cycle_documents_zip(rt, cycle=summary.cycle, out=spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while data := spool.read(CHUNK):
                yield data
        finally:
            spool.close()

    name = safe_filename(f"documents-{summary.cycle}") + ".zip"
    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
