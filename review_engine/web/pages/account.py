"""Your account: who you are here, how you take each kind of notice (immediately, in your daily
digest, or off), your data, and your personal API tokens (make one, shown once; revoke one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery
from review_engine.core.safe_text import ID_MAX
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import notice_choices, signin
from review_engine.web.api.me import school_name
from review_engine.web.rendering import render
from review_engine.web.session import acting, visitor

router = APIRouter(include_in_schema=False)
_DELIVERIES = frozenset(d.value for d in Delivery)
_SCHOOL_STAFF = frozenset(r.value for r in Role if r.is_school_staff)

ROLES = {
    "head": "Head teacher",
    "deputy": "Deputy head teacher",
    "senior_leader": "Senior leader",
    "facilitator": "Facilitator",
    "admin": "Programme admin",
}


def _page(
    request: Request,
    rt: Runtime,
    person: signin.SignedIn,
    *,
    status_code: int = 200,
    error: str | None = None,
    name: str = "",
    revoked: int | None = None,
    saved: str | None = None,
) -> Response:
    tokens = signin.list_api_tokens(rt)
    routes_school = person.school_urn is not None and person.role in _SCHOOL_STAFF
    return render(
        request,
        "account.html",
        status_code=status_code,
        person=person,
        role=ROLES.get(person.role, person.role.replace("_", " ").capitalize()),
        school=school_name(rt, person.school_urn),
        tokens=tokens,
        error=error,
        name=name,
        revoked=next((t for t in tokens if t.id == revoked and t.revoked), None),
        notices=notice_choices.notice_settings(rt),
        deliveries=list(Delivery),
        saved=saved,
        routing_url=f"/schools/{person.school_urn}/notices" if routes_school else None,
    )


@router.get("/account", response_class=HTMLResponse)
def account(
    request: Request,
    revoked: Annotated[str | None, Query(max_length=20)] = None,
    saved: Annotated[str | None, Query(max_length=20)] = None,
    person: signin.SignedIn = Depends(visitor),
    rt: Runtime = Depends(acting),
) -> Response:
    """The notice after revoking names the token (`?revoked=ID`, only one of your own)."""
    shown = int(revoked) if revoked and revoked.isascii() and revoked.isdigit() else None
    return _page(request, rt, person, revoked=shown, saved="notices" if saved else None)


@router.post("/account/notices")
async def set_notices(request: Request, rt: Runtime = Depends(acting)) -> Response:
    """Your notices: one radio group per kind (`notice-<kind>`: immediately, digest, off);
    a kind the form does not carry stays as it is."""
    form = await request.form()
    changes: dict[NoticeKind, Delivery] = {}
    for kind in NoticeKind:
        value = form.get(f"notice-{kind.value}")
        if isinstance(value, str) and value in _DELIVERIES:
            changes[kind] = Delivery(value)
    await run_in_threadpool(notice_choices.set_notice_choices, rt, changes=changes)
    return RedirectResponse("/account?saved=notices#notices", status_code=303)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    name: Annotated[str, Form(max_length=2000)] = "",
    person: signin.SignedIn = Depends(visitor),
    rt: Runtime = Depends(acting),
) -> Response:
    if not name.strip():
        error = "Enter a name for the token, such as what it is for."
        return _page(request, rt, person, status_code=400, error=error, name=name)
    try:
        raw, token = signin.create_api_token(rt, name=name)
    except InvalidInput as exc:
        return _page(request, rt, person, status_code=400, error=exc.message, name=name)
    return render(request, "account_token.html", token=token, raw=raw)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, rt: Runtime = Depends(acting)) -> Response:
    if not 1 <= token_id <= ID_MAX:
        raise InvalidInput("there is no such token")
    signin.revoke_api_token(rt, token_id=token_id)
    return RedirectResponse(f"/account?revoked={token_id}", status_code=303)
