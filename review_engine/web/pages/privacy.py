"""The privacy notice (UK GDPR, articles 13 and 14): public, no sign-in needed, linked from
every page's footer. Who the controller is comes from the settings (REVIEW_PRIVACY_CONTROLLER,
REVIEW_PRIVACY_CONTACT); how long records are kept, from the retention policy
(`core/retention.py`'s defaults, or the periods this programme set, for a signed-in reader)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.core.retention import DEFAULTS, LABELS, OUTCOMES, STARTS, period_words
from review_engine.runtime import Runtime
from review_engine.services import retention, signin
from review_engine.web.rendering import render
from review_engine.web.session import base_runtime, optional_visitor

router = APIRouter(include_in_schema=False)


def _periods(rt: Runtime, person: signin.SignedIn | None) -> tuple[list[tuple[str, str]], bool]:
    """How long each kind of record is kept, in words, and whether these are the programme's
    own periods: a signed-in reader sees the periods this database keeps (the retention
    policy, `review retention show`); anyone else the policy's defaults."""
    if person is not None:
        periods = retention.show_policy(rt.acting_as(person.email)).periods
        return [(p.label, _words(p.months, p.starts, p.outcome)) for p in periods], True
    return [
        (LABELS[k], _words(months, STARTS[k], OUTCOMES[k])) for k, months in DEFAULTS.items()
    ], False


def _words(months: int, starts: str, outcome: str) -> str:
    return f"{period_words(months)} {starts}, then {outcome}"


def _notice(rt: Runtime, person: signin.SignedIn | None) -> dict[str, Any]:
    settings = rt.settings
    periods, own = _periods(rt, person)
    return {
        "controller": settings.privacy_controller,
        "contact": settings.privacy_contact,
        "retention": periods,
        "own_periods": own,
    }


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> Response:
    person = optional_visitor(request)  # the header shows who is signed in, if anyone is
    return render(
        request, "privacy.html", title="Privacy notice", **_notice(base_runtime(request), person)
    )
