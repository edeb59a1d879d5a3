"""Errors as a person sees them: one clear line on a page (or `{"detail": ...}` from the API),
the right status code, never a traceback. A record you may not see answers 404, exactly as
one that does not exist (the services already say "not found" for both)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from review_engine import errors
from review_engine.web.rendering import render
from review_engine.web.security import CsrfRejected
from review_engine.web.session import SignInRequired

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def status_for(exc: errors.ReviewEngineError) -> int:
    if isinstance(exc, errors.NotFound):
        return 404
    if isinstance(exc, errors.NotPermitted):
        return 403
    if isinstance(exc, errors.Conflict | errors.AlreadyExists):
        return 409
    if isinstance(exc, errors.StorageError | errors.SchemaOutOfDate):
        return 503
    if getattr(exc, "retry_after", None) is not None:
        return 429
    return 400


def _answer(request: Request, status: int, message: str, title: str) -> Response:
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(getattr(request.state, "retry_after", 900))
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    response = render(request, "error.html", status_code=status, title=title, message=message)
    response.headers.update(headers)
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.ReviewEngineError)
    async def engine_error(request: Request, exc: errors.ReviewEngineError) -> Response:
        status = status_for(exc)
        if status == 429:
            request.state.retry_after = getattr(exc, "retry_after", 900)
        if status == 503:
            log.error("storage: %s", exc)
        title = {
            404: "Not found",
            403: "Not allowed",
            409: "Changed by someone else",
            429: "Too many requests",
            503: "Please try again shortly",
        }.get(status, "That did not work")
        return _answer(request, status, exc.message, title)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if request.url.path.startswith(API_PREFIX):
            return JSONResponse(
                {"detail": "sign in first: a session cookie or an Authorization: Bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = "/sign-in" if wanted == "/" else f"/sign-in?next={quote(wanted, safe='')}"
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return _answer(
            request,
            403,
            "This form has expired or came from another site. Go back, reload the page "
            "and try again.",
            "Form expired",
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "the request"
        message = f"{where}: {first.get('msg', 'is not valid')}"
        return _answer(request, 400, message, "That did not work")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return _answer(request, 404, "There is no such page.", "Not found")
        if exc.status_code == 405:
            return _answer(request, 405, "That page does not take this request.", "Not allowed")
        return _answer(request, exc.status_code, str(exc.detail), "That did not work")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(
            request,
            500,
            "Something went wrong on our side; nothing was changed. Please try again.",
            "Something went wrong",
        )
