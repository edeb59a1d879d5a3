"""The programme quality report (HTML, PDF, CSV) and the host's visit pack."""

from __future__ import annotations

from review_engine.runtime import Runtime
from review_engine.services.knowledge.views import Document, QualityReport, VisitPack


def quality_report(rt: Runtime, *, programme: str | None = None) -> QualityReport:
    """Ratings, share of visitors reporting a change in practice, what they changed, places
    offered/booked/attended/no-shows: per host, per topic, for the programme (admin)."""
    raise NotImplementedError


def quality_document(rt: Runtime, *, programme: str | None = None, fmt: str = "html") -> Document:
    """The quality report rendered as html, pdf or csv (admin)."""
    raise NotImplementedError


def visit_pack(rt: Runtime, *, offer: int) -> VisitPack:
    """The host's visit pack: visitors, practitioners, questions, agenda (host, admin)."""
    raise NotImplementedError


def visit_pack_document(rt: Runtime, *, offer: int, fmt: str = "html") -> Document:
    """The visit pack rendered as html or pdf (host, admin)."""
    raise NotImplementedError
