"""The write-up file a lead reviewer fills in: written as a template, read back with lines.

Two formats, as for the SEF (`sef_file.py`). Markdown, the readable one:

    # Write-up: Northbrook Primary School (URN 990101)
    ## Activities
    - Learning walk with the head
    ## What went well
    ### Consistency of phonics teaching        <- the line of enquiry
    What: Phonics lessons follow the same routines in every class.
    Evidence: Learning walk and joint observation in Year 2
    ## Even better if
    ### ... (as above)
    ## Good practice
    ### quality_of_education                   <- the framework area
    Practice: Whole-school phonics routines
    Contact: English lead
    ## Next steps
    Free text.

and YAML (`activities`, `www`/`ebi` lists of `line`, `text`, `evidence`, `good_practice` of
`area`, `description`, `contact`, `next_steps`). A Word document with the same headings reads
as the Markdown does. A blank value is empty text, never the word "None".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from review_engine.core.safe_text import (
    WRITEUP_LIMIT,
    check_file_text,
    safe_yaml,
    size_text,
)
from review_engine.errors import FileFormatError

SECTIONS = {
    "activities": "Activities",
    "www": "What went well",
    "ebi": "Even better if",
    "good_practice": "Good practice",
    "next_steps": "Next steps",
}
_SECTION_BY_TITLE = {title.casefold(): key for key, title in SECTIONS.items()} | {
    "www": "www",
    "what went well (www)": "www",
    "ebi": "ebi",
    "even better if (ebi)": "ebi",
    "agreed good practice": "good_practice",
}
ITEM_FIELDS = {"what": "text", "evidence": "evidence"}
PRACTICE_FIELDS = {"practice": "description", "contact": "contact"}
_LABEL = re.compile(r"^(?P<label>[A-Za-z][A-Za-z ]{0,20}?)\s*:\s?(?P<rest>.*)$")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_PLACEHOLDER = re.compile(r"^\(.*\)$")  # the template's "(what you saw)" prompts


class WriteupFormat(StrEnum):
    MD = "md"
    YAML = "yaml"


@dataclass(frozen=True)
class ItemEntry:
    kind: str  # "www" or "ebi"
    line: str  # the line of enquiry
    text: str
    evidence: str


@dataclass(frozen=True)
class PracticeEntry:
    area: str
    description: str
    contact: str


@dataclass(frozen=True)
class WriteupContent:
    items: tuple[ItemEntry, ...]
    good_practice: tuple[PracticeEntry, ...]
    activities: tuple[str, ...]
    next_steps: str


def template(
    *,
    school: str,
    urn: int,
    cycle: str,
    fmt: WriteupFormat,
    question: str | None = None,
    areas: tuple[tuple[str, str], ...] = (),
) -> str:
    """A blank write-up for the visit to one school: the host's enquiry question to answer,
    and the framework's areas (key, title) for good practice."""
    asked = question or "(the host's enquiry question)"
    area_keys = ", ".join(key for key, _ in areas) or "an area of the framework"
    if fmt is WriteupFormat.YAML:
        return "\n".join(
            [
                f"# Write-up of the visit to {school} (URN {urn}), cycle {cycle}.",
                f"# Enquiry question: {asked}",
                "# Put any text containing ': ' in quotes, or use the Markdown form",
                "# (review writeup template --format md).",
                "activities:",
                '  - ""',
                "www:",
                '  - line: ""   # the line of enquiry',
                '    text: ""',
                '    evidence: ""',
                "ebi:",
                '  - line: ""',
                '    text: ""',
                '    evidence: ""',
                "good_practice:",
                f'  - area: ""   # {area_keys}',
                '    description: ""',
                '    contact: ""',
                'next_steps: ""',
                "",
            ]
        )
    lines = [
        f"# Write-up: {school} (URN {urn})",
        "",
        f"Cycle {cycle}. Enquiry question: {asked}",
        "Write under each heading and keep the headings. Each ### heading under What went well",
        "and Even better if is a line of enquiry; give it a What: and an Evidence: line (text may",
        "run on over several lines). Copy a ### block for each further item; delete the",
        "(bracketed) prompts. Good practice headings are framework areas: " + area_keys + ".",
        "",
        "## Activities",
        "",
        "- (an activity of the visit, one per line)",
        "",
        "## What went well",
        "",
        "### (line of enquiry)",
        "",
        "What: (what went well)",
        "Evidence: (where you saw it)",
        "",
        "## Even better if",
        "",
        "### (line of enquiry)",
        "",
        "What: (what would be even better)",
        "Evidence: (where you saw it)",
        "",
        "## Good practice",
        "",
        "### (area)",
        "",
        "Practice: (the practice other schools could see)",
        "Contact: (who to ask)",
        "",
        "## Next steps",
        "",
        "(what happens next)",
        "",
    ]
    return "\n".join(lines)


