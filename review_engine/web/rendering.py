"""The one Jinja environment for pages (templates/web/, autoescaped) and the render helper."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from review_engine.clock import to_london

PAGES = {  # a part of a school's year -> its page (services name them, pages/ serve them)
    "sef": "sef",
    "visit": "visit",
    "writeup": "write-up",
    "support": "support",
    "feedback": "feedback",
    "access": "access",
}
PAGE_HEADERS = {"Cache-Control": "no-store"}  # pages carry personal data: never cached


def _day(value: date | datetime | None) -> str:
    """A date as a head teacher writes it: Tuesday 4 November 2026."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_london(value).date()
    return f"{value:%A} {value.day} {value:%B %Y}"


def _moment(value: datetime | None) -> str:
    """An instant in London time: 4 November 2026, 14:05."""
    if value is None:
        return ""
    local = to_london(value)
    return f"{local.day} {local:%B %Y}, {local:%H:%M}"


def page_url(cycle: str, urn: int, page: str) -> str:
    """The page for one school's part of a cycle: /cycles/<cycle>/schools/<urn>/<page>."""
    return f"/cycles/{quote(cycle, safe='/')}/schools/{urn}/{PAGES[page]}"


@cache
def environment() -> Environment:
    folder = files("review_engine.templates").joinpath("web")
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    env.globals["page_url"] = page_url
    return env


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page (or, for an htmx request, the same template's fragment when it has one)."""
    visitor = getattr(request.state, "visitor", None)
    values = {
        "request": request,
        "visitor": visitor,
        "csrf_token": csrf_for(request),
        "htmx": request.headers.get("HX-Request") == "true",
        **context,
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})


def csrf_for(request: Request) -> str:
    """The token forms carry: the session's, or before sign-in the pre-session cookie's."""
    visitor = getattr(request.state, "visitor", None)
    if visitor is not None and visitor.csrf_token:
        return str(visitor.csrf_token)
    return str(getattr(request.state, "anonymous_csrf", ""))
