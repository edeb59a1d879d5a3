"""Render a typed document context in any format, and name the file it goes in."""

from __future__ import annotations

import os
from datetime import datetime

from review_engine.documents.context import (
    ClusterReportContext,
    DocumentContext,
    PracticeDirectoryContext,
    SefSummaryContext,
    SupportPlanContext,
    VisitPackContext,
    WriteupReportContext,
)
from review_engine.documents.files import safe_filename
from review_engine.documents.kinds import DocumentKind, Format
from review_engine.documents.templating import (
    check_context,
    check_format,
    render_html,
    render_markdown,
)
from review_engine.errors import InvalidInput


def render(
    kind: DocumentKind,
    context: DocumentContext,
    *,
    fmt: Format,
    docx_template: str | os.PathLike[str] | None = None,
    author: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """Render a typed context as a document in fmt; docx_template lends its styles to Word,
    whose properties name `author` (the cluster) and were created and modified `now`."""
    kind = DocumentKind(kind)
    try:
        fmt = Format(fmt)
    except ValueError:
        raise InvalidInput(
            f"unknown format {fmt!r}; formats are {', '.join(f.value for f in Format)}"
        ) from None
    check_format(kind, fmt)
    check_context(kind, context)
    if fmt is Format.HTML:
        return render_html(kind, context).encode("utf-8")
    if fmt is Format.MD:
        return render_markdown(kind, context).encode("utf-8")

    from review_engine.documents import (
        exporters,  # WeasyPrint and python-docx load only when needed
    )

    if fmt is Format.PDF:  # printed in a worker process: see exporters' note on exit crashes
        return exporters.render_pdfs([(kind, context)], processes=1)[0]
    if fmt is Format.DOCX:
        return exporters.to_docx(kind, context, template=docx_template, author=author, now=now)
    return exporters.to_csv(kind, context)


def suggested_filename(kind: DocumentKind, context: DocumentContext, fmt: Format) -> str:
    """A safe file name for a rendered document, e.g. writeup-report-st-marys-105000.pdf."""
    match context:
        case SefSummaryContext():
            subject = f"{context.school.name}-{context.school.urn}-{context.cycle}"
        case VisitPackContext() | WriteupReportContext():
            subject = f"{context.host.name}-{context.host.urn}-{context.cycle}"
        case SupportPlanContext():
            subject = f"{context.school.name}-{context.school.urn}-{context.cycle}"
        case ClusterReportContext():
            subject = context.cycle
        case PracticeDirectoryContext():
            subject = context.cluster
        case _:
            raise TypeError(f"{type(context).__name__} is not a document context")
    stem = safe_filename(f"{DocumentKind(kind).value.replace('_', '-')}-{subject}")
    return f"{stem}.{Format(fmt).value}"
