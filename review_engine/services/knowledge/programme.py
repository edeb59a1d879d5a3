"""Programmes, their topics and stakeholders (who may nominate)."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import ProgrammeView, StakeholderView, TopicView


def create_programme(
    rt: Runtime,
    *,
    name: str,
    year: str,
    first_round_topics: bool = False,
    region_rule: str = "own_region",
    reflection_weeks: int = 8,
    reminder_days: int = 7,
    workflow: str = "inside-knowledge",
) -> ProgrammeView:
    """A new programme (admin only); with the five first-round topics if asked."""
    raise NotImplementedError


def update_settings(
    rt: Runtime,
    *,
    programme: str,
    region_rule: str | None = None,
    reflection_weeks: int | None = None,
    reminder_days: int | None = None,
) -> ProgrammeView:
    """Change a programme's rule for regions, reflection weeks or reminder days (admin)."""
    raise NotImplementedError


def add_topic(
    rt: Runtime,
    *,
    programme: str,
    code: str,
    title: str,
    phases: str = "",
    description: str = "",
) -> TopicView:
    """A topic (admin only); `phases` limits the offers and visitors it suits."""
    raise NotImplementedError


def add_stakeholder(
    rt: Runtime, *, programme: str, email: str, organisation: str
) -> StakeholderView:
    """Let a registered person nominate schools for the programme (admin only)."""
    raise NotImplementedError


def get_programme(rt: Runtime, *, programme: str | None = None) -> ProgrammeView:
    """A programme with its topics (anyone, signed in or not); None: the newest."""
    raise NotImplementedError


def list_programmes(rt: Runtime) -> list[ProgrammeView]:
    """Every programme, newest first (anyone)."""
    raise NotImplementedError