def parse(text: str, *, fmt: WriteupFormat, source: str = "write-up") -> WriteupContent:
    """Read a filled-in write-up; one line (with its line number) for the first problem."""
    if len(text) > WRITEUP_LIMIT:
        raise FileFormatError(
            f"the write-up is larger than the {size_text(WRITEUP_LIMIT)} limit", source=source
        )
    text = check_file_text(text, source=source)
    if fmt is WriteupFormat.YAML:
        return _read_yaml(text, source)
    return _read_markdown(text, source)


def guess_format(text: str) -> WriteupFormat:
    """Markdown if the text has a `## ` heading, else YAML."""
    has_heading = any(line.startswith("## ") for line in text.splitlines())
    return WriteupFormat.MD if has_heading else WriteupFormat.YAML


# --- Markdown --------------------------------------------------------------------------------


@dataclass
class _Block:
    """One ### block being read: its heading and its labelled fields."""

    section: str
    heading: str
    line: int
    fields: dict[str, list[str]]
    current: str | None = None


def _clean(text: str) -> str:
    text = text.strip()
    return "" if _PLACEHOLDER.match(text) else text


def _read_markdown(text: str, source: str) -> WriteupContent:
    section: str | None = None
    activities: list[str] = []
    next_steps: list[str] = []
    blocks: list[_Block] = []
    block: _Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("### "):
            if section not in ("www", "ebi", "good_practice"):
                raise FileFormatError(
                    f"a ### heading belongs under What went well, Even better if or Good "
                    f"practice, not {SECTIONS.get(section or '', 'the top of the file')}",
                    line=number,
                    source=source,
                )
            block = _Block(section, _clean(stripped[4:]), number, {})
            blocks.append(block)
        elif stripped.startswith("## "):
            title = stripped[3:].strip().rstrip(":").casefold()
            found = _SECTION_BY_TITLE.get(title)
            if found is None:
                known = ", ".join(SECTIONS.values())
                raise FileFormatError(
                    f"unknown section {stripped[3:].strip()!r}; the sections are {known}",
                    line=number,
                    source=source,
                )
            section, block = found, None
        elif stripped.startswith("# ") or section is None:
            continue  # the title and the notes under it
        elif section == "activities":
            activity = _clean(_BULLET.sub("", stripped))
            if activity:
                activities.append(activity)
        elif section == "next_steps":
            next_steps.append(raw.rstrip())
        elif block is not None:
            _read_field(block, stripped, number, source)
        elif stripped:
            raise FileFormatError(
                f"text under {SECTIONS[section]} belongs under a ### heading",
                line=number,
                source=source,
            )
    # A block left as the template gave it (every prompt deleted or untouched) is not an item.
    blocks = [b for b in blocks if b.heading or any(_field(b, k) for k in b.fields)]
    return WriteupContent(
        items=tuple(_item(b, source) for b in blocks if b.section in ("www", "ebi")),
        good_practice=tuple(_practice(b, source) for b in blocks if b.section == "good_practice"),
        activities=tuple(activities),
        next_steps=_clean("\n".join(next_steps)),
    )


