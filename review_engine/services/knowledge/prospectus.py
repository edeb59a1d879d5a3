"""The public prospectus: search offers by topic, region, phase, dates, free text and
distance from a school. No sign-in needed; one set-based, index-backed query per page."""

from __future__ import annotations

from review_engine.core.knowledge import ProspectusQuery
from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import FilterChoices, ProspectusPage


def search(rt: Runtime, query: ProspectusQuery) -> ProspectusPage:
    """One page of listed offers (published or full) matching the query, soonest first, or
    nearest first when `near` names a school. InvalidInput for a bad filter; NotFound for an
    unknown school in `near`."""
    raise NotImplementedError


def choices(rt: Runtime, *, programme: str | None = None) -> FilterChoices:
    """The topics, regions and phases a search form offers."""
    raise NotImplementedError
