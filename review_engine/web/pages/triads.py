"""Triads in the facilitator's console: propose them with the solver (preview, then assign),
read why each host has its visitors, change one host's visitors with the constraints checked
as they are chosen, and pin a visitor to a host (or keep one away) for the solver."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.errors import NotFound, ReviewEngineError
from review_engine.runtime import Runtime
from review_engine.services import clusters, cycles, triads
from review_engine.web.pages.cycles import cycle_url, facilitated, hidden, words
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

PAGE = "/cycles/{cycle:path}/triads"
OPEN_VISITS = ("awaiting_triad", "triad_assigned")


def _page(
    request: Request,
    rt: Runtime,
    cycle: str,
    *,
    host: int | None = None,
    chosen: list[int] | None = None,
    lead: int | None = None,
    check: triads.TriadCheck | None = None,
    proposal: triads.Proposal | None = None,
    visitors: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    summary = facilitated(rt, cycle)
    status = hidden(cycles.cycle_status, rt, cycle=summary.cycle)
    rows = hidden(triads.show, rt, cycle=summary.cycle)
    pins = hidden(triads.list_pins, rt, cycle=summary.cycle)
    schools = [(s.urn, s.name) for s in status.schools]
    names = dict(schools)
    visit_machine = next((m for m in status.machines if m == "peer_visit"), None)
    visit_state = {
        s.urn: s.states.get(visit_machine, "") if visit_machine else "" for s in status.schools
    }
    by_host = {r.host: r for r in rows}
    if visitors is None:  # the cluster's setting, until the facilitator chooses another
        visitors = clusters.cluster_settings(rt, name=summary.cluster).visitors_per_host
    explanation: list[str] | None = None
    if host is not None:
        if host not in names:
            raise HTTPException(404)
        try:
            explanation = triads.explain(rt, cycle=summary.cycle, host=host)
        except NotFound:
            explanation = None
        row = by_host.get(host)
        if chosen is None:
            chosen = list(row.visitors) if row else []
            lead = row.lead if row else None
    return render(
        request,
        "triads.html",
        status_code=status_code,
        title=f"Triads: {summary.cycle}",
        summary=summary,
        rows=rows,
        by_host=by_host,
        schools=schools,
        names=names,
        unassigned=[u for u, _ in schools if u not in by_host],
        visit_state=visit_state,
        open_visits=OPEN_VISITS,
        pins=pins,
        host=host,
        chosen=chosen or [],
        lead=lead,
        check=check,
        explanation=explanation,
        proposal=proposal,
        visitors=visitors,
        error=error,
        notice=request.query_params.get("done", ""),
        done_hosts=request.query_params.get("hosts", ""),
        done_km=request.query_params.get("km", ""),
        **words(),
    )


@router.get(PAGE, response_class=HTMLResponse)
def triads_page(
    request: Request,
    cycle: str,
    host: Annotated[int | None, Query(ge=1, le=99_999_999)] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    return _page(request, rt, cycle, host=host)


@router.post(PAGE + "/propose", response_class=HTMLResponse)
def propose(
    request: Request,
    cycle: str,
    visitors: Annotated[int, Form(ge=1, le=6)] = 3,
    preview: Annotated[str, Form(max_length=5)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    summary = facilitated(rt, cycle)
    try:
        proposal = triads.propose(
            rt, cycle=summary.cycle, visitors=visitors, dry_run=preview == "yes"
        )
    except ReviewEngineError as exc:
        return _page(request, rt, cycle, visitors=visitors, error=exc.message, status_code=400)
    if not proposal.stored:
        return _page(request, rt, cycle, proposal=proposal, visitors=visitors)
    km = round(proposal.breakdown.get("distance_km", 0))
    query = urlencode({"done": "assigned", "hosts": len(proposal.triads), "km": km})
    return RedirectResponse(cycle_url(summary.cycle, "triads") + f"?{query}", status_code=303)


def _chosen(visitor: list[int], lead: int | None) -> tuple[list[int], int | None]:
    chosen = sorted(set(visitor))
    if lead is None:
        lead = chosen[0] if chosen else None
    return chosen, lead


@router.post(PAGE + "/check", response_class=HTMLResponse)
def check(
    request: Request,
    cycle: str,
    host: Annotated[int, Form(ge=1, le=99_999_999)],
    visitor: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    lead: Annotated[int | None, Form()] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    """The chosen visitors checked as they are chosen (htmx): the problems, or that all is well."""
    summary = facilitated(rt, cycle)
    chosen, lead = _chosen(visitor, lead)
    found = hidden(
        triads.check_triad, rt, cycle=summary.cycle, host=host, visitors=chosen, lead=lead
    )
    return render(request, "triads_check.html", check=found)


@router.post(PAGE + "/set", response_class=HTMLResponse)
def set_visitors(
    request: Request,
    cycle: str,
    host: Annotated[int, Form(ge=1, le=99_999_999)],
    visitor: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    lead: Annotated[int | None, Form()] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    summary = facilitated(rt, cycle)
    chosen, lead = _chosen(visitor, lead)
    found: triads.TriadCheck = hidden(
        triads.check_triad, rt, cycle=summary.cycle, host=host, visitors=chosen, lead=lead
    )
    if found.ok:
        try:
            triads.set_triad(rt, cycle=summary.cycle, host=host, visitors=chosen, lead=lead)
        except ReviewEngineError as exc:
            found = triads.TriadCheck(host, [exc.message], found.notes)
    if not found.ok:
        return _page(
            request,
            rt,
            cycle,
            host=host,
            chosen=chosen,
            lead=lead,
            check=found,
            status_code=400,
        )
    query = urlencode({"host": host, "done": "saved"})
    return RedirectResponse(
        cycle_url(summary.cycle, "triads") + f"?{query}#change", status_code=303
    )


@router.post(PAGE + "/pin", response_class=HTMLResponse)
def pin(
    request: Request,
    cycle: str,
    host: Annotated[int, Form(ge=1, le=99_999_999)],
    visitor: Annotated[int, Form(ge=1, le=99_999_999)],
    kind: Annotated[str, Form(max_length=10)] = "must",
    rt: Runtime = Depends(acting),
) -> Response:
    summary = facilitated(rt, cycle)
    if kind not in ("must", "must_not") or host == visitor:
        return _page(
            request,
            rt,
            cycle,
            host=host,
            error="Choose a visiting school other than the host, and whether it must visit.",
            status_code=400,
        )
    hidden(triads.pin, rt, cycle=summary.cycle, host=host, visitor=visitor, must=kind == "must")
    query = urlencode({"host": host, "done": "pinned"})
    return RedirectResponse(cycle_url(summary.cycle, "triads") + f"?{query}#pins", status_code=303)
