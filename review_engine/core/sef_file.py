"""The self-evaluation file a head fills in: written as a template, read back with line numbers.

Two formats: Markdown (`## Area` headings, `Grade:` lines, `### Strengths` sections) and YAML.
Reading validates against the framework and reports every problem with its line: an unknown
area, a grade not on the scale, an empty required field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import yaml

from review_engine.core.frameworks import Framework
from review_engine.core.safe_text import (
    SEF_LIMIT,
    TEXT_MAX,
    check_file_text,
    safe_compose,
    size_text,
)
from review_engine.errors import FileFormatError, FormRejected, ImportRejected, RowError

FIELDS = (
    ("strengths", "Strengths"),
    ("areas_for_development", "Areas for development"),
    ("evidence", "Evidence"),
)
_FIELD_BY_TITLE = {title.lower(): key for key, title in FIELDS}
_GRADE_RE = re.compile(r"^grade\s*:\s*(.*)$", re.IGNORECASE)
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SefFormat(StrEnum):
    MD = "md"
    YAML = "yaml"


@dataclass(frozen=True)
class AreaEntry:
    key: str
    grade: str
    strengths: str
    areas_for_development: str
    evidence: str


@dataclass(frozen=True)
class SefContent:
    enquiry_question: str
    areas: tuple[AreaEntry, ...]


@dataclass
class _Raw:
    key: str
    line: int
    grade: str = ""
    grade_line: int = 0
    fields: dict[str, tuple[str, int]] | None = None


def template(framework: Framework, *, school: str, urn: int, fmt: SefFormat) -> str:
    """A blank SEF for one school, with the framework's areas and grade scales."""
    if fmt is SefFormat.YAML:
        lines = [
            f"# Self-evaluation for {school} (URN {urn}); framework {framework.name}.",
            "# Fill in every area (early years / sixth form / post-16 only where you have them).",
            f"school: {urn}",
            f"framework: {framework.name}",
            'enquiry_question: ""   # "To what extent ...?" - the question for your peer visit',
            "areas:",
        ]
        for area in framework.areas:
            scale = " | ".join(k for k, _ in area.grades)
            optional = " (optional)" if not area.required else ""
            lines += [
                f"  {area.key}:   # {area.title}{optional}",
                f'    grade: ""   # {scale}',
                *(f'    {key}: ""' for key, _ in FIELDS),
            ]
        return "\n".join(lines) + "\n"
    lines = [
        f"# Self-evaluation: {school} (URN {urn})",
        "",
        f"Framework: {framework.name} ({framework.title}). Write under each heading; keep the",
        "headings. Areas marked (optional) may be left empty if your school has none.",
        "",
        "## Enquiry question",
        "",
        "To what extent ...?",
        "",
    ]
    for area in framework.areas:
        scale = ", ".join(label for _, label in area.grades)
        optional = " (optional)" if not area.required else ""
        lines += [f"## {area.title}{optional}", "", f"Grade: (one of: {scale})", ""]
        for _, title in FIELDS:
            lines += [f"### {title}", "", ""]
    return "\n".join(lines)


def parse(text: str, framework: Framework, *, fmt: SefFormat, source: str = "") -> SefContent:
    """Read a filled-in SEF; raises ImportRejected listing every problem with its line.

    Text over the SEF size limit, or holding NUL or control characters, is refused first."""
    if len(text) > SEF_LIMIT:
        raise FileFormatError(
            f"the self-evaluation is larger than the {size_text(SEF_LIMIT)} limit",
            source=source or "SEF",
        )
    text = check_file_text(text, source=source or "SEF")
    if fmt is SefFormat.YAML:
        question, question_line, raws = _read_yaml(text, source)
    else:
        question, question_line, raws = _read_markdown(text, framework, source)
    return _validate(question, question_line, raws, framework, source)


