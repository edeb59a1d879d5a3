"""Notices: the unsubscribe link at the foot of every non-essential e-mail (no sign-in needed:
the page says what it will turn off, and a button does it), and a school's routing of each
kind of notice to roles (its head, its facilitator and programme admins change it; its senior
staff read it; anyone else finds no such page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import roles_words
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import notice_choices
from review_engine.web.rendering import render
from review_engine.web.session import acting, base_runtime

router = APIRouter(include_in_schema=False)

EMAIL_MAX = 254
SIG_MAX = 100
SCHOOL_ROLES = [r for r in Role if r.at_school]
_ROLE_VALUES = frozenset(r.value for r in SCHOOL_ROLES)


# --- the unsubscribe link ------------------------------------------------------------------


@router.get("/notices/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(
    request: Request,
    email: Annotated[str, Query(max_length=EMAIL_MAX)] = "",
    kind: Annotated[str, Query(max_length=60)] = "",
    sig: Annotated[str, Query(max_length=SIG_MAX)] = "",
    rt: Runtime = Depends(base_runtime),
) -> Response:
    """What the link would turn off, and the button; following the link changes nothing (mail
    scanners follow links)."""
    if not (email or kind or sig):
        return render(request, "notices_unsubscribe.html", link=None, error=None, done=None)
    try:
        found = notice_choices.check_unsubscribe(rt, email=email, kind=kind, sig=sig)
    except InvalidInput as exc:
        return _bad_link(request, exc)
    link = {"email": email, "kind": kind, "sig": sig}
    return render(
        request, "notices_unsubscribe.html", link=link, found=found, error=None, done=None
    )


@router.post("/notices/unsubscribe", response_class=HTMLResponse)
def unsubscribe(
    request: Request,
    email: Annotated[str, Form(max_length=EMAIL_MAX)] = "",
    kind: Annotated[str, Form(max_length=60)] = "",
    sig: Annotated[str, Form(max_length=SIG_MAX)] = "",
    rt: Runtime = Depends(base_runtime),
) -> Response:
    try:
        done = notice_choices.unsubscribe(rt, email=email, kind=kind, sig=sig)
    except InvalidInput as exc:
        return _bad_link(request, exc)
    return render(request, "notices_unsubscribe.html", link=None, error=None, done=done)


def _bad_link(request: Request, exc: InvalidInput) -> Response:
    error = exc.message[0].upper() + exc.message[1:] + "."
    return render(
        request, "notices_unsubscribe.html", status_code=400, link=None, error=error, done=None
    )


# --- a school's routing ------------------------------------------------------------------


def _routing_url(urn: int) -> str:
    return f"/schools/{urn}/notices"


@router.get("/schools/{urn}/notices", response_class=HTMLResponse)
def routing_page(
    request: Request,
    urn: int,
    saved: Annotated[str | None, Query(max_length=20)] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    routing = notice_choices.school_routing(rt, urn=urn)
    return _routing_page(request, routing, saved=bool(saved))


def _routing_page(
    request: Request,
    routing: notice_choices.SchoolRouting,
    *,
    saved: bool = False,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "notices_routing.html",
        status_code=status_code,
        routing=routing,
        roles=SCHOOL_ROLES,
        roles_words=roles_words,
        url=_routing_url(routing.urn),
        saved=saved,
        error=error,
    )


@router.post("/schools/{urn}/notices", response_class=HTMLResponse)
async def set_routing(request: Request, urn: int, rt: Runtime = Depends(acting)) -> Response:
    """The table of checkboxes (`route-<kind>`: the roles that take it); only kinds whose
    roles changed are written, all in one transaction."""
    form = await request.form()
    routing = await run_in_threadpool(notice_choices.school_routing, rt, urn=urn)
    changes: dict[NoticeKind, frozenset[Role] | None] = {}
    for route in routing.routes:
        chosen = frozenset(
            Role(v)
            for v in form.getlist(f"route-{route.kind.value}")
            if isinstance(v, str) and v in _ROLE_VALUES
        )
        if chosen != route.roles:
            changes[route.kind] = chosen
    try:
        await run_in_threadpool(notice_choices.set_school_routes, rt, urn=urn, routes=changes)
    except InvalidInput as exc:
        return _routing_page(request, routing, status_code=400, error=exc.message)
    return RedirectResponse(f"{_routing_url(urn)}?saved=1", status_code=303)


@router.post("/schools/{urn}/notices/default")
def default_routing(
    urn: int,
    kind: Annotated[str, Form(max_length=60)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    """One kind back to the programme's default."""
    found = next((k for k in NoticeKind if k.value == kind), None)
    if found is None:
        raise InvalidInput(f"{kind[:40]!r} is not a kind of notice")
    notice_choices.set_school_routing(rt, urn=urn, kind=found, roles=None)
    return RedirectResponse(f"{_routing_url(urn)}?saved=1", status_code=303)
