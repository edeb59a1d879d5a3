"""The Jinja environment and the render functions: a typed context in, a document's bytes out.

One ``Environment`` is built once (``environment()``), with ``StrictUndefined``, loading the
templates shipped in ``review_engine.templates``. HTML templates are autoescaped; Markdown
templates escape every ``{{ expression }}`` for Markdown through the environment's
``finalize`` hook, so no template can forget to. User text only ever reaches a template as
data: nothing here compiles a string from a context as a template.

PDF, Word and CSV are produced by ``review_engine.documents.exporters`` (imported when first needed,
since WeasyPrint takes a second to import).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, time
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from review_engine.core.domain import HalfTerm, Rag, SharingLevel, Slot, VisitFocus
from review_engine.documents.context import (
    ClusterReportContext,
    DocumentContext,
    PracticeDirectoryContext,
    SefSummaryContext,
    SupportAction,
    SupportPlanContext,
    VisitPackContext,
    WriteupReportContext,
)
from review_engine.documents.kinds import DocumentKind, Format
from review_engine.errors import InvalidInput

CONTEXT_TYPES: dict[DocumentKind, type] = {
    DocumentKind.SEF_SUMMARY: SefSummaryContext,
    DocumentKind.VISIT_PACK: VisitPackContext,
    DocumentKind.WRITEUP_REPORT: WriteupReportContext,
    DocumentKind.SUPPORT_PLAN: SupportPlanContext,
    DocumentKind.CLUSTER_REPORT: ClusterReportContext,
    DocumentKind.PRACTICE_DIRECTORY: PracticeDirectoryContext,
}

_TEXT_FORMATS = (Format.HTML, Format.MD, Format.PDF, Format.DOCX)
#: CSV is offered for the two tabular documents only: the status table and the actions table.
SUPPORTED_FORMATS: dict[DocumentKind, tuple[Format, ...]] = {
    kind: (*_TEXT_FORMATS, Format.CSV)
    if kind in (DocumentKind.CLUSTER_REPORT, DocumentKind.SUPPORT_PLAN)
    else _TEXT_FORMATS
    for kind in DocumentKind
}

MEDIA_TYPES: dict[Format, str] = {
    Format.HTML: "text/html; charset=utf-8",
    Format.MD: "text/markdown; charset=utf-8",
    Format.PDF: "application/pdf",
    Format.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Format.CSV: "text/csv; charset=utf-8",
}

# --- labels: the domain's words as a reader sees them ----------------------------------------

RAG_LABELS: dict[Rag, str] = {
    Rag.RED: "Red",
    Rag.AMBER: "Amber",
    Rag.GREEN: "Green",
    Rag.COMPLETE: "Complete",
}
FOCUS_LABELS: dict[VisitFocus, str] = {
    VisitFocus.LEARNING_WALK: "Learning walk",
    VisitFocus.JOINT_LESSON_OBSERVATIONS: "Joint lesson observations",
    VisitFocus.SUBJECT_LEADER_INTERVIEWS: "Interviews with subject leaders",
    VisitFocus.WORK_SCRUTINY: "Work scrutiny",
    VisitFocus.PUPIL_VOICE: "Pupil voice",
    VisitFocus.DATA_REVIEW: "Data review",
    VisitFocus.OTHER: "Other",
}
SHARING_LABELS: dict[SharingLevel, str] = {
    SharingLevel.REVIEWERS: "Shared only with the host school, its reviewers and the facilitator",
    SharingLevel.CLUSTER: "Shared with every school in the cluster",
    SharingLevel.NAMED: "Shared with the schools the host named",
}
SLOT_LABELS: dict[Slot, str] = {Slot.MORNING: "Morning", Slot.AFTERNOON: "Afternoon"}
#: What each RAG status means, for the key printed beside every RAG table.
RAG_MEANINGS: dict[Rag, str] = {
    Rag.RED: "off track",
    Rag.AMBER: "at risk",
    Rag.GREEN: "on track",
    Rag.COMPLETE: "done",
}
PEER_REVIEW_NOTICE = (
    "This is a peer review by colleague head teachers, not an inspection judgement. "
    "It does not grade the school and is not an Ofsted judgement."
)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def long_date(value: date) -> str:
    """A date as a reader in England writes it: 29 March 2027."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def day_date(value: date) -> str:
    """A date with its weekday: Monday 29 March 2027."""
    return f"{_DAYS[value.weekday()]} {long_date(value)}"


def hhmm(value: time) -> str:
    """A time of day on the 24-hour clock: 09:00."""
    return f"{value.hour:02d}:{value.minute:02d}"


def rag_label(value: Rag) -> str:
    """The RAG status as a word, so it never depends on colour alone."""
    return RAG_LABELS[Rag(value)]


