"""Files from documents: PDF (WeasyPrint), Word (python-docx), CSV, and writing them safely.

PDFs are printed from the same HTML as ``documents.render_html``, with one font
configuration and one extra stylesheet built once per process; ``render_pdfs`` prints them in
worker processes (about 0.5 s per two-page PDF on one core), never in the caller's: WeasyPrint's
pango objects, freed by cffi finalisers while the interpreter tears its modules down, crashed
the process with SIGSEGV at exit after the files were written. Word documents are
built by ``documents.word`` from the typed context (A4, en-GB, page header and numbers),
optionally on a facilitator's template .docx whose styles, headers and footers are kept.
CSV is UTF-8 with a byte order mark so Excel shows "St Mary’s" right. ``write_atomic`` and
``safe_filename`` keep output inside its folder and never leave half-written files.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import csv
import functools
import gc
import io
import multiprocessing
from collections.abc import Iterable
from typing import Any

from review_engine.documents import templating as documents
from review_engine.documents import word
from review_engine.documents.context import (
    ClusterReportContext,
    DocumentContext,
    SupportPlanContext,
)
from review_engine.documents.kinds import DocumentKind, Format

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

to_docx = word.to_docx


# --- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(kind: DocumentKind, context: DocumentContext) -> list[list[str]]:
    """The rows of a tabular document's main table: the confidentiality marking on the first
    line (so it travels with the file), then the header, then the rows."""
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
    marking = [documents.marking(kind, context)]
    return [marking, header, *([_cell(v) for v in row] for row in body)]


def to_csv(kind: DocumentKind, context: DocumentContext) -> bytes:
    """The document's table as CSV: UTF-8 with a BOM, CRLF line ends, as Excel expects."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(kind, context))
    return buffer.getvalue().encode("utf-8-sig")
