"""Documents: typed contexts (`context`), the one Jinja environment (`templating`), PDF, Word
and CSV (`exporters`, loaded only when needed), calendar invites (`invites`) and safe files.

The names re-exported here are the package's public face; `render` picks the format.
"""

from review_engine.documents.files import output_path, safe_filename, write_atomic, write_document
from review_engine.documents.kinds import DocumentKind, Format
from review_engine.documents.render import render, suggested_filename
from review_engine.documents.templating import (
    check_context,
    check_format,
    day_date,
    document_title,
    due_label,
    environment,
    focus_label,
    hhmm,
    kind_of,
    long_date,
    rag_label,
    render_html,
    render_markdown,
    sharing_label,
    slot_label,
    supported_formats,
    template_name,
    templates_dir,
)

__all__ = [
    "DocumentKind",
    "Format",
    "check_context",
    "check_format",
    "day_date",
    "document_title",
    "due_label",
    "environment",
    "focus_label",
    "hhmm",
    "kind_of",
    "long_date",
    "output_path",
    "rag_label",
    "render",
    "render_html",
    "render_markdown",
    "safe_filename",
    "sharing_label",
    "slot_label",
    "suggested_filename",
    "supported_formats",
    "template_name",
    "templates_dir",
    "write_atomic",
    "write_document",
]