def _read_markdown(text: str, framework: Framework, source: str) -> tuple[str, int, list[_Raw]]:
    by_title = {a.title.lower(): a.key for a in framework.areas}
    by_title.update({a.key.lower(): a.key for a in framework.areas})
    raws: list[_Raw] = []
    question_lines: list[str] = []
    question_line = 0
    section: str | None = None  # "question", or a field key inside the current area
    current: _Raw | None = None
    buffer: list[str] = []

    def flush() -> None:
        if current is not None and section is not None and current.fields is not None:
            _, line = current.fields[section]
            current.fields[section] = ("\n".join(buffer).strip(), line)
        buffer.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("## ") and not stripped.startswith("### "):
            flush()
            title = re.sub(r"\s*\(optional\)\s*$", "", stripped[3:].strip(), flags=re.I).lower()
            if title == "enquiry question":
                section, current, question_line = "question", None, number
                continue
            current = _Raw(key=by_title.get(title, title), line=number, fields={})
            if title not in by_title:
                current.key = f"?{stripped[3:].strip()}"
            raws.append(current)
            section = None
        elif stripped.startswith("### ") and current is not None:
            flush()
            field = _FIELD_BY_TITLE.get(stripped[4:].strip().lower())
            if field is None:
                raise FileFormatError(
                    f"unknown section {stripped[4:].strip()!r}; expected "
                    + ", ".join(t for _, t in FIELDS),
                    line=number,
                    source=source,
                )
            assert current.fields is not None
            current.fields[field] = ("", number)
            section = field
        elif section == "question":
            question_lines.append(line)
        elif current is not None and section is None and _GRADE_RE.match(stripped):
            match = _GRADE_RE.match(stripped)
            assert match
            current.grade, current.grade_line = match[1].strip(), number
        elif current is not None and section is not None:
            buffer.append(line)
    flush()
    question = "\n".join(question_lines).strip()
    if question == "To what extent ...?":
        question = ""
    for raw in raws:
        if raw.grade.startswith("(one of:"):
            raw.grade = ""
    return question, question_line or 1, raws


def _read_yaml(text: str, source: str) -> tuple[str, int, list[_Raw]]:
    root = safe_compose(text, source=source or "SEF")
    if not isinstance(root, yaml.MappingNode):
        raise FileFormatError("expected a mapping with enquiry_question and areas", source=source)
    top = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    question_node = top.get("enquiry_question")
    question = _scalar(question_node)
    question_line = question_node.start_mark.line + 1 if question_node is not None else 1
    areas_node = top.get("areas")
    raws: list[_Raw] = []
    if isinstance(areas_node, yaml.MappingNode):
        for key_node, value in areas_node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise FileFormatError(
                    "an area's name should be a word",
                    line=key_node.start_mark.line + 1,
                    source=source,
                )
            raw = _Raw(key=str(key_node.value), line=key_node.start_mark.line + 1, fields={})
            assert raw.fields is not None
            if isinstance(value, yaml.MappingNode):
                for fk, fv in value.value:
                    line = fk.start_mark.line + 1
                    if not isinstance(fk, yaml.ScalarNode):
                        raise FileFormatError(
                            f"a field name in area {raw.key} should be a word",
                            line=line,
                            source=source,
                        )
                    if fk.value == "grade":
                        raw.grade, raw.grade_line = _scalar(fv), line
                    elif fk.value in dict(FIELDS):
                        raw.fields[fk.value] = (_scalar(fv), line)
                    else:
                        raise FileFormatError(
                            f"unknown field {fk.value!r} in area {raw.key}",
                            line=line,
                            source=source,
                        )
            raws.append(raw)
    elif areas_node is None:
        raise FileFormatError("no areas: section", source=source)
    return question, question_line, raws


def _scalar(node: yaml.Node | None) -> str:
    if node is None or not isinstance(node, yaml.ScalarNode) or node.value is None:
        return ""
    return str(node.value).strip()


