"""Files from documents: PDF (WeasyPrint), Word (python-docx), CSV, and writing them safely.

PDFs are printed from the same HTML as ``documents.render_html``, with one font
configuration and one extra stylesheet built once per process; ``render_pdfs`` prints them in
worker processes (about 0.5 s per two-page PDF on one core), never in the caller's: WeasyPrint's
pango objects, freed by cffi finalisers while the interpreter tears its modules down, crashed
the process with SIGSEGV at exit after the files were written. Word documents are
built from the typed context (headings, tables), optionally on a facilitator's template
.docx whose styles, headers and footers are kept. CSV is UTF-8 with a byte order mark so
Excel shows "St Mary’s" right. ``write_atomic`` and ``safe_filename`` keep output inside its
folder and never leave half-written files.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import csv
import functools
import gc
import io
import multiprocessing
import os
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from review_engine.core.domain import Rag
from review_engine.documents import templating as documents
from review_engine.documents.context import (
    ClusterReportContext,
    DocumentContext,
    PracticeDirectoryContext,
    SefSummaryContext,
    SupportPlanContext,
    VisitPackContext,
    WriteupReportContext,
)
from review_engine.documents.kinds import DocumentKind, Format

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import _Cell

# --- PDF -------------------------------------------------------------------------------------

#: PDF-only additions to the embedded stylesheet: fonts shipped with pango systems first.
PDF_CSS = """
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
a[href]::after { content: none; }
"""


@functools.cache
def _pdf_setup() -> tuple[Any, Any, Any]:
    """The process's one FontConfiguration, extra stylesheet and URL fetcher."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    stylesheet = weasyprint.CSS(string=PDF_CSS, font_config=font_config)
    fetcher: Any
    try:  # documents are self-contained: refuse every fetch (no file:, no http:)
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=())
    except ImportError:  # pragma: no cover - WeasyPrint before URLFetcher

        def fetcher(url: str, *args: object, **kwargs: object) -> dict[str, object]:
            raise ValueError(f"documents fetch nothing: {url}")

    return font_config, stylesheet, fetcher


def html_to_pdf(html: str) -> bytes:
    """Print a document's HTML to A4 PDF bytes (tagged, titled from <title>) in this process;
    a command that then exits should call ``render_pdfs`` instead (see the module's note)."""
    import weasyprint

    font_config, stylesheet, fetcher = _pdf_setup()
    pdf = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], font_config=font_config, pdf_tags=True
    )
    assert pdf is not None
    return bytes(pdf)


def _release_pdf_setup() -> None:
    """Free the font configuration while its libraries are still loaded (atexit)."""
    _pdf_setup.cache_clear()
    gc.collect()


def _warm_up() -> None:
    atexit.register(_release_pdf_setup)
    _pdf_setup()


def render_pdfs(
    items: Iterable[tuple[DocumentKind, DocumentContext]],
    *,
    processes: int = 2,
    start_method: str | None = None,
) -> list[bytes]:
    """PDFs for many documents, in order, printed on a pool of worker processes (at most
    `processes`, at least one): the caller never loads WeasyPrint, so it cannot crash at exit.
    One worker costs about what printing in-process does (WeasyPrint's import moves there)."""
    htmls = [documents.render_html(kind, context) for kind, context in items]
    if not htmls:
        return []
    # forkserver (POSIX) starts workers from a clean single-threaded process, so a caller
    # with threads (a scheduler) cannot hand a held lock to a worker as fork could; its
    # workers leave with os._exit, so no finaliser runs in them at all.
    method = start_method or (
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    )
    workers = max(1, min(processes, len(htmls)))
    chunk = max(1, len(htmls) // (workers * 4))
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_warm_up,
    ) as pool:
        return list(pool.map(html_to_pdf, htmls, chunksize=chunk))


# --- Word ------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RAG_FILL = {Rag.RED: "F8C9CD", Rag.AMBER: "FFE2A8", Rag.GREEN: "C9EBD2", Rag.COMPLETE: "DCDCEA"}


def _x(text: object) -> str:
    """Text Word can store: characters XML 1.0 forbids are dropped."""
    return _XML_INVALID.sub("", str(text))


