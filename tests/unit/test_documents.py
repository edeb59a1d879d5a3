"""Documents: every kind renders in every format it supports, and user text stays text."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from datetime import date, time
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from review_engine.core.domain import HalfTerm, Rag, SharingLevel, Slot, VisitFocus
from review_engine.documents import (
    DocumentKind,
    Format,
    document_title,
    environment,
    exporters,
    files,
    render,
    render_html,
    render_markdown,
    suggested_filename,
    supported_formats,
)
from review_engine.documents.context import (
    AgendaItem,
    ClusterReportContext,
    DocumentContext,
    FeedbackSummary,
    Finding,
    GoodPractice,
    LineOfEnquiry,
    OverdueItem,
    Person,
    PracticeDirectoryContext,
    RagCounts,
    Reviewer,
    SchoolProfile,
    SchoolRef,
    SchoolStatus,
    SefArea,
    SefSummaryContext,
    SupportAction,
    SupportPlanContext,
    TriadSummary,
    VisitPackContext,
    WriteupReportContext,
)
from review_engine.documents.templating import markdown_escape
from review_engine.errors import InvalidInput

EVIL = "<script>alert(1)</script> {{ 7*7 }} {% raw %}"
ST_MARYS = SchoolRef("St Mary’s C of E Primary", "105000")
HOLY_TRINITY = "Holy Trinity Junior"
WWW_TEXT = "Reading is taught with consistent phonics from Reception"
EBI_TEXT = "Pupils could explain their next steps in writing"

# --- contexts, fully populated and minimal -----------------------------------------------------


def full_context(kind: DocumentKind) -> DocumentContext:
    """A context with every optional field set and every list populated."""
    contact = Person("Ann Lee", "ann.lee@stmarys.example", ST_MARYS.name, "Deputy head")
    reviewers = (
        Reviewer("Bob Khan", HOLY_TRINITY, is_lead=True),
        Reviewer("Cara Jones", "Oakfield Primary"),
    )
    practice = (
        GoodPractice("Quality of education", "Daily phonics catch-up", "Ann Lee", ST_MARYS.name),
        GoodPractice("Behaviour and attitudes", "Restorative lunchtimes", "Bob Khan", HOLY_TRINITY),
    )
    match kind:
        case DocumentKind.SEF_SUMMARY:
            return SefSummaryContext(
                cycle="MC2SP/2026-27",
                school=SchoolProfile(
                    ST_MARYS.name,
                    ST_MARYS.urn,
                    "Primary",
                    "Voluntary aided school",
                    "Manchester",
                    412,
                    "Diocese of Manchester Trust",
                    "Good",
                    date(2023, 5, 10),
                ),
                framework="Ofsted education inspection framework",
                areas=(
                    SefArea(
                        "Quality of education",
                        "Good",
                        strengths=("Phonics", "Maths mastery"),
                        areas_for_development=("Writing stamina",),
                        evidence=("Book looks, spring 1\nand learning walks",),
                    ),
                    SefArea("Leadership and management", "Outstanding", ("Governance",)),
                ),
                enquiry_question="How well do pupils apply phonics in their writing?",
                submitted_on=date(2026, 10, 16),
                version=3,
            )
        case DocumentKind.VISIT_PACK:
            return VisitPackContext(
                cycle="MC2SP/2026-27",
                host=ST_MARYS,
                visit_date=date(2027, 3, 29),
                slot=Slot.MORNING,
                focus=VisitFocus.JOINT_LESSON_OBSERVATIONS,
                reviewers=reviewers,
                host_head=Person("Dee Head", "head@stmarys.example", ST_MARYS.name, "Head"),
                focus_detail="Year 5 and 6 writing",
                enquiry_question="How well do pupils apply phonics in their writing?",
                agenda=(
                    AgendaItem(time(9, 0), "Welcome and context", "Head", time(9, 20)),
                    AgendaItem(time(9, 20), "Joint lesson observations", "All", time(10, 30)),
                ),
                host_staff=(Person("Ed Smith", job_title="English lead"),),
                address="1 Church Lane\nManchester",
                postcode="M1 1AA",
                arrival_time=time(8, 45),
                contact=contact,
                practical_notes="Park on the street; sign in at reception.",
            )
        case DocumentKind.WRITEUP_REPORT:
            return WriteupReportContext(
                cycle="MC2SP/2026-27",
                host=ST_MARYS,
                visit_date=date(2027, 3, 29),
                reviewers=reviewers,
                activities=("Learning walk", "Pupil voice with Year 6"),
                lines_of_enquiry=(
                    LineOfEnquiry(
                        "How well do pupils apply phonics in their writing?",
                        www=(Finding(WWW_TEXT, "Seen in all classes", "Learning walk"),),
                        ebi=(Finding(EBI_TEXT, "Year 6 pupils were unsure", "Pupil voice"),),
                    ),
                    LineOfEnquiry("Is behaviour at lunchtime calm?", www=(Finding("Yes"),)),
                ),
                good_practice=practice,
                next_steps=("Share the phonics catch-up model with Oakfield",),
                sharing=SharingLevel.NAMED,
                shared_with=("Oakfield Primary",),
                agreed_on=date(2027, 4, 20),
            )
        case DocumentKind.SUPPORT_PLAN:
            return SupportPlanContext(
                cycle="MC2SP/2026-27",
                school=ST_MARYS,
                actions=(
                    SupportAction(
                        "Writing stamina project",
                        "Ann Lee",
                        "Every pupil writes 2 pages",
                        Rag.AMBER,
                        HOLY_TRINITY,
                        date(2027, 7, 16),
                        None,
                        "Started in Year 5",
                        date(2027, 5, 3),
                    ),
                    SupportAction(
                        "Lunchtime training",
                        "Ed Smith",
                        "Fewer incidents",
                        Rag.RED,
                        due_half_term=HalfTerm.SUMMER_1,
                    ),
                    SupportAction("Governor visits", "Dee Head", "Termly", Rag.GREEN),
                    SupportAction("Phonics audit", "Ann Lee", "Audit done", Rag.COMPLETE),
                ),
                agreed_on=date(2027, 5, 1),
                reviewed_on=date(2027, 6, 10),
            )
        case DocumentKind.CLUSTER_REPORT:
            return ClusterReportContext(
                cluster="MC2SP",
                cycle="MC2SP/2026-27",
                cycle_state="support",
                as_of=date(2027, 6, 1),
                phases=("self_review", "peer_visit", "write_up", "support"),
                schools=(
                    SchoolStatus(ST_MARYS, ("accepted", "visited", "published", "in_progress")),
                    SchoolStatus(
                        SchoolRef(HOLY_TRINITY, "105007"),
                        ("accepted", "scheduled", "awaiting_draft", "awaiting_plan"),
                    ),
                ),
                overdue=(OverdueItem(HOLY_TRINITY, "Write-up draft", date(2027, 5, 20), 12),),
                triads=(
                    TriadSummary(
                        ST_MARYS.name, (HOLY_TRINITY, "Oakfield"), "Bob Khan", date(2027, 3, 29)
                    ),
                    TriadSummary(HOLY_TRINITY, (ST_MARYS.name,)),
                ),
                rag_counts=RagCounts(red=1, amber=2, green=3, complete=4),
                feedback=FeedbackSummary(7, 4.29, 5, ("Best CPD this year",)),
                good_practice=practice,
            )
        case DocumentKind.PRACTICE_DIRECTORY:
            return PracticeDirectoryContext(
                cluster="MC2SP",
                as_of=date(2027, 6, 1),
                entries=(*practice, GoodPractice("Quality of education", "Maths", "Cara Jones",
                                                 "Oakfield Primary")),
                cycle="MC2SP/2026-27",
            )  # fmt: skip
    raise AssertionError(kind)


def minimal_context(kind: DocumentKind) -> DocumentContext:
    """A context with every list empty and every optional field None."""
    match kind:
        case DocumentKind.SEF_SUMMARY:
            profile = SchoolProfile(ST_MARYS.name, ST_MARYS.urn, "Primary", "Academy", "Salford")
            return SefSummaryContext("C/2026-27", profile, "Framework")
        case DocumentKind.VISIT_PACK:
            return VisitPackContext(
                "C/2026-27", ST_MARYS, date(2026, 10, 26), Slot.AFTERNOON, VisitFocus.OTHER
            )
        case DocumentKind.WRITEUP_REPORT:
            return WriteupReportContext("C/2026-27", ST_MARYS, date(2026, 10, 26))
        case DocumentKind.SUPPORT_PLAN:
            return SupportPlanContext("C/2026-27", ST_MARYS)
        case DocumentKind.CLUSTER_REPORT:
            return ClusterReportContext("C", "C/2026-27", "planned", date(2026, 9, 1))
        case DocumentKind.PRACTICE_DIRECTORY:
            return PracticeDirectoryContext("C", date(2026, 9, 1))
    raise AssertionError(kind)


def poisoned(value: Any) -> Any:
    """A copy of a context with EVIL appended to every piece of free text."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return f"{value} {EVIL}"
    if isinstance(value, tuple):
        return tuple(poisoned(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: poisoned(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


KINDS = list(DocumentKind)
#: PDF tests take about 0.5 s each. WeasyPrint warns on import when the system lacks
#: HarfBuzz-Subset (a packaging matter, not ours), so that one warning is let through here.
_HARFBUZZ = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset will be required:DeprecationWarning")


def pdf_test(test: Any) -> Any:
    """Mark a test that prints PDFs: slow, and tolerant of WeasyPrint's import warning."""
    return pytest.mark.slow(_HARFBUZZ(test))


TEXT_FORMATS = [Format.HTML, Format.MD]
ALLOWED_NONE = ("None recorded.", "None named yet.")


def docx_text(data: bytes) -> str:
    """All the text of a Word document: paragraphs and table cells."""
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    """The text of a PDF, whitespace folded so wrapped lines still match."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def md_unescape(text: str) -> str:
    """What a Markdown reader sees: backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", text)


# --- html and md for every kind ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEXT_FORMATS, ids=str)
@pytest.mark.parametrize("build", [full_context, minimal_context], ids=["full", "minimal"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_template_renders(kind: DocumentKind, build: Any, fmt: Format) -> None:
    context = build(kind)
    text = render(kind, context, fmt=fmt).decode("utf-8")
    assert document_title(kind, context) in text
    leftover = text
    for phrase in ALLOWED_NONE:
        leftover = leftover.replace(phrase, "")
    assert "None" not in leftover, "an optional field leaked as None"
    if fmt is Format.HTML:
        assert text.startswith("<!DOCTYPE html>")
        assert '<html lang="en-GB">' in text
        assert "@page" in text and "counter(pages)" in text
    else:  # the confidentiality marking, then the title
        assert text.startswith(("**CONFIDENTIAL: ", "**RESTRICTED: "))
        assert "\n# " in text


def test_the_environment_is_built_once_strict_and_escapes_html_only() -> None:
    import jinja2

    env = environment()
    assert env is environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape("documents/x.html.j2") is True  # type: ignore[operator]
    assert env.autoescape("documents/x.md.j2") is False  # type: ignore[operator]


def test_every_template_file_has_a_kind() -> None:
    shipped = {t for t in environment().list_templates() if not t.split("/")[-1].startswith("_")}
    # Inside Knowledge's documents (ik_*) are rendered by services/knowledge/report.
    shipped = {t for t in shipped if t.startswith("documents/") and "/ik_" not in t}
    shipped.discard("documents/subject_access.html.j2")  # services/subject_access renders it
    expected = {f"documents/{k.value}.{ext}.j2" for k in DocumentKind for ext in ("html", "md")}
    assert shipped == expected


def test_sef_summary_html_shows_context_and_areas() -> None:
    html = render_html(DocumentKind.SEF_SUMMARY, full_context(DocumentKind.SEF_SUMMARY))
    assert "<h1>Self-evaluation summary: St Mary’s C of E Primary</h1>" in html
    for heading in ("School context", "Enquiry question", "Self-evaluation by area"):
        assert f"<h2>{heading}</h2>" in html
    assert '<th scope="row">Latest Ofsted rating</th><td>Good (10 May 2023)</td>' in html
    assert "<h3>Quality of education: Good</h3>" in html
    assert "Book looks, spring 1<br>\nand learning walks" in html
    assert "submitted 16 October 2026" in html and "version 3" in html


def test_visit_pack_html_has_agenda_triad_and_practical_details() -> None:
    html = render_html(DocumentKind.VISIT_PACK, full_context(DocumentKind.VISIT_PACK))
    assert "Monday 29 March 2027" in html
    assert "Joint lesson observations: Year 5 and 6 writing" in html
    assert '<th scope="col">Time</th><th scope="col">Activity</th><th scope="col">Who</th>' in html
    assert "<td>09:00&ndash;09:20</td>" in html
    assert '<li class="lead">Bob Khan (Holy Trinity Junior): lead reviewer</li>' in html
    assert "M1 1AA" in html and "08:45" in html and "ann.lee@stmarys.example" in html


def test_writeup_report_says_it_is_not_an_inspection_judgement_in_every_text_format() -> None:
    context = full_context(DocumentKind.WRITEUP_REPORT)
    html = render_html(DocumentKind.WRITEUP_REPORT, context)
    md = render_markdown(DocumentKind.WRITEUP_REPORT, context)
    for text in (html, md_unescape(md)):
        assert "not an inspection judgement" in text
        assert WWW_TEXT in text and EBI_TEXT in text
        assert "What went well (WWW)" in text and "Even better if (EBI)" in text
    assert "Evidence (from Learning walk): Seen in all classes" in html
    assert "Shared with the schools the host named: Oakfield Primary" in html
    assert '<th scope="col">Area</th><th scope="col">Practice</th>' in html


def test_support_plan_shows_rag_as_text_and_colour() -> None:
    html = render_html(DocumentKind.SUPPORT_PLAN, full_context(DocumentKind.SUPPORT_PLAN))
    for rag, word in ((Rag.RED, "Red"), (Rag.AMBER, "Amber"), (Rag.GREEN, "Green")):
        assert f'<span class="rag rag-{rag.value}">{word}</span>' in html
    assert '<th scope="col">RAG status</th>' in html
    assert "by end of Summer 1" in html and "16 July 2027" in html
    assert "<strong>3 May 2027:</strong> Started in Year 5" in html
    md = render_markdown(DocumentKind.SUPPORT_PLAN, full_context(DocumentKind.SUPPORT_PLAN))
    assert "| Amber |" in md


def test_cluster_report_tables() -> None:
    html = render_html(DocumentKind.CLUSTER_REPORT, full_context(DocumentKind.CLUSTER_REPORT))
    assert '<th scope="col">self_review</th>' in html
    assert '<th scope="row">Holy Trinity Junior</th><td>105007</td>' in html
    assert "<td>12</td>" in html  # days overdue
    assert "average usefulness 4.3 out of 5" in html
    assert '<span class="rag rag-complete">Complete</span></th><td>4</td>' in html
    assert "<td>Holy Trinity Junior, Oakfield</td><td>Bob Khan</td>" in html
    md = render_markdown(DocumentKind.CLUSTER_REPORT, full_context(DocumentKind.CLUSTER_REPORT))
    assert "| School | URN | self\\_review | peer\\_visit | write\\_up | support |" in md


def test_practice_directory_groups_by_area() -> None:
    html = render_html(
        DocumentKind.PRACTICE_DIRECTORY, full_context(DocumentKind.PRACTICE_DIRECTORY)
    )
    assert html.count("<h2>Quality of education</h2>") == 1
    assert html.index("Daily phonics") < html.index("Maths") < html.index("Restorative")


def test_markdown_tables_survive_pipes_and_newlines() -> None:
    plan = full_context(DocumentKind.SUPPORT_PLAN)
    assert isinstance(plan, SupportPlanContext)
    context = dataclasses.replace(
        plan,
        actions=(SupportAction("a | b\nc", "o", "s", Rag.RED),),
    )
    md = render_markdown(DocumentKind.SUPPORT_PLAN, context)
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert "a \\| b c" in row and row.count(" | ") == 7


def test_markdown_escape_keeps_list_markers_literal() -> None:
    assert markdown_escape("- not a list") == "\\- not a list"
    assert markdown_escape("1. not a list") == "1\\. not a list"
    assert markdown_escape("2026-27 & more") == "2026-27 & more"


# --- user text is data, in every kind and format -----------------------------------------------


def assert_literal(text: str, fmt: Format) -> None:
    if fmt is Format.HTML:
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} {% raw %}" in text
        assert "<script>" not in text
    elif fmt is Format.MD:
        assert "<script>" not in text
        assert EVIL in md_unescape(text)
    else:
        assert EVIL in text
    assert "{{ 49 }}" not in text


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [(k, f) for k in KINDS for f in supported_formats(k) if f is not Format.PDF],
    ids=lambda v: str(v),
)
def test_user_text_is_never_evaluated(kind: DocumentKind, fmt: Format) -> None:
    data = render(kind, poisoned(full_context(kind)), fmt=fmt)
    match fmt:
        case Format.DOCX:
            text = docx_text(data)
        case Format.CSV:
            text = data.decode("utf-8-sig")
        case _:
            text = data.decode("utf-8")
    assert_literal(text, fmt)


@pdf_test
def test_user_text_is_never_evaluated_in_pdf_and_a_pool_keeps_order() -> None:
    items = [(kind, poisoned(full_context(kind))) for kind in KINDS]
    pdfs = exporters.render_pdfs(items, processes=2)
    assert len(pdfs) == len(items)
    for (kind, _context), data in zip(items, pdfs, strict=True):
        text = pdf_text(data)
        assert document_title(kind, minimal_context(kind)).split(":")[0] in text, kind
        assert "alert(1)" in text and "{{ 7*7 }}" in text and "{% raw %}" in text, kind


def test_unsupported_format_names_what_the_kind_supports() -> None:
    with pytest.raises(InvalidInput, match=r"supports html, md, pdf, docx$"):
        render(DocumentKind.SEF_SUMMARY, full_context(DocumentKind.SEF_SUMMARY), fmt=Format.CSV)


def test_an_unknown_format_is_refused_with_the_list() -> None:
    context = full_context(DocumentKind.SEF_SUMMARY)
    with pytest.raises(InvalidInput, match="unknown format 'odt'; formats are html, md, pdf"):
        render(DocumentKind.SEF_SUMMARY, context, fmt="odt")  # type: ignore[arg-type]


def test_a_context_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="needs a SupportPlanContext"):
        render(
            DocumentKind.SUPPORT_PLAN, minimal_context(DocumentKind.SEF_SUMMARY), fmt=Format.HTML
        )


# --- PDF, Word, CSV ----------------------------------------------------------------------------


@pdf_test
def test_pdf_of_writeup_has_school_www_ebi_and_page_numbers() -> None:
    context = full_context(DocumentKind.WRITEUP_REPORT)
    data = render(DocumentKind.WRITEUP_REPORT, context, fmt=Format.PDF)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "St Mary’s C of E Primary" in text
    assert WWW_TEXT in text and EBI_TEXT in text
    assert "not an inspection judgement" in text
    assert re.search(r"Page 1 of \d", text)


@pytest.mark.parametrize("build", [full_context, minimal_context], ids=["full", "minimal"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_docx_reopens_with_the_content(kind: DocumentKind, build: Any) -> None:
    context = build(kind)
    text = docx_text(render(kind, context, fmt=Format.DOCX))
    assert document_title(kind, context) in text


def test_docx_writeup_has_school_www_and_ebi() -> None:
    import docx

    data = render(
        DocumentKind.WRITEUP_REPORT, full_context(DocumentKind.WRITEUP_REPORT), fmt=Format.DOCX
    )
    text = docx_text(data)
    assert "St Mary’s C of E Primary" in text and WWW_TEXT in text and EBI_TEXT in text
    assert "not an inspection judgement" in text
    document = docx.Document(io.BytesIO(data))
    headings = [
        p.text for p in document.paragraphs if p.style and p.style.name.startswith("Heading")
    ]
    assert "What went well (WWW)" in headings and "Even better if (EBI)" in headings
    assert document.core_properties.title.startswith("Peer review report")


def test_docx_support_plan_rag_is_text_and_shaded() -> None:
    import docx

    data = render(
        DocumentKind.SUPPORT_PLAN, full_context(DocumentKind.SUPPORT_PLAN), fmt=Format.DOCX
    )
    table = docx.Document(io.BytesIO(data)).tables[0]
    assert [c.text for c in table.rows[0].cells][6] == "RAG status"
    assert table.rows[1].cells[6].text == "Amber"
    assert 'w:fill="FFE2A8"' in table.rows[1].cells[6]._tc.xml


def test_docx_uses_the_styles_of_a_template(tmp_path: Path) -> None:
    import docx
    from docx.shared import Pt

    template = docx.Document()
    template.styles["Normal"].font.name = "Comic Sans MS"
    template.styles["Normal"].font.size = Pt(13)
    template.add_paragraph("TEMPLATE BODY TEXT")
    path = tmp_path / "house-style.docx"
    template.save(str(path))

    data = render(
        DocumentKind.SUPPORT_PLAN,
        full_context(DocumentKind.SUPPORT_PLAN),
        fmt=Format.DOCX,
        docx_template=path,
    )
    document = docx.Document(io.BytesIO(data))
    assert document.styles["Normal"].font.name == "Comic Sans MS"
    assert "TEMPLATE BODY TEXT" not in docx_text(data)
    assert "Writing stamina project" in docx_text(data)


def test_docx_drops_characters_xml_cannot_hold() -> None:
    context = WriteupReportContext("C", SchoolRef("Bad\x00\x0bName", "1"), date(2027, 1, 5))
    assert "BadName" in docx_text(render(DocumentKind.WRITEUP_REPORT, context, fmt=Format.DOCX))


def test_csv_has_a_bom_and_round_trips_st_marys() -> None:
    data = render(
        DocumentKind.CLUSTER_REPORT, full_context(DocumentKind.CLUSTER_REPORT), fmt=Format.CSV
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0].startswith("CONFIDENTIAL: ")
    assert rows[1] == ["School", "URN", "self_review", "peer_visit", "write_up", "support"]
    assert rows[2][:2] == ["St Mary’s C of E Primary", "105000"]
    assert data.count(b"\r\n") == 4


def test_csv_support_plan_actions_table() -> None:
    data = render(
        DocumentKind.SUPPORT_PLAN, full_context(DocumentKind.SUPPORT_PLAN), fmt=Format.CSV
    )
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n", 1)[1])))  # after the marking
    assert [r["RAG status"] for r in rows] == ["Amber", "Red", "Green", "Complete"]
    assert rows[0]["Due date"] == "2027-07-16" and rows[1]["Due half-term"] == "Summer 1"
    assert rows[0]["Supporting school"] == HOLY_TRINITY


def test_csv_cells_cannot_run_as_spreadsheet_formulas() -> None:
    context = SupportPlanContext(
        "C", ST_MARYS, (SupportAction('=HYPERLINK("http://x")', "@owner", "-1", Rag.RED),)
    )
    row = list(csv.reader(io.StringIO(render(DocumentKind.SUPPORT_PLAN, context, fmt=Format.CSV)
                                      .decode("utf-8-sig"))))[2]  # fmt: skip
    assert row[1:5] == ['\'=HYPERLINK("http://x")', "'@owner", "", "'-1"]


# --- file names and writing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("..\\..\\Windows\\system32", "Windows-system32"),
        ("/absolute/path", "absolute-path"),
        ("St Mary’s C of E", "St-Marys-C-of-E"),
        ("École Saint-Joseph", "Ecole-Saint-Joseph"),
        ("..", "document"),
        ("", "document"),
        ("CON", "document-CON"),
        ("a\x00b\nc", "a-b-c"),
    ],
    ids=["traversal", "backslashes", "absolute", "apostrophe", "accents", "dots", "empty",
         "reserved", "control"],
)  # fmt: skip
def test_safe_filename(text: str, expected: str) -> None:
    assert files.safe_filename(text) == expected


def test_safe_filename_is_capped() -> None:
    assert len(files.safe_filename("x" * 500)) == 100
    assert len(files.safe_filename("x" * 500, max_length=20)) == 20


def test_a_school_called_etc_passwd_lands_inside_the_output_folder(tmp_path: Path) -> None:
    context = SupportPlanContext("C/2026-27", SchoolRef("../../etc/passwd", "1"))
    name = suggested_filename(DocumentKind.SUPPORT_PLAN, context, Format.PDF)
    assert name == "support-plan-etc-passwd-1-C-2026-27.pdf"
    written = files.write_document(tmp_path, "../../etc/passwd.pdf", b"x")
    assert written.parent == tmp_path.resolve() and written.name == "etc-passwd.pdf"
    assert files.output_path(tmp_path, "../..").parent == tmp_path.resolve()


def test_write_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    files.write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["report.html"]


def test_write_atomic_leaves_no_temp_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        files.write_atomic(target, b"new")
    assert os.listdir(tmp_path) == ["report.pdf"]
    assert target.read_bytes() == b"old"


def test_write_atomic_leaves_no_temp_file_when_data_is_not_bytes(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        files.write_atomic(tmp_path / "x.csv", "text, not bytes")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []
