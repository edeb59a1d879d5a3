"""CSRF protection and the security headers every response carries.

State changes only on POST (and the API's PUT/DELETE). Each such request must come from our
own origin (Origin, else Referer, when the browser sends one) and carry the CSRF token: the
session's once signed in, before that a random token kept in a cookie (double submit). The
API with a personal token (Authorization: Bearer) has no cookie to abuse and needs neither.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import UploadFile

from review_engine.web.session import BEARER, CSRF_COOKIE, SESSION_COOKIE, optional_visitor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 2 * 1024 * 1024  # the largest request body accepted (uploads included)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Sign-in links carry a token: never pass it to another site. (With "no-referrer",
    # browsers send `Origin: null` on our own form posts, which the Origin check refuses.)
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class CsrfRejected(Exception):
    """A state-changing request without our origin or token: refused with 403."""


def _origin_ok(request: Request) -> bool:
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return claimed is None
    ours = {request.url.netloc}
    public_url = request.app.state.runtime.settings.public_url
    if public_url:
        ours.add(urlsplit(public_url).netloc)
    return urlsplit(claimed).netloc in ours


async def verify_csrf(request: Request) -> None:
    """Every route depends on this: a no-op for reads, the check for every change."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith(BEARER):
        return
    if request.url.path.startswith("/api/") and SESSION_COOKIE not in request.cookies:
        return  # no credentials to abuse: the route answers 401 (sign in first)
    if not _origin_ok(request):
        raise CsrfRejected()
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        sent = None if isinstance(value, UploadFile) else value
    visitor = optional_visitor(request)
    expected = visitor.csrf_token if visitor else request.cookies.get(CSRF_COOKIE)
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRejected()


async def headers_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Refuse oversized bodies, give first-time visitors a pre-session CSRF token, and add
    the security headers to every response."""
    length = request.headers.get("content-length")
    if length and (not length.isdigit() or int(length) > MAX_BODY):
        response: Response = Response(
            "The upload is too large: the limit is 2 MB.", status_code=413
        )
    else:
        fresh = None
        if CSRF_COOKIE not in request.cookies:
            fresh = secrets.token_urlsafe(24)
        request.state.anonymous_csrf = request.cookies.get(CSRF_COOKIE) or fresh
        response = await call_next(request)
        if fresh is not None:
            response.set_cookie(
                CSRF_COOKIE,
                fresh,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
                path="/",
            )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
