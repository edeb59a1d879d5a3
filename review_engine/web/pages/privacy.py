"""The privacy notice (UK GDPR, articles 13 and 14): public, no sign-in needed, linked from
every page's footer. Who the controller is comes from the settings (REVIEW_PRIVACY_CONTROLLER,
REVIEW_PRIVACY_CONTACT); how long records are kept, from the retention policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.runtime import Runtime
from review_engine.web.rendering import render
from review_engine.web.session import base_runtime, optional_visitor

router = APIRouter(include_in_schema=False)

# How long each kind of record is kept before it is anonymised or deleted, in words: the
# defaults of the retention policy (`review retention purge`), as the programme may set them.
RETENTION = (
    (
        "Self-evaluations, visit plans, write-ups, support plans and feedback",
        "the year of the review and six more years, like other school improvement records",
    ),
    ("The access log (who viewed or downloaded a record)", "two years"),
    ("Sign-in links and sessions", "deleted when they expire: 15 minutes and 12 hours"),
    ("E-mails waiting to be sent, and the record of those sent", "one year"),
    (
        "A person's name and e-mail address once they leave the programme",
        "anonymised two years after they were deactivated, unless a record is on hold",
    ),
)


def _notice(rt: Runtime) -> dict[str, Any]:
    settings = rt.settings
    return {
        "controller": settings.privacy_controller,
        "contact": settings.privacy_contact,
        "retention": RETENTION,
    }


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> Response:
    optional_visitor(request)  # the header shows who is signed in, if anyone is
    return render(request, "privacy.html", title="Privacy notice", **_notice(base_runtime(request)))