def _read_field(block: _Block, stripped: str, number: int, source: str) -> None:
    labels = PRACTICE_FIELDS if block.section == "good_practice" else ITEM_FIELDS
    found = _LABEL.match(stripped)
    label = found["label"].strip().casefold() if found else None
    if found and label in labels:
        block.current = labels[label]
        block.fields.setdefault(block.current, []).append(found["rest"])
    elif block.current is not None:
        block.fields[block.current].append(stripped)
    elif stripped:
        expected = " and ".join(f"{k.title()}:" for k in labels)
        raise FileFormatError(
            f"under {block.heading or 'this heading'}, start with {expected}",
            line=number,
            source=source,
        )


def _field(block: _Block, key: str) -> str:
    lines = block.fields.get(key, [])
    paragraphs = "\n".join(lines).strip()
    # Lines run on within a paragraph; a blank line keeps paragraphs apart.
    return _clean(re.sub(r"(?<!\n)\n(?!\n)", " ", paragraphs))


def _item(block: _Block, source: str) -> ItemEntry:
    item = ItemEntry(block.section, block.heading, _field(block, "text"), _field(block, "evidence"))
    kind = SECTIONS[block.section]
    for value, what in ((item.line, "a line of enquiry (the ### heading)"),
                        (item.text, "What:"), (item.evidence, "Evidence:")):  # fmt: skip
        if not value:
            raise FileFormatError(f"{kind}: this item needs {what}", line=block.line, source=source)
    return item


def _practice(block: _Block, source: str) -> PracticeEntry:
    practice = PracticeEntry(block.heading, _field(block, "description"), _field(block, "contact"))
    if not practice.area or not practice.description:
        raise FileFormatError(
            "good practice needs an area (the ### heading) and Practice:",
            line=block.line,
            source=source,
        )
    return practice


# --- YAML ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A YAML value as text: a blank (null) value is empty, never "None"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _read_yaml(text: str, source: str) -> WriteupContent:
    try:
        data = safe_yaml(text, source=source)
    except FileFormatError as exc:
        if exc.reason == "not valid YAML" and exc.line is not None:
            shown = text.splitlines()[exc.line - 1] if exc.line <= len(text.splitlines()) else ""
            if ": " in shown.split(":", 1)[-1]:
                raise FileFormatError(
                    "not valid YAML: a value containing ': ' needs quotes around it "
                    '(text: "..."), or write the file in Markdown (review writeup template)',
                    line=exc.line,
                    source=source,
                ) from exc
        raise
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileFormatError("expected www:, ebi:, good_practice: sections", source=source)
    for section in ("www", "ebi", "good_practice", "activities"):
        if not isinstance(data.get(section) or [], list):
            raise FileFormatError(f"{section}: should be a list of items", source=source)
    if isinstance(data.get("next_steps"), dict | list):
        raise FileFormatError("next_steps: should be text", source=source)
    items = []
    for kind in ("www", "ebi"):
        for n, raw in enumerate(data.get(kind) or [], start=1):
            if not isinstance(raw, dict) or not {"line", "text", "evidence"} <= raw.keys():
                raise FileFormatError(
                    f"{kind} item {n} needs line, text and evidence", source=source
                )
            item = ItemEntry(kind, _text(raw["line"]), _text(raw["text"]), _text(raw["evidence"]))
            if not any((item.line, item.text, item.evidence)):
                continue  # the template's blank item
            items.append(item)
    practice = []
    for n, raw in enumerate(data.get("good_practice") or [], start=1):
        if not isinstance(raw, dict) or not {"area", "description"} <= raw.keys():
            raise FileFormatError(
                f"good_practice item {n} needs area and description", source=source
            )
        entry = PracticeEntry(
            _text(raw["area"]), _text(raw["description"]), _text(raw.get("contact"))
        )
        if any((entry.area, entry.description, entry.contact)):
            practice.append(entry)
    return WriteupContent(
        items=tuple(items),
        good_practice=tuple(practice),
        activities=tuple(a for a in (_text(a) for a in data.get("activities") or []) if a),
        next_steps=_text(data.get("next_steps")),
    )
