"""Word documents (python-docx) built from a typed context, as a head would circulate them.

A4 with 2 cm margins (the support plan landscape, for its eight columns), en-GB on the
document's default run and every style, real core properties (the document's title, the cluster
as author, created and modified at the time the caller gives), a page header carrying the
confidentiality marking and a footer "Page X of Y" (PAGE and NUMPAGES fields, which Word and
LibreOffice fill in). Numbered lists restart at 1 in each list; RAG tables carry their key;
the audience note closes every document. A facilitator's template .docx lends its styles, page
size, headers and footers (the marking and page numbers are added to them). Blank fields are
printed as words ("none", "not given"), never as "None".
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from review_engine.core.domain import Rag
from review_engine.documents import templating as documents
from review_engine.documents.context import (
    ClusterReportContext,
    DocumentContext,
    HostSef,
    PracticeDirectoryContext,
    SefSummaryContext,
    SupportPlanContext,
    VisitPackContext,
    WriteupReportContext,
)
from review_engine.documents.kinds import DocumentKind

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import _Cell
    from docx.text.paragraph import Paragraph

LANGUAGE = "en-GB"
A4 = (21.0, 29.7)  # cm
MARGIN_CM = 2.0
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RAG_FILL = {Rag.RED: "F8C9CD", Rag.AMBER: "FFE2A8", Rag.GREEN: "C9EBD2", Rag.COMPLETE: "DCDCEA"}
_THUMBNAIL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"


def _x(text: object) -> str:
    """Text Word can store: characters XML 1.0 forbids are dropped; None is blank."""
    return "" if text is None else _XML_INVALID.sub("", str(text))


def _el(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    return element


class _Word:
    """A thin writer over python-docx that falls back when a template lacks a style."""

    def __init__(
        self, template: str | os.PathLike[str] | None, *, landscape: bool, marking: str
    ) -> None:
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
        self._page(a4=template is None, landscape=landscape)
        self._language()
        self._header_footer(marking)

    # --- the page ------------------------------------------------------------------------

    def _page(self, *, a4: bool, landscape: bool) -> None:
        from docx.enum.section import WD_ORIENT
        from docx.shared import Cm

        for section in self.doc.sections:
            width, height = (
                (Cm(A4[0]), Cm(A4[1])) if a4 else (section.page_width, section.page_height)
            )
            assert width is not None and height is not None
            short, long = sorted((width, height))
            if landscape:
                section.orientation = WD_ORIENT.LANDSCAPE
                section.page_width, section.page_height = long, short
            else:
                section.orientation = WD_ORIENT.PORTRAIT
                section.page_width, section.page_height = short, long
            if a4:
                for side in ("top", "bottom", "left", "right"):
                    setattr(section, f"{side}_margin", Cm(MARGIN_CM))
                section.header_distance = section.footer_distance = Cm(1.0)

    @property
    def text_width(self) -> int:
        """The width between the margins of the first section, in EMU."""
        s = self.doc.sections[0]
        return int((s.page_width or 0) - (s.left_margin or 0) - (s.right_margin or 0))

    def _language(self) -> None:
        """en-GB on the default run properties, every style and the theme's font language."""
        from docx.oxml.ns import qn

        styles = self.doc.styles.element
        defaults = styles.find(qn("w:docDefaults"))
        if defaults is None:
            defaults = _el("w:docDefaults")
            styles.insert(0, defaults)
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is None:
            rpr_default = _el("w:rPrDefault")
            defaults.insert(0, rpr_default)
        targets = [rpr_default.find(qn("w:rPr"))]
        if targets[0] is None:
            targets = [_el("w:rPr")]
            rpr_default.append(targets[0])
        for style in styles.findall(qn("w:style")):
            rpr = style.find(qn("w:rPr"))
            if rpr is None and style.get(qn("w:type")) in ("paragraph", "character"):
                rpr = _el("w:rPr")
                style.append(rpr)
            if rpr is not None:
                targets.append(rpr)
        for rpr in targets:
            for old in rpr.findall(qn("w:lang")):
                rpr.remove(old)
            rpr.append(_el("w:lang", val=LANGUAGE, eastAsia=LANGUAGE, bidi="ar-SA"))
        settings = self.doc.settings.element
        for old in settings.findall(qn("w:themeFontLang")):
            old.set(qn("w:val"), LANGUAGE)

    def _header_footer(self, marking: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt, RGBColor

        for section in self.doc.sections:
            header = section.header
            header.is_linked_to_previous = False
            first = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
            p = first if not first.text.strip() else header.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(_x(marking))
            run.bold = True
            run.font.size = Pt(8)
            run.font.color.rgb = RGBColor(0x7A, 0x0C, 0x16)
            footer = section.footer
            footer.is_linked_to_previous = False
            fields = [i.text or "" for i in footer._element.iter() if i.tag.endswith("}instrText")]
            if any("PAGE" in f for f in fields):
                continue  # the template numbers its pages already
            first = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
            p = first if not first.text.strip() else footer.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for piece in ("Page ", "PAGE", " of ", "NUMPAGES"):
                if piece.isupper():
                    _field(p, piece)
                else:
                    p.add_run(piece).font.size = Pt(8)

    # --- content -------------------------------------------------------------------------

    def heading(self, text: str, level: int) -> None:
        if f"Heading {level}" in self._styles or (level == 0 and "Title" in self._styles):
            self.doc.add_heading(_x(text), level)
        else:
            self.doc.add_paragraph().add_run(_x(text)).bold = True

    def para(self, text: str, *, label: str | None = None, italic: bool = False) -> Paragraph:
        p = self.doc.add_paragraph()
        if label:
            p.add_run(_x(label) + " ").bold = True
        p.add_run(_x(text)).italic = italic
        return p

    def items(self, values: Sequence[str], empty: str, *, numbered: bool = False) -> None:
        values = [v for v in values if v is not None and str(v).strip()]
        if not values:
            if empty:
                self.para(empty, italic=True)
            return
        style = self._numbered if numbered else self._bullet
        made = []
        for i, value in enumerate(values, 1):
            prefix = "" if style else (f"{i}. " if numbered else "• ")
            made.append(self.doc.add_paragraph(prefix + _x(value), style=style))
        if numbered and style:
            self._restart(made)

    def _restart(self, paragraphs: list[Paragraph]) -> None:
        """Number these paragraphs from 1: a new w:num over the List Number style's abstract
        numbering, with a start override, set on each paragraph."""
        from docx.oxml.ns import qn

        assert self._numbered is not None
        style = self.doc.styles[self._numbered].element
        num_id = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
        if num_id is None:
            return
        numbering = self.doc.part.numbering_part.element
        abstract = next(
            (
                n.find(qn("w:abstractNumId")).get(qn("w:val"))
                for n in numbering.findall(qn("w:num"))
                if n.get(qn("w:numId")) == num_id.get(qn("w:val"))
            ),
            None,
        )
        if abstract is None:
            return
        new_id = str(1 + max(int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))))
        num = _el("w:num", numId=new_id)
        num.append(_el("w:abstractNumId", val=abstract))
        override = _el("w:lvlOverride", ilvl="0")
        override.append(_el("w:startOverride", val="1"))
        num.append(override)
        numbering.append(num)
        for p in paragraphs:
            ppr = p._p.get_or_add_pPr()
            for old in ppr.findall(qn("w:numPr")):
                ppr.remove(old)
            num_pr = _el("w:numPr")
            num_pr.append(_el("w:ilvl", val="0"))
            num_pr.append(_el("w:numId", val=new_id))
            ppr.insert(1 if ppr.find(qn("w:pStyle")) is not None else 0, num_pr)

    def table(
        self,
        headers: Sequence[str] | None,
        rows: Sequence[Sequence[object]],
        *,
        row_headers: bool = True,
        widths: Sequence[float] | None = None,
    ) -> list[list[_Cell]]:
        """A table (header row repeated on each page); widths are shares of the text width."""
        from docx.shared import Emu

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
        if widths:
            table.autofit = False
            total = sum(widths)
            emus = [Emu(int(self.text_width * w / total)) for w in widths]
            for column, emu in zip(table.columns, emus, strict=True):
                column.width = emu
            for row_ in table.rows:
                for cell, emu in zip(row_.cells, emus, strict=True):
                    cell.width = emu
        self.doc.add_paragraph()
        return out

    def rag_key(self) -> None:
        """The RAG key: each status as a word on its colour, and what it means."""
        self.heading("Key", 2)
        rows = self.table(
            None,
            [(documents.rag_label(r), m) for r, m in documents.RAG_MEANINGS.items()],
            widths=(1, 3),
        )
        for cells, rag in zip(rows, documents.RAG_MEANINGS, strict=True):
            _shade(cells[0], _RAG_FILL[rag])

    def save(self, title: str, *, author: str | None, now: datetime, note: str) -> bytes:
        from docx.shared import Pt

        closing = self.para(note, italic=True)
        for run in closing.runs:
            run.font.size = Pt(9)
        props = self.doc.core_properties
        props.title = _x(title)
        props.author = props.last_modified_by = _x(author or "review-engine")
        props.comments = ""
        props.subject = props.keywords = props.category = ""
        props.language = LANGUAGE
        props.revision = 1
        stamp = now.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        props.created = props.modified = stamp
        rels = self.doc.part.package.rels
        for key, rel in list(rels.items()):
            if rel.reltype == _THUMBNAIL:  # python-docx's own thumbnail, not this document's
                del rels[key]
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A PAGE or NUMPAGES field: begin, instruction, separate, a placeholder and end, each in
    a run of its own in the footer's small type (LibreOffice sizes the number by them)."""
    from docx.shared import Pt

    def run(element: Any) -> None:
        r = paragraph.add_run()
        r.font.size = Pt(8)
        r._r.append(element)

    run(_el("w:fldChar", fldCharType="begin"))
    instr = _el("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = f" {instruction} "
    run(instr)
    run(_el("w:fldChar", fldCharType="separate"))
    text = _el("w:t")
    text.text = "1"
    run(text)
    run(_el("w:fldChar", fldCharType="end"))


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(_el("w:tblHeader", val="true"))


def _shade(cell: _Cell, fill: str) -> None:
    cell._tc.get_or_add_tcPr().append(_el("w:shd", val="clear", color="auto", fill=fill))


def _date(value: Any) -> str:
    return documents.long_date(value) if value else ""


def to_docx(
    kind: DocumentKind,
    context: DocumentContext,
    *,
    template: str | os.PathLike[str] | None = None,
    author: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """A Word document built from the context; template lends its styles. `author` is the
    cluster (the document's author in its properties); `now` its created and modified time."""
    documents.check_context(kind, context)
    title = documents.document_title(kind, context)
    w = _Word(
        template,
        landscape=isinstance(context, SupportPlanContext),
        marking=documents.marking(kind, context),
    )
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
    return w.save(
        title,
        author=author,
        now=now or datetime.now(UTC),
        note=documents.audience_note(kind),
    )


def _docx_sef(w: _Word, c: SefSummaryContext) -> None:
    s = c.school
    submitted = f"submitted {_date(c.submitted_on)}" if c.submitted_on else "not yet submitted"
    w.para(f"Cycle {c.cycle} · {c.framework} · version {c.version} · {submitted}")
    w.heading("School context", 1)
    ofsted = s.ofsted_rating or "not inspected"
    if s.ofsted_date:
        ofsted += f" ({_date(s.ofsted_date)})"
    w.table(None, [
        ("School", s.name), ("URN", s.urn), ("Phase", s.phase or "not given"),
        ("Type", s.school_type or "not given"),
        ("Local authority", s.local_authority or "not given"),
        ("Pupils", s.pupils if s.pupils is not None else "not known"),
        ("Trust", s.trust or "none"), ("Latest Ofsted rating", ofsted),
    ], widths=(1, 3))  # fmt: skip
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


def _agenda_time(a: Any) -> str:
    if a.start is None:
        return "to agree"
    return documents.hhmm(a.start) + (f"–{documents.hhmm(a.end)}" if a.end else "")


def _docx_visit(w: _Word, c: VisitPackContext) -> None:
    slot = documents.slot_label(c.slot)
    w.para(f"Cycle {c.cycle} · {documents.day_date(c.visit_date)}, {slot.lower()}")
    w.heading("The visit", 1)
    focus = documents.focus_label(c.focus) + (f": {c.focus_detail}" if c.focus_detail else "")
    w.table(None, [
        ("Host school", f"{c.host.name} (URN {c.host.urn})"),
        ("Date", documents.day_date(c.visit_date)), ("Slot", slot), ("Focus", focus),
    ], widths=(1, 3))  # fmt: skip
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
        w.table(("Time", "Activity", "Who"),
                [(_agenda_time(a), a.activity, a.who) for a in c.agenda],
                row_headers=False, widths=(1.2, 3, 1.6))  # fmt: skip
    elif c.suggested_agenda:
        w.para(
            f"The agenda has not been agreed yet. A usual {slot.lower()} visit runs like this:",
            italic=True,
        )
        w.table(("Time", "Activity", "Who"),
                [(_agenda_time(a), a.activity, a.who) for a in c.suggested_agenda],
                row_headers=False, widths=(1.2, 3, 1.6))  # fmt: skip
    else:
        w.para("The agenda has not been agreed yet.", italic=True)
    w.heading("Host staff taking part", 1)
    w.items(
        [p.name + (f", {p.job_title}" if p.job_title else "") for p in c.host_staff],
        "None named yet.",
    )
    w.heading("Practical details", 1)
    lines = [*(c.address or "").splitlines(), *([c.postcode] if c.postcode else [])]
    address = ", ".join(x for x in lines if x.strip()) or "not given"
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
    w.table(None, rows, widths=(1, 3))
    if c.host_sef is not None:
        _docx_host_sef(w, c.host_sef)


def _docx_host_sef(w: _Word, sef: HostSef) -> None:
    w.heading("The host's self-evaluation", 1)
    submitted = f" · submitted {_date(sef.submitted_on)}" if sef.submitted_on else ""
    w.para(
        f"{sef.framework} · version {sef.version}{submitted}. For the visiting reviewers to "
        "read before the visit.",
        italic=True,
    )
    for area in sef.areas:
        w.heading(f"{area.name}: {area.grade_label or 'not graded'}", 2)
        w.heading("Strengths", 3)
        w.items(area.strengths, "None recorded.")
        w.heading("Areas for development", 3)
        w.items(area.areas_for_development, "None recorded.")


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
    ], widths=(1, 3))  # fmt: skip
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
            widths=(1.3, 3, 1.5),
        )
    else:
        w.para("No good practice recorded yet.", italic=True)
    w.heading("Next steps", 1)
    w.items(c.next_steps, "No next steps recorded.", numbered=True)
    w.heading("Sharing", 1)
    w.para(sharing + ".")
    w.para(documents.PEER_REVIEW_NOTICE)