def focus_label(value: VisitFocus) -> str:
    """The visit focus as the host would say it."""
    return FOCUS_LABELS[VisitFocus(value)]


def sharing_label(value: SharingLevel) -> str:
    """How far a write-up is shared, as a sentence."""
    return SHARING_LABELS[SharingLevel(value)]


def slot_label(value: Slot) -> str:
    """Morning or Afternoon."""
    return SLOT_LABELS[Slot(value)]


def due_label(action: SupportAction) -> str:
    """When an action is due: its date, else its half-term, else 'not set'."""
    if action.due_date is not None:
        return long_date(action.due_date)
    if action.due_half_term is not None:
        return f"by end of {HalfTerm(action.due_half_term).value}"
    return "not set"


# --- who a document is for: the marking on every page and the note at its end -------------

_CONFIDENTIAL = "CONFIDENTIAL: for the school, its reviewers and the cluster facilitator"
MARKINGS: dict[DocumentKind, str] = {
    DocumentKind.SEF_SUMMARY: _CONFIDENTIAL,
    DocumentKind.VISIT_PACK: (
        "CONFIDENTIAL: for the host school, its visiting reviewers and the cluster facilitator"
    ),
    DocumentKind.WRITEUP_REPORT: _CONFIDENTIAL,
    DocumentKind.SUPPORT_PLAN: (
        "CONFIDENTIAL: for the school, its supporting schools and the cluster facilitator"
    ),
    DocumentKind.CLUSTER_REPORT: (
        "CONFIDENTIAL: for the cluster facilitator and the heads of the cluster's schools"
    ),
    DocumentKind.PRACTICE_DIRECTORY: "RESTRICTED: for the schools of the cluster only",
}
_WRITEUP_MARKINGS: dict[SharingLevel, str] = {
    SharingLevel.REVIEWERS: (
        "CONFIDENTIAL: for the host school, its reviewers and the cluster facilitator"
    ),
    SharingLevel.CLUSTER: "CONFIDENTIAL: for the schools of the cluster only",
    SharingLevel.NAMED: (
        "CONFIDENTIAL: for the host school, its reviewers, the facilitator and the schools named"
    ),
}
_SCHOOL_NOTE = (
    "Confidential to the school, its reviewers and the cluster facilitator unless the school "
    "agrees to share it."
)
AUDIENCE_NOTES: dict[DocumentKind, str] = {
    DocumentKind.SEF_SUMMARY: _SCHOOL_NOTE,
    DocumentKind.VISIT_PACK: _SCHOOL_NOTE,
    DocumentKind.WRITEUP_REPORT: _SCHOOL_NOTE,
    DocumentKind.SUPPORT_PLAN: _SCHOOL_NOTE,
    DocumentKind.CLUSTER_REPORT: (
        "For the cluster facilitator and the heads of the cluster's schools. School write-ups "
        "and self-evaluations are not included."
    ),
    DocumentKind.PRACTICE_DIRECTORY: (
        "Shared with the schools of the cluster, with the agreement of each school named."
    ),
}


def marking(kind: DocumentKind, context: DocumentContext) -> str:
    """The confidentiality marking printed at the top of every page of a document (fixed
    words, never a name, so it is safe in a stylesheet and a page header)."""
    if isinstance(context, WriteupReportContext):
        return _WRITEUP_MARKINGS[SharingLevel(context.sharing)]
    return MARKINGS[DocumentKind(kind)]


def audience_note(kind: DocumentKind) -> str:
    """The sentence at the end of a document saying whom it is for."""
    return AUDIENCE_NOTES[DocumentKind(kind)]


