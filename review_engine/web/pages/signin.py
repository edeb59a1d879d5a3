"""Sign-in by e-mail link, and sign-out.

Asking for a link answers the same whether or not the address is registered; the link opens
a page with a "Sign in" button (mail scanners that follow links do not use it up); pressing it
starts a new session. Without SMTP configured (a laptop trial) the link is also logged.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.errors import RateLimited, SignInLinkInvalid
from review_engine.runtime import Runtime
from review_engine.services import signin
from review_engine.web.rendering import render
from review_engine.web.session import SESSION_COOKIE, base_runtime, optional_visitor

router = APIRouter(include_in_schema=False)
log = logging.getLogger("review_engine.web.signin")

EMAIL_MAX = 254


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _base_url(request: Request, rt: Runtime) -> str:
    return rt.settings.public_url or str(request.base_url)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None) -> Response:
    if optional_visitor(request) is not None:
        return RedirectResponse(signin.safe_next(next), status_code=303)
    return render(request, "sign_in.html", next=signin.safe_next(next), sent=False, error=None)


@router.post("/sign-in", response_class=HTMLResponse)
def ask_for_link(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=EMAIL_MAX)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    rt: Runtime = Depends(base_runtime),
) -> Response:
    address, where = email.strip(), signin.safe_next(next)
    if not address:
        return render(
            request,
            "sign_in.html",
            status_code=400,
            next=where,
            sent=False,
            error="Enter your e-mail address.",
        )
    try:
        sent = signin.request_link(
            rt,
            email=address,
            client=_client(request),
            base_url=_base_url(request, rt),
            next_path=where,
        )
    except RateLimited as exc:
        request.state.retry_after = exc.retry_after
        return render(
            request,
            "sign_in.html",
            status_code=429,
            next=where,
            sent=False,
            error=exc.message,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if sent.message_id is not None:
        if not rt.settings.smtp_configured and sent.url:
            log.warning("sign-in link (no SMTP configured; for a trial only): %s", sent.url)
        # After the answer goes out: the page takes as long for an unknown address.
        background.add_task(signin.deliver, rt, message_id=sent.message_id)
    return render(request, "sign_in.html", next=where, sent=True, error=None)


@router.get("/sign-in/{token}", response_class=HTMLResponse)
def link_page(
    request: Request, token: str, next: str | None = None, rt: Runtime = Depends(base_runtime)
) -> Response:
    try:
        person = signin.check_link(rt, token=token)
    except SignInLinkInvalid as exc:
        return render(request, "sign_in_link.html", status_code=410, person=None, error=exc.message)
    return render(
        request, "sign_in_link.html", person=person, error=None, next=signin.safe_next(next)
    )


@router.post("/sign-in/{token}")
def use_link(
    request: Request,
    token: str,
    next: Annotated[str, Form(max_length=2000)] = "/",
    rt: Runtime = Depends(base_runtime),
) -> Response:
    try:
        session = signin.redeem_link(rt, token=token, client=_client(request))
    except SignInLinkInvalid as exc:
        return render(request, "sign_in_link.html", status_code=410, person=None, error=exc.message)
    response = RedirectResponse(signin.safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int(signin.SESSION_ABSOLUTE.total_seconds()),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, rt: Runtime = Depends(base_runtime)) -> Response:
    if token := request.cookies.get(SESSION_COOKIE):
        signin.sign_out(rt, token=token)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