def _validate(
    question: str, question_line: int, raws: list[_Raw], framework: Framework, source: str
) -> SefContent:
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    entries: list[AreaEntry] = []
    if not question:
        errors.append(RowError(question_line, "the enquiry question is empty", source))
    elif len(question) > TEXT_MAX:
        why = f"the enquiry question is {len(question):,} characters long; at most {TEXT_MAX:,}"
        errors.append(RowError(question_line, why, source))
    for raw in raws:
        area = framework.area(raw.key)
        if area is None:
            name = raw.key.lstrip("?")
            known = ", ".join(a.title for a in framework.areas)
            errors.append(
                RowError(
                    raw.line, f"unknown area {name!r} for {framework.name} (known: {known})", source
                )
            )
            continue
        if raw.key in seen:
            errors.append(
                RowError(
                    raw.line, f"area {area.title} given twice (also line {seen[raw.key]})", source
                )
            )
            continue
        seen[raw.key] = raw.line
        fields = raw.fields or {}
        values = {key: fields.get(key, ("", raw.line)) for key, _ in FIELDS}
        filled = bool(raw.grade) or any(v for v, _ in values.values())
        if not area.required and not filled:
            continue
        grade_key = _grade_key(raw.grade, area.grades)
        if not raw.grade:
            errors.append(
                RowError(raw.grade_line or raw.line, f"{area.title}: grade is empty", source)
            )
        elif grade_key is None:
            scale = ", ".join(label for _, label in area.grades)
            errors.append(
                RowError(
                    raw.grade_line,
                    f"{area.title}: grade {raw.grade!r} is not on the scale ({scale})",
                    source,
                )
            )
        for key, title in FIELDS:
            value, line = values[key]
            if not value:
                errors.append(RowError(line, f"{area.title}: {title.lower()} is empty", source))
            elif len(value) > TEXT_MAX:
                errors.append(
                    RowError(
                        line,
                        f"{area.title}: {title.lower()} is {len(value):,} characters long; "
                        f"at most {TEXT_MAX:,}",
                        source,
                    )
                )
        entries.append(
            AreaEntry(
                key=area.key,
                grade=grade_key or "",
                strengths=values["strengths"][0],
                areas_for_development=values["areas_for_development"][0],
                evidence=values["evidence"][0],
            )
        )
    for area in framework.areas:
        if area.required and area.key not in seen:
            errors.append(RowError(1, f"required area {area.title} is missing", source))
    if errors:
        raise ImportRejected(
            sorted(errors, key=lambda e: e.line),
            source=source or "SEF",
            what="self-evaluation refused",
            hint="fix the file and submit it again",
        )
    return SefContent(enquiry_question=question, areas=tuple(entries))


def _grade_key(text: str, grades: tuple[tuple[str, str], ...]) -> str | None:
    wanted = text.strip().lower().replace("_", " ")
    for key, label in grades:
        if wanted in (key.replace("_", " "), label.lower()):
            return key
    return None


# --- the web form ---------------------------------------------------------------------------

FORM_QUESTION = "enquiry_question"
_QUESTION_LINE = 2  # a form's fields are numbered like a file's lines, so one set of rules
_AREA_STRIDE = 10  # reports either; line 1 is the form as a whole


def form_field(area: str, field: str) -> str:
    """The name of one area's field in the web form: ``area.<key>.<grade|strengths|...>``."""
    return f"area.{area}.{field}"


def parse_form(
    question: str, areas: Mapping[str, Mapping[str, str]], framework: Framework
) -> SefContent:
    """A SEF typed into the web form (values by area key, then field: grade, strengths...),
    checked by the same rules as a file; problems raise FormRejected keyed by field."""
    fields_at: dict[int, str] = {_QUESTION_LINE: FORM_QUESTION}
    problems: dict[str, str] = {}
    raws: list[_Raw] = []
    for n, area in enumerate(framework.areas, start=1):
        given = areas.get(area.key, {})
        base = n * _AREA_STRIDE
        raw = _Raw(key=area.key, line=base, grade=given.get("grade", "").strip(), grade_line=base)
        raw.fields = {}
        fields_at[base] = form_field(area.key, "grade")
        for offset, (key, title) in enumerate(FIELDS, start=1):
            value = given.get(key, "").strip()
            if _CONTROL_CHARS.search(value):
                problems[form_field(area.key, key)] = (
                    f"{area.title}: {title.lower()} contains a control character; remove it"
                )
            raw.fields[key] = (value, base + offset)
            fields_at[base + offset] = form_field(area.key, key)
        raws.append(raw)
    question = question.strip()
    if _CONTROL_CHARS.search(question):
        problems[FORM_QUESTION] = "the enquiry question contains a control character; remove it"
    try:
        content = _validate(question, _QUESTION_LINE, raws, framework, "")
    except ImportRejected as exc:
        for error in exc.errors:
            problems.setdefault(fields_at.get(error.line, "form"), error.reason)
    if problems:
        raise FormRejected(problems, what="the self-evaluation")
    return content