def css_string(text: str) -> Markup:
    """Text as a quoted CSS string (for @page content): quotes, backslashes, line ends and
    angle brackets escaped, so nothing can leave the string or the <style> element."""
    out = "".join(c if c.isalnum() or c in " .,:;'!?()-" else f"\\{ord(c):06x}" for c in text)
    return Markup(f'"{out}"')


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~]|&(?=#?\w+;))")
_MD_LINE_START = re.compile(r"^(\s*\d{0,9})([.)])(?=\s|$)|^(\s*)([-+=])(?=[\s=-]|$)")
_WS_RUN = re.compile(r"\s*[\r\n]+\s*")


def markdown_escape(text: str) -> str:
    """Escape text so Markdown shows it literally, on one line (table cells, list items)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", _WS_RUN.sub(" ", text))
    # A leading "-", "+", "=" or "1." would start a list or a heading: escape it too.
    return _MD_LINE_START.sub(_escape_marker, escaped, count=1)


def _escape_marker(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.group(2) else match.group(3)
    return f"{prefix}\\{match.group(2) or match.group(4)}"


def nl2br(text: str) -> Markup:
    """Escape text for HTML and keep its line breaks."""
    text = str(text)
    if "\n" not in text and "\r" not in text:  # the common case: one line
        return escape(text)
    return Markup("<br>\n").join(escape(line) for line in text.splitlines())


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    """Escape every expression of a Markdown template; leave HTML to autoescape."""
    if context.name is not None and context.name.endswith(".md.j2"):
        if isinstance(value, Markup):
            return str(value)
        return markdown_escape(str(value))
    return value


def _autoescape(name: str | None) -> bool:
    """Autoescape everything except Markdown and plain-text templates."""
    return not (name or "").endswith((".md.j2", ".txt.j2"))


FILTERS: dict[str, Callable[..., Any]] = {
    "long_date": long_date,
    "day_date": day_date,
    "hhmm": hhmm,
    "rag_label": rag_label,
    "focus_label": focus_label,
    "sharing_label": sharing_label,
    "slot_label": slot_label,
    "due_label": due_label,
    "nl2br": nl2br,
    "md": markdown_escape,
    "css_string": css_string,
}


def templates_dir() -> Path:
    """The folder of the shipped templates (``review_engine.templates``)."""
    return Path(str(files("review_engine.templates")))


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja environment for documents, built on first use."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals["PEER_REVIEW_NOTICE"] = PEER_REVIEW_NOTICE
    env.globals["RAG"] = Rag
    env.globals["RAG_MEANINGS"] = RAG_MEANINGS
    return env


def template_name(kind: DocumentKind, fmt: Format) -> str:
    """The template file behind a kind in html or md."""
    suffix = {Format.HTML: "html", Format.MD: "md"}[fmt]
    return f"documents/{DocumentKind(kind).value}.{suffix}.j2"


@functools.cache
def _template(kind: DocumentKind, fmt: Format) -> jinja2.Template:
    return environment().get_template(template_name(kind, fmt))


def supported_formats(kind: DocumentKind) -> tuple[Format, ...]:
    """The formats a kind can be rendered in."""
    return SUPPORTED_FORMATS[DocumentKind(kind)]


def kind_of(context: DocumentContext) -> DocumentKind:
    """The document kind a context belongs to."""
    for kind, cls in CONTEXT_TYPES.items():
        if type(context) is cls:
            return kind
    raise TypeError(f"{type(context).__name__} is not a document context")


def document_title(kind: DocumentKind, context: DocumentContext) -> str:
    """The title a document carries (its h1 and the PDF/Word title)."""
    match context:
        case SefSummaryContext():
            return f"Self-evaluation summary: {context.school.name}"
        case VisitPackContext():
            return f"Visit pack: {context.host.name}, {long_date(context.visit_date)}"
        case WriteupReportContext():
            return f"Peer review report (WWW/EBI): {context.host.name}"
        case SupportPlanContext():
            return f"Support plan: {context.school.name}"
        case ClusterReportContext():
            return f"Cluster cycle report: {context.cycle}"
        case PracticeDirectoryContext():
            return f"Good-practice directory: {context.cluster}"
    raise TypeError(f"{type(context).__name__} is not a document context")  # pragma: no cover


def check_context(kind: DocumentKind, context: object) -> None:
    """Raise TypeError when context is not the context type of kind (a caller's bug)."""
    expected = CONTEXT_TYPES[DocumentKind(kind)]
    if type(context) is not expected:
        raise TypeError(
            f"a {kind} document needs a {expected.__name__}, not {type(context).__name__}"
        )


def check_format(kind: DocumentKind, fmt: Format) -> None:
    """Raise InvalidInput naming the supported formats when a kind cannot be rendered as fmt."""
    supported = SUPPORTED_FORMATS[DocumentKind(kind)]
    if fmt not in supported:
        raise InvalidInput(
            f"a {kind} document cannot be rendered as {fmt}; "
            f"it supports {', '.join(f.value for f in supported)}"
        )


def render_html(kind: DocumentKind, context: DocumentContext) -> str:
    """The document as one self-contained, printable HTML page."""
    check_context(kind, context)
    return _template(kind, Format.HTML).render(**_globals(kind, context))


def render_markdown(kind: DocumentKind, context: DocumentContext) -> str:
    """The document as Markdown (user text escaped so it shows literally)."""
    check_context(kind, context)
    return _template(kind, Format.MD).render(**_globals(kind, context))


def _globals(kind: DocumentKind, context: DocumentContext) -> dict[str, Any]:
    return {
        "doc": context,
        "title": document_title(kind, context),
        "kind": kind,
        "marking": marking(kind, context),
        "audience": audience_note(kind),
    }