class _Word:
    """A thin writer over python-docx that falls back when a template lacks a style."""

    def __init__(self, template: str | os.PathLike[str] | None) -> None:
        from docx import Document

        self.doc: DocxDocument = Document(os.fspath(template) if template else None)
        if template:  # keep the template's styles, sections, headers; drop its body text
            body = self.doc.element.body
            for child in list(body):
                if not child.tag.endswith("}sectPr"):
                    body.remove(child)
        names = {s.name for s in self.doc.styles}
        self._table_style = "Table Grid" if "Table Grid" in names else None
        self._bullet = "List Bullet" if "List Bullet" in names else None
        self._numbered = "List Number" if "List Number" in names else None
        self._styles = names

    def heading(self, text: str, level: int) -> None:
        if f"Heading {level}" in self._styles or (level == 0 and "Title" in self._styles):
            self.doc.add_heading(_x(text), level)
        else:
            self.doc.add_paragraph().add_run(_x(text)).bold = True

    def para(self, text: str, *, label: str | None = None, italic: bool = False) -> None:
        p = self.doc.add_paragraph()
        if label:
            p.add_run(_x(label) + " ").bold = True
        p.add_run(_x(text)).italic = italic

    def items(self, values: Sequence[str], empty: str, *, numbered: bool = False) -> None:
        if not values:
            self.para(empty, italic=True)
        style = self._numbered if numbered else self._bullet
        for i, value in enumerate(values, 1):
            prefix = "" if style else (f"{i}. " if numbered else "• ")
            self.doc.add_paragraph(prefix + _x(value), style=style)

    def table(
        self,
        headers: Sequence[str] | None,
        rows: Sequence[Sequence[object]],
        *,
        row_headers: bool = True,
    ) -> list[list[_Cell]]:
        ncols = len(headers) if headers else len(rows[0])
        table = self.doc.add_table(rows=0, cols=ncols, style=self._table_style)
        if headers:
            cells = table.add_row().cells
            for cell, text in zip(cells, headers, strict=True):
                cell.text = ""
                cell.paragraphs[0].add_run(_x(text)).bold = True
            _repeat_header(table.rows[0])
        out = []
        for row in rows:
            cells = table.add_row().cells
            for col, (cell, value) in enumerate(zip(cells, row, strict=True)):
                cell.text = ""
                run = cell.paragraphs[0].add_run(_x(value))
                run.bold = row_headers and col == 0
            out.append(list(cells))
        self.doc.add_paragraph()
        return out

    def save(self, title: str) -> bytes:
        self.doc.core_properties.title = _x(title)
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _shade(cell: _Cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _date(value: Any) -> str:
    return documents.long_date(value) if value else ""


def to_docx(
    kind: DocumentKind,
    context: DocumentContext,
    *,
    template: str | os.PathLike[str] | None = None,
) -> bytes:
    """A Word document built from the context; template lends its styles."""
    documents.check_context(kind, context)
    title = documents.document_title(kind, context)
    w = _Word(template)
    w.heading(title, 0)
    match context:
        case SefSummaryContext():
            _docx_sef(w, context)
        case VisitPackContext():
            _docx_visit(w, context)
        case WriteupReportContext():
            _docx_writeup(w, context)
        case SupportPlanContext():
            _docx_support(w, context)
        case ClusterReportContext():
            _docx_cluster(w, context)
        case PracticeDirectoryContext():
            _docx_directory(w, context)
    return w.save(title)


def _docx_sef(w: _Word, c: SefSummaryContext) -> None:
    s = c.school
    submitted = f"submitted {_date(c.submitted_on)}" if c.submitted_on else "not yet submitted"
    w.para(f"Cycle {c.cycle} · {c.framework} · version {c.version} · {submitted}")
    w.heading("School context", 1)
    ofsted = s.ofsted_rating or "not inspected"
    if s.ofsted_date:
        ofsted += f" ({_date(s.ofsted_date)})"
    w.table(None, [
        ("School", s.name), ("URN", s.urn), ("Phase", s.phase), ("Type", s.school_type),
        ("Local authority", s.local_authority),
        ("Pupils", s.pupils if s.pupils is not None else "not known"),
        ("Trust", s.trust or "none"), ("Latest Ofsted rating", ofsted),
    ])  # fmt: skip
    w.heading("Enquiry question", 1)
    w.para(c.enquiry_question or "No enquiry question set yet.", italic=not c.enquiry_question)
    w.heading("Self-evaluation by area", 1)
    if not c.areas:
        w.para("No areas completed yet.", italic=True)
    for area in c.areas:
        w.heading(f"{area.name}: {area.grade_label or 'not graded'}", 2)
        for label, values in (
            ("Strengths", area.strengths),
            ("Areas for development", area.areas_for_development),
            ("Evidence", area.evidence),
        ):
            w.heading(label, 3)
            w.items(values, "None recorded.")


def _docx_visit(w: _Word, c: VisitPackContext) -> None:
    slot = documents.slot_label(c.slot)
    w.para(f"Cycle {c.cycle} · {documents.day_date(c.visit_date)}, {slot.lower()}")
    w.heading("The visit", 1)
    focus = documents.focus_label(c.focus) + (f": {c.focus_detail}" if c.focus_detail else "")
    w.table(None, [
        ("Host school", f"{c.host.name} (URN {c.host.urn})"),
        ("Date", documents.day_date(c.visit_date)), ("Slot", slot), ("Focus", focus),
    ])  # fmt: skip
    w.heading("Enquiry question", 1)
    w.para(c.enquiry_question or "The host school has not set an enquiry question yet.")
    w.heading("Triad", 1)
    host = c.host.name + (f": {c.host_head.name}" if c.host_head else "")
    w.para(host, label="Host:")
    w.items(
        [f"{r.name} ({r.school})" + (": lead reviewer" if r.is_lead else "") for r in c.reviewers],
        "No reviewers recorded yet.",
    )
    w.heading("Agenda", 1)
    if c.agenda:
        w.table(("Time", "Activity", "Who"), [
            (documents.hhmm(a.start) + (f"–{documents.hhmm(a.end)}" if a.end else ""),
             a.activity, a.who)
            for a in c.agenda
        ])  # fmt: skip
    else:
        w.para("The agenda has not been agreed yet.", italic=True)
    w.heading("Host staff taking part", 1)
    w.items(
        [p.name + (f", {p.job_title}" if p.job_title else "") for p in c.host_staff],
        "None named yet.",
    )
    w.heading("Practical details", 1)
    address = ", ".join(x for x in (c.address, c.postcode) if x) or "not given"
    contact = "not given"
    if c.contact:
        contact = c.contact.name + (f" <{c.contact.email}>" if c.contact.email else "")
    arrive = documents.hhmm(c.arrival_time) if c.arrival_time else "not given"
    rows: list[tuple[str, str]] = [
        ("Address", address),
        ("Arrive by", arrive),
        ("Contact on the day", contact),
    ]
    if c.practical_notes:
        rows.append(("Notes", c.practical_notes))
    w.table(None, rows)


def _docx_writeup(w: _Word, c: WriteupReportContext) -> None:
    w.para(documents.PEER_REVIEW_NOTICE, label="Please note:")
    lead = f"{c.lead.name} ({c.lead.school})" if c.lead else "not nominated"
    sharing = documents.sharing_label(c.sharing)
    if c.shared_with:
        sharing += ": " + ", ".join(c.shared_with)
    w.heading("The review", 1)
    w.table(None, [
        ("Host school", f"{c.host.name} (URN {c.host.urn})"), ("Cycle", c.cycle),
        ("Visit date", documents.day_date(c.visit_date)), ("Lead reviewer", lead),
        ("Sharing", sharing),
    ])  # fmt: skip
    w.heading("Reviewers", 2)
    w.items(
        [f"{r.name} ({r.school})" + (": lead reviewer" if r.is_lead else "") for r in c.reviewers],
        "No reviewers recorded yet.",
    )
    w.heading("Activities undertaken", 1)
    w.items(c.activities, "No activities recorded.")
    if not c.lines_of_enquiry:
        w.heading("Lines of enquiry", 1)
        w.para("No lines of enquiry written up yet.", italic=True)
    for n, loe in enumerate(c.lines_of_enquiry, 1):
        w.heading(f"Line of enquiry {n}: {loe.question}", 1)
        for label, findings in (
            ("What went well (WWW)", loe.www),
            ("Even better if (EBI)", loe.ebi),
        ):
            w.heading(label, 2)
            lines = []
            for f in findings:
                evidence = ""
                if f.evidence or f.activity:
                    source = f" (from {f.activity})" if f.activity else ""
                    evidence = f"\nEvidence{source}" + (f": {f.evidence}" if f.evidence else "")
                lines.append(f.text + evidence)
            w.items(lines, f"No {label.split(' (')[0]} items recorded.", numbered=True)
    w.heading("Agreed good practice to share", 1)
    if c.good_practice:
        w.table(
            ("Area", "Practice", "Contact"),
            [(g.area, g.description, g.contact) for g in c.good_practice],
        )
    else:
        w.para("No good practice recorded yet.", italic=True)
    w.heading("Next steps", 1)
    w.items(c.next_steps, "No next steps recorded.")
    w.heading("Sharing", 1)
    w.para(sharing + ".")
    w.para(documents.PEER_REVIEW_NOTICE)


def _docx_support(w: _Word, c: SupportPlanContext) -> None:
    w.para(f"{c.school.name} (URN {c.school.urn}) · cycle {c.cycle}")
    w.heading("Actions", 1)
    if not c.actions:
        w.para("No actions agreed yet.", italic=True)
        return
    rows = w.table(
        ("#", "Action", "Owner", "Supporting school", "Success criteria", "Due", "RAG status",
         "Latest update"),
        [(n, a.action, a.owner, a.supporting_school or "none", a.success_criteria,
          documents.due_label(a), documents.rag_label(a.rag), _update(a.latest_update,
          a.latest_update_on)) for n, a in enumerate(c.actions, 1)],
    )  # fmt: skip
    for cells, action in zip(rows, c.actions, strict=True):
        _shade(cells[6], _RAG_FILL[action.rag])


def _update(text: str | None, on: Any) -> str:
    if not text:
        return "no update yet"
    return f"{_date(on)}: {text}" if on else text


def _docx_cluster(w: _Word, c: ClusterReportContext) -> None:
    w.para(
        f"Cluster {c.cluster} · cycle {c.cycle} · cycle state: {c.cycle_state} · "
        f"as of {_date(c.as_of)}"
    )
    w.heading("Where every school is", 1)
    if c.schools:
        w.table(("School", "URN", *c.phases), [(s.school.name, s.school.urn, *s.states)
                                               for s in c.schools])  # fmt: skip
    else:
        w.para("No schools in this cycle yet.", italic=True)
    w.heading("Overdue", 1)
    if c.overdue:
        w.table(("School", "Item", "Due", "Days overdue"),
                [(o.school, o.item, _date(o.due), o.days_overdue) for o in c.overdue])  # fmt: skip
    else:
        w.para("Nothing is overdue.", italic=True)
    w.heading("Triads", 1)
    if c.triads:
        w.table(("Host", "Visitors", "Lead reviewer", "Visit date"),
                [(t.host, ", ".join(t.visitors), t.lead or "not nominated",
                  _date(t.visit_date) or "not dated") for t in c.triads])  # fmt: skip
    else:
        w.para("No triads formed yet.", italic=True)
    w.heading("Support actions by RAG status", 1)
    rows = w.table(
        ("Status", "Actions"),
        [(documents.rag_label(r), n) for r, n in c.rag_counts.items()]
        + [("Total", c.rag_counts.total)],
    )
    for cells, (rag, _n) in zip(rows, c.rag_counts.items(), strict=False):
        _shade(cells[0], _RAG_FILL[rag])
    w.heading("Feedback", 1)
    fb = c.feedback
    if fb.responses:
        avg = (
            f"; average usefulness {fb.average_usefulness:.1f} out of {fb.scale_max}"
            if fb.average_usefulness is not None
            else ""
        )
        w.para(f"{fb.responses} response{'' if fb.responses == 1 else 's'}{avg}.")
    else:
        w.para("No feedback received yet.", italic=True)
    if fb.notable_comments:
        w.heading("Notable comments", 2)
        w.items([f"“{x}”" for x in fb.notable_comments], "")
    w.heading("Good practice added", 1)
    if c.good_practice:
        w.table(("School", "Area", "Practice", "Contact"),
                [(g.school or "", g.area, g.description, g.contact)
                 for g in c.good_practice])  # fmt: skip
    else:
        w.para("No good practice recorded yet.", italic=True)


def _docx_directory(w: _Word, c: PracticeDirectoryContext) -> None:
    cycle = f" · cycle {c.cycle}" if c.cycle else ""
    w.para(f"Cluster {c.cluster}{cycle} · as of {_date(c.as_of)}")
    groups = c.groups()
    if not groups:
        w.para("No good practice has been shared yet.", italic=True)
    for group in groups:
        w.heading(group.area, 1)
        w.table(
            ("School", "Practice", "Contact"),
            [(g.school or "", g.description, g.contact) for g in group.entries],
        )


# --- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(kind: DocumentKind, context: DocumentContext) -> list[list[str]]:
    """The rows (header first) of a tabular document's main table."""
    documents.check_format(kind, Format.CSV)
    documents.check_context(kind, context)
    match context:
        case ClusterReportContext():
            header = ["School", "URN", *context.phases]
            body = [[s.school.name, s.school.urn, *s.states] for s in context.schools]
        case SupportPlanContext():
            header = ["#", "Action", "Owner", "Supporting school", "Success criteria",
                      "Due date", "Due half-term", "RAG status", "Latest update",
                      "Latest update on"]  # fmt: skip
            body = [
                [str(n), a.action, a.owner, a.supporting_school or "", a.success_criteria,
                 a.due_date.isoformat() if a.due_date else "",
                 a.due_half_term.value if a.due_half_term else "", documents.rag_label(a.rag),
                 a.latest_update or "",
                 a.latest_update_on.isoformat() if a.latest_update_on else ""]
                for n, a in enumerate(context.actions, 1)
            ]  # fmt: skip
        case _:  # pragma: no cover - check_format and check_context rule this out
            raise TypeError(f"{type(context).__name__} has no table")
    return [header, *([_cell(v) for v in row] for row in body)]


def to_csv(kind: DocumentKind, context: DocumentContext) -> bytes:
    """The document's table as CSV: UTF-8 with a BOM, CRLF line ends, as Excel expects."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(kind, context))
    return buffer.getvalue().encode("utf-8-sig")
