"""What the Inside Knowledge pages share: who is reading (signed in or the public), the one
404 for a record the reader may not see, downloads, and the words for ratings and states.

No `router` here, so the app does not mount this module; `knowledge.py` (the public
prospectus and booking), `knowledge_visits.py` (a visiting school's bookings),
`knowledge_host.py` (a host's offers) and `knowledge_admin.py` (nominations and the quality
report) use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from review_engine.errors import NotFound, NotPermitted
from review_engine.runtime import VIA_WEB, Runtime
from review_engine.services.knowledge.views import Document
from review_engine.web.rendering import PAGE_HEADERS
from review_engine.web.session import base_runtime, optional_visitor

HOME = "/inside-knowledge"
PROSPECTUS = "/prospectus"
TEXT_MAX = 4000
RATINGS = {
    1: "1: not useful",
    2: "2: a little useful",
    3: "3: useful",
    4: "4: very useful",
    5: "5: extremely useful",
}
STATE_TAGS = {  # an offer's or a booking's state -> the colour of its tag
    "published": "tag-green",
    "confirmed": "tag-green",
    "attended": "tag-green",
    "full": "tag-amber",
    "waitlisted": "tag-amber",
    "held": "tag-amber",
    "requested": "tag-grey",
    "draft": "tag-grey",
    "closed": "tag-grey",
    "cancelled": "tag-red",
    "no_show": "tag-red",
}


def reader(request: Request) -> Runtime:
    """The runtime for a page anyone may read: acting as the signed-in person when there is
    one (so the page shows their booking), else as the app itself, which is nobody: the
    services then show only what the public may see."""
    rt = base_runtime(request)
    person = optional_visitor(request)
    if person is None:
        return rt
    return rt.acting_as(person.email).reached_by(VIA_WEB)


def no_such_page() -> HTTPException:
    """The answer for a record that is not there or not the reader's to see: exactly the
    page of an address that does not exist."""
    return HTTPException(status_code=404)


@contextmanager
def or_no_such_page() -> Iterator[None]:
    """Turn the services' NotFound and NotPermitted into the 404 of no such page."""
    try:
        yield
    except (NotFound, NotPermitted):
        raise no_such_page() from None


def offer_url(offer: int) -> str:
    """An offer as anyone reads it in the prospectus."""
    return f"{PROSPECTUS}/offers/{offer}"


def manage_url(offer: int) -> str:
    """An offer as its host (or an admin) runs it."""
    return f"{HOME}/offers/{offer}"


def booking_url(booking: int) -> str:
    return f"{HOME}/bookings/{booking}"


def download(document: Document, *, inline: bool = False) -> Response:
    how = "inline" if inline else "attachment"
    return Response(
        document.content,
        media_type=document.media_type,
        headers={**PAGE_HEADERS, "Content-Disposition": f'{how}; filename="{document.filename}"'},
    )


def globals_for_templates() -> dict[str, Any]:
    """Helpers every Inside Knowledge template uses."""
    return {
        "offer_url": offer_url,
        "manage_url": manage_url,
        "booking_url": booking_url,
        "ratings": RATINGS,
        "state_tags": STATE_TAGS,
    }