def _docx_support(w: _Word, c: SupportPlanContext) -> None:
    when = "".join(
        (
            f" · agreed {_date(c.agreed_on)}" if c.agreed_on else "",
            f" · last reviewed {_date(c.reviewed_on)}" if c.reviewed_on else "",
        )
    )
    w.para(f"{c.school.name} (URN {c.school.urn}) · cycle {c.cycle}{when}")
    w.heading("Actions", 1)
    if not c.actions:
        w.para("No actions agreed yet.", italic=True)
    else:
        rows = w.table(
            ("#", "Action", "Owner", "Supporting school", "Success criteria", "Due",
             "RAG status", "Latest update"),
            [(n, a.action, a.owner or "not given", a.supporting_school or "none",
              a.success_criteria or "not given", documents.due_label(a),
              documents.rag_label(a.rag), _update(a.latest_update, a.latest_update_on))
             for n, a in enumerate(c.actions, 1)],
            widths=(0.8, 5.0, 2.6, 3.2, 5.0, 2.6, 2.0, 4.9),
        )  # fmt: skip
        for cells, action in zip(rows, c.actions, strict=True):
            _shade(cells[6], _RAG_FILL[action.rag])
    w.rag_key()


def _update(text: str | None, on: Any) -> str:
    if not text:
        return "no update yet"
    return f"{_date(on)}: {text}" if on else text


def _docx_cluster(w: _Word, c: ClusterReportContext) -> None:
    w.para(
        f"Cluster {c.cluster} · cycle {c.cycle} · phase: {c.cycle_state} · as of {_date(c.as_of)}"
    )
    w.heading("Where every school is", 1)
    if c.schools:
        w.table(("School", "URN", *c.phases),
                [(s.school.name, s.school.urn, *s.states) for s in c.schools],
                widths=(3, 1.8, *([2] * len(c.phases))))  # fmt: skip
    else:
        w.para("No schools in this cycle yet.", italic=True)
    w.heading("Overdue", 1)
    if c.overdue:
        w.table(("School", "Item", "Due", "Days overdue"),
                [(o.school, o.item, _date(o.due), o.days_overdue) for o in c.overdue],
                widths=(2, 3.2, 1.6, 1))  # fmt: skip
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
    w.rag_key()
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
