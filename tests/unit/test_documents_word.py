"""Documents as a head circulates them: Word files on A4 in British English with real
properties, the confidentiality marking on every page of every format, page numbers, lists
that restart, the RAG key, blank fields never printed as "None", a SEF paragraph kept as one
point, and an afternoon visit's outline agenda in the afternoon."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, time

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm

from review_engine.core.domain import Rag, SharingLevel, Slot, VisitFocus
from review_engine.documents import DocumentKind, Format, agenda, render, templating
from review_engine.documents.context import (
    AgendaItem,
    Finding,
    LineOfEnquiry,
    SchoolRef,
    SupportAction,
    SupportPlanContext,
    VisitPackContext,
    WriteupReportContext,
)
from review_engine.services.docs import _points
from tests.unit.test_documents import full_context, minimal_context

NOW = datetime(2027, 3, 15, 14, 5, tzinfo=UTC)
KINDS = list(DocumentKind)


def word(kind: DocumentKind, context: object | None = None) -> docx.document.Document:
    given = context or full_context(kind)
    data = render(kind, given, fmt=Format.DOCX, author="Northbrook", now=NOW)  # type: ignore[arg-type]
    return docx.Document(io.BytesIO(data))


def part(data: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_word_is_a4_with_margins_a_marked_header_and_page_x_of_y(kind: DocumentKind) -> None:
    document = word(kind)
    section = document.sections[0]
    landscape = kind is DocumentKind.SUPPORT_PLAN
    width, height = (Cm(29.7), Cm(21.0)) if landscape else (Cm(21.0), Cm(29.7))
    assert abs(section.page_width - width) < Cm(0.01)
    assert abs(section.page_height - height) < Cm(0.01)
    assert section.orientation == (WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT)
    assert all(
        abs(getattr(section, f"{side}_margin") - Cm(2)) < Cm(0.01)
        for side in ("top", "bottom", "left", "right")
    )
    header = " ".join(p.text for p in section.header.paragraphs)
    assert templating.marking(kind, full_context(kind)) in header
    assert header.startswith(("CONFIDENTIAL: ", "RESTRICTED: "))
    footer = section.footer._element.xml
    assert "Page " in footer and " of " in footer
    fields = re.findall(r"<w:instrText[^>]*>\s*(\w+)\s*</w:instrText>", footer)
    assert fields == ["PAGE", "NUMPAGES"]


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_word_properties_name_the_document_the_cluster_and_now(kind: DocumentKind) -> None:
    context = full_context(kind)
    props = word(kind, context).core_properties
    assert props.title == templating.document_title(kind, context)
    assert props.author == props.last_modified_by == "Northbrook"
    assert props.created == props.modified == NOW
    assert props.language == "en-GB"
    assert "python-docx" not in (props.comments + props.author)


def test_word_speaks_british_english_on_every_style_and_carries_no_foreign_thumbnail() -> None:
    data = render(DocumentKind.WRITEUP_REPORT, full_context(DocumentKind.WRITEUP_REPORT),
                  fmt=Format.DOCX, now=NOW)  # fmt: skip
    styles = part(data, "word/styles.xml")
    langs = set(re.findall(r'<w:lang w:val="([^"]+)"', styles))
    assert langs == {"en-GB"}
    assert styles.count('<w:lang w:val="en-GB"') > 10  # the defaults and each style
    assert 'w:val="en-GB"' in part(data, "word/settings.xml")
    assert "docProps/thumbnail.jpeg" not in zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_numbered_lists_restart_in_each_list() -> None:
    findings = tuple(Finding(f"Point {n}") for n in range(1, 4))
    context = WriteupReportContext(
        "C/2026-27",
        SchoolRef("St Mary’s", "105000"),
        date(2026, 11, 10),
        lines_of_enquiry=(
            LineOfEnquiry("Reading", www=findings, ebi=findings),
            LineOfEnquiry("Writing", www=findings),
        ),
        next_steps=("First", "Second"),
    )
    document = word(DocumentKind.WRITEUP_REPORT, context)
    lists: list[str] = []
    for p in document.paragraphs:
        num = p._p.find(".//{*}numPr/{*}numId")
        if num is not None:
            lists.append(num.get(qn("w:val")))
    runs = [lists[0:3], lists[3:6], lists[6:9], lists[9:]]  # WWW, EBI, WWW, next steps
    assert len(lists) == 11 and all(len(set(r)) == 1 for r in runs)  # one numbering a list
    assert len(set(lists)) == 4  # and each list its own
    numbering = document.part.numbering_part.element.xml
    for num_id in set(lists):
        block = re.search(rf'<w:num w:numId="{num_id}".*?</w:num>', numbering, re.S)
        assert block and '<w:startOverride w:val="1"/>' in block.group(0)


@pytest.mark.parametrize("kind", [DocumentKind.SUPPORT_PLAN, DocumentKind.CLUSTER_REPORT], ids=str)
def test_the_rag_key_and_the_audience_note_are_kept(kind: DocumentKind) -> None:
    document = word(kind)
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    for status, meaning in (("Red", "off track"), ("Amber", "at risk"), ("Green", "on track"),
                            ("Complete", "done")):  # fmt: skip
        assert status in cells and meaning in cells
    texts = [p.text for p in document.paragraphs if p.text.strip()]
    assert texts[-1] == templating.audience_note(kind)


def test_the_support_plans_columns_fill_a_landscape_page() -> None:
    document = word(DocumentKind.SUPPORT_PLAN)
    table = document.tables[0]
    widths = [c.width for c in table.rows[0].cells]
    assert widths[3] > Cm(3)  # "Supporting school" is not broken into "Suppo/rting"
    assert sum(widths) <= Cm(29.7 - 4) + Cm(0.05)


@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize("fmt", [Format.HTML, Format.MD, Format.DOCX], ids=str)
def test_blank_fields_are_never_printed_as_none(kind: DocumentKind, fmt: Format) -> None:
    context = minimal_context(kind)
    if isinstance(context, SupportPlanContext):
        context = replace(
            context,
            actions=(SupportAction("Keep-up", "", "", Rag.AMBER, latest_update=None),),
        )
    data = render(kind, context, fmt=fmt, now=NOW)
    if fmt is Format.DOCX:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for t in document.tables for row in t.rows for c in row.cells]
        )
    else:
        text = data.decode("utf-8")
    assert not re.search(r"\bNone\b(?! recorded| named)", text), "a blank field shows None"


# --- the marking on every page of every format ---------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_html_carries_the_marking_at_its_top_and_on_every_printed_page(kind: DocumentKind) -> None:
    context = full_context(kind)
    html = render(kind, context, fmt=Format.HTML).decode()
    mark = templating.marking(kind, context)
    shown = mark.replace("'", "&#39;")
    assert f'<p class="marking">{shown}</p>' in html
    page_rule = html[html.index("@page") : html.index("}\n", html.index("@top-center"))]
    assert "@top-center { content: " in page_rule
    assert templating.css_string(mark) in page_rule


def test_the_marking_in_css_cannot_leave_its_string() -> None:
    assert (
        templating.css_string('a"b\\c</style>\n')
        == '"a\\000022b\\00005cc\\00003c\\00002fstyle\\00003e\\00000a"'
    )


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_markdown_and_csv_start_with_the_marking(kind: DocumentKind) -> None:
    context = full_context(kind)
    mark = templating.marking(kind, context)
    md = render(kind, context, fmt=Format.MD).decode()
    assert md.splitlines()[0].replace("\\", "") == f"**{mark}**"
    if Format.CSV in templating.supported_formats(kind):
        rows = list(
            csv.reader(io.StringIO(render(kind, context, fmt=Format.CSV).decode("utf-8-sig")))
        )
        assert rows[0] == [mark]


@pytest.mark.parametrize(
    ("sharing", "says"),
    [
        (SharingLevel.REVIEWERS, "its reviewers and the cluster facilitator"),
        (SharingLevel.CLUSTER, "the schools of the cluster only"),
        (SharingLevel.NAMED, "the schools named"),
    ],
    ids=["reviewers", "cluster", "named"],
)
def test_a_writeups_marking_follows_how_far_it_is_shared(sharing: SharingLevel, says: str) -> None:
    context = replace(full_context(DocumentKind.WRITEUP_REPORT), sharing=sharing)
    assert says in templating.marking(DocumentKind.WRITEUP_REPORT, context)


def test_every_page_of_a_long_pdf_carries_the_marking_and_its_number() -> None:
    from pypdf import PdfReader

    from review_engine.documents import exporters

    base = full_context(DocumentKind.SUPPORT_PLAN)
    assert isinstance(base, SupportPlanContext)
    context = replace(base, actions=base.actions * 12)
    [pdf] = exporters.render_pdfs([(DocumentKind.SUPPORT_PLAN, context)], processes=1)
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        assert "CONFIDENTIAL: for the school, its supporting schools" in page
        assert f"Page {n} of {len(pages)}" in page
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert round(float(box.width) / 72 * 2.54, 1) == 29.7  # landscape A4


# --- what the contexts are built from ------------------------------------------------------


def test_a_wrapped_paragraph_stays_one_point() -> None:
    text = (
        "Phonics check results 2024-2026; reading records; subject leader monitoring files;\n"
        "book looks in October 2026.\n"
        "Pupil voice survey.\n"
        "\n"
        "- A marked point that wraps\n"
        "  onto a second line\n"
        "- Another point\n"
    )
    assert _points(text) == (
        "Phonics check results 2024-2026; reading records; subject leader monitoring files; "
        "book looks in October 2026.",
        "Pupil voice survey.",
        "A marked point that wraps onto a second line",
        "Another point",
    )
    assert _points("") == _points(None) == _points("  \n \n") == ()


def test_an_afternoon_visit_gets_an_afternoon_outline_agenda() -> None:
    afternoon = agenda.outline(Slot.AFTERNOON)
    assert afternoon[0].start == time(13, 0) and afternoon[-1].end == time(16, 0)
    assert all(a.start is not None and a.start >= time(13, 0) for a in afternoon)
    assert agenda.outline(Slot.MORNING)[0].start == time(9, 0)
    base = full_context(DocumentKind.VISIT_PACK)
    assert isinstance(base, VisitPackContext)
    context = replace(
        base, slot=Slot.AFTERNOON, agenda=(), suggested_agenda=afternoon,
        focus=VisitFocus.PUPIL_VOICE,
    )  # fmt: skip
    html = render(DocumentKind.VISIT_PACK, context, fmt=Format.HTML).decode()
    assert "A usual afternoon visit runs like this" in html
    assert "13:00&ndash;13:20" in html and "09:00" not in html
    text = "\n".join(
        c.text
        for t in word(DocumentKind.VISIT_PACK, context).tables
        for r in t.rows
        for c in r.cells
    )
    assert "13:00–13:20" in text and "09:00" not in text


def test_an_agenda_time_nobody_agreed_is_not_printed_as_nine_oclock() -> None:
    base = full_context(DocumentKind.VISIT_PACK)
    assert isinstance(base, VisitPackContext)
    context = replace(base, agenda=(AgendaItem(None, "Welcome", "Head"),))
    for fmt in (Format.HTML, Format.MD):
        text = render(DocumentKind.VISIT_PACK, context, fmt=fmt).decode()
        agenda_part = text[text.index("Agenda") :]
        assert "to agree" in agenda_part and "09:00" not in agenda_part.split("Host staff")[0]
