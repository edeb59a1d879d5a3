"""Who is asking: the session cookie (or a personal API token) turned into the acting person.

A request is resolved once (`visitor`), then every service call runs as that person
(`acting`); nobody comes in through the web as the operator.
"""

from __future__ import annotations

from fastapi import Depends, Request

from review_engine.runtime import VIA_API, VIA_WEB, Runtime
from review_engine.services import signin

SESSION_COOKIE = "review_session"
CSRF_COOKIE = "review_csrf"
BEARER = "bearer "


class SignInRequired(Exception):
    """No valid session: pages send the person to sign in, the API answers 401."""


def base_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def optional_visitor(request: Request) -> signin.SignedIn | None:
    """The signed-in person, or None; looked up once per request."""
    if hasattr(request.state, "visitor"):
        found: signin.SignedIn | None = request.state.visitor
        return found
    rt = base_runtime(request)
    found = None
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith(BEARER):
        found = signin.resolve_api_token(rt, token=authorization[len(BEARER) :].strip())
    elif token := request.cookies.get(SESSION_COOKIE):
        found = signin.resume(rt, token=token)
    request.state.visitor = found
    return found


def visitor(request: Request) -> signin.SignedIn:
    found = optional_visitor(request)
    if found is None:
        raise SignInRequired()
    return found


def acting(request: Request, person: signin.SignedIn = Depends(visitor)) -> Runtime:
    """The runtime acting as the signed-in person: what every page's services run as (and
    whether through a page or the API, for the access log)."""
    through_api = request.headers.get("authorization", "").lower().startswith(BEARER)
    return (
        base_runtime(request)
        .acting_as(person.email)
        .reached_by(VIA_API if through_api else VIA_WEB)
    )
