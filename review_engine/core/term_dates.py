"""Term-date files: a calendar's years from CSV (academic_year,kind,label,first_day,last_day)
or from an ICS export, each checked with `calendar.validate`; bad rows name their lines."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from review_engine.core.calendar import (
    LONDON,
    Closure,
    ClosureKind,
    HalfTermDates,
    TermCalendar,
    academic_year_of,
    find_problems,
    normal_year,
    parse_half_term,
    validate,
)
from review_engine.core.domain import HalfTerm
from review_engine.core.safe_text import (
    FIRST_DAY,
    IMPORT_LIMIT,
    LAST_DAY,
    NAME_MAX,
    check_file_text,
    decode_text,
    read_bounded,
    size_text,
)
from review_engine.errors import FileFormatError, ImportRejected, NotFound, RowError

if TYPE_CHECKING:
    import icalendar

CSV_COLUMNS = ("academic_year", "kind", "label", "first_day", "last_day")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSET_RE = re.compile(r"\binset\b", re.IGNORECASE)
_BANK_HOLIDAY_RE = re.compile(r"\bbank\s+holiday\b", re.IGNORECASE)

# --- CSV: academic_year,kind,label,first_day,last_day ------------------------------------

_CSV_KINDS = {
    "half_term": None,
    "inset": ClosureKind.INSET,
    "closure": ClosureKind.CLOSURE,
    "bank_holiday": ClosureKind.BANK_HOLIDAY,
}
_DEFAULT_LABELS = {
    ClosureKind.INSET: "INSET day",
    ClosureKind.CLOSURE: "Closure",
    ClosureKind.BANK_HOLIDAY: "Bank holiday",
}


@dataclass
class _YearRows:
    first_line: int
    half_terms: dict[HalfTerm, tuple[HalfTermDates, int]]
    closures: list[tuple[Closure, int]]


class _BadRow(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def read_csv(path: str | Path, *, name: str) -> list[TermCalendar]:
    """Read a term-dates CSV file into one calendar per academic year (see parse_csv)."""
    path = Path(path)
    return parse_csv(_read_bytes(path), name=name, source=path.name)


def parse_csv(data: str | bytes, *, name: str, source: str = "") -> list[TermCalendar]:
    """Parse term dates CSV (UTF-8, BOM allowed) into calendars named ``name``, one per year.

    Every bad row is collected and reported at once with its line number (ImportRejected).
    """
    reader = csv.reader(io.StringIO(_decode(data, source), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileFormatError(
            f"empty file; expected the header {','.join(CSV_COLUMNS)}", line=1, source=source
        ) from None
    columns = [cell.strip().lower() for cell in header]
    missing = [column for column in CSV_COLUMNS if column not in columns]
    if missing:
        raise FileFormatError(
            f"missing columns {', '.join(missing)}; expected the header {','.join(CSV_COLUMNS)}",
            line=reader.line_num,
            source=source,
        )
    position = {column: columns.index(column) for column in CSV_COLUMNS}
    errors: list[RowError] = []
    years: dict[str, _YearRows] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            try:
                year, item = _parse_row(cells, position, len(columns))
            except _BadRow as bad:
                errors.append(RowError(line, "; ".join(bad.reasons), source))
                continue
            rows = years.setdefault(year, _YearRows(line, {}, []))
            if isinstance(item, Closure):
                rows.closures.append((item, line))
            elif item.half_term in rows.half_terms:
                earlier = rows.half_terms[item.half_term][1]
                errors.append(
                    RowError(line, f"{item.half_term} given twice (also line {earlier})", source)
                )
            else:
                rows.half_terms[item.half_term] = (item, line)
    except csv.Error as exc:
        raise FileFormatError(f"not readable as CSV: {exc}", reader.line_num, source) from exc
    calendars = [
        calendar
        for year, rows in sorted(years.items())
        if (calendar := _year_calendar(name, year, rows, errors, source)) is not None
    ]
    if errors:
        raise ImportRejected(sorted(errors, key=lambda error: error.line), source=source)
    if not calendars:
        raise FileFormatError("no term dates after the header", line=2, source=source)
    return calendars


def _year_calendar(
    name: str, year: str, rows: _YearRows, errors: list[RowError], source: str
) -> TermCalendar | None:
    missing = [half_term for half_term in HalfTerm if half_term not in rows.half_terms]
    if missing:
        errors.append(RowError(rows.first_line, f"{year} is missing {', '.join(missing)}", source))
        return None
    calendar = TermCalendar(
        name=name,
        academic_year=year,
        half_terms=tuple(rows.half_terms[half_term][0] for half_term in HalfTerm),
        closures=tuple(closure for closure, _ in rows.closures),
    )
    for problem in find_problems(calendar):
        line = rows.first_line
        if problem.half_term is not None:
            line = rows.half_terms[problem.half_term][1]
        elif problem.closure_index is not None:
            line = rows.closures[problem.closure_index][1]
        errors.append(RowError(line, problem.message, source))
    return calendar


def _parse_row(
    cells: list[str], position: dict[str, int], width: int
) -> tuple[str, HalfTermDates | Closure]:
    values = {column: cells[i].strip() if i < len(cells) else "" for column, i in position.items()}
    kind_text = re.sub(r"[\s-]+", "_", values["kind"].lower())
    reasons: list[str] = []
    if any(cell.strip() for cell in cells[width:]):
        reasons.append(f"{len(cells)} values but the header has {width} columns")
    optional = {"label"} if kind_text != "half_term" else set()
    missing = [c for c in CSV_COLUMNS if not values[c] and c not in optional]
    if missing:
        reasons.append(f"missing {', '.join(missing)}")
    if len(values["label"]) > NAME_MAX:
        reasons.append(f"label is longer than {NAME_MAX} characters")
    year = normal_year(values["academic_year"])
    if values["academic_year"] and year is None:
        reasons.append(f"bad academic_year {values['academic_year']!r}: expected like 2026-27")
    if kind_text and kind_text not in _CSV_KINDS:
        reasons.append(f"unknown kind {values['kind']!r}: expected half_term, inset or closure")
    half_term = parse_half_term(values["label"]) if kind_text == "half_term" else None
    if kind_text == "half_term" and values["label"] and half_term is None:
        reasons.append(
            f"unknown half-term {values['label']!r}: expected one of {', '.join(HalfTerm)}"
        )
    first = _parse_date(values["first_day"], "first_day", reasons)
    last = _parse_date(values["last_day"], "last_day", reasons)
    if first and last and last < first:
        reasons.append(f"last_day {last} is before first_day {first}")
    if reasons or first is None or last is None or year is None:
        raise _BadRow(reasons)
    if half_term is not None:
        return year, HalfTermDates(half_term, first, last)
    kind = _CSV_KINDS[kind_text]
    assert kind is not None
    return year, Closure(first, last, kind, values["label"] or _DEFAULT_LABELS[kind])


def _parse_date(text: str, column: str, reasons: list[str]) -> date | None:
    if not text:
        return None
    try:
        if _ISO_DATE_RE.match(text):
            day = date.fromisoformat(text)
            if FIRST_DAY <= day <= LAST_DAY:
                return day
            reasons.append(f"{column} {text} is outside {FIRST_DAY} to {LAST_DAY}")
            return None
    except ValueError:
        pass
    reasons.append(f"bad {column} {text[:40]!r}: expected a date like 2026-09-03")
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        return read_bounded(path, IMPORT_LIMIT, what="a term-dates file")
    except NotFound as exc:
        raise FileFormatError("cannot read the file: it does not exist", source=str(path)) from exc


def _decode(data: str | bytes, source: str) -> str:
    """UTF-8 text (BOM allowed), bounded; binary content and control characters refused."""
    if len(data) > IMPORT_LIMIT:
        raise FileFormatError(
            f"a term-dates file is larger than the {size_text(IMPORT_LIMIT)} limit", source=source
        )
    if isinstance(data, str):
        return check_file_text(data, source=source)
    return decode_text(data, source=source)


# --- ICS ----------------------------------------------------------------------------------


def read_ics(path: str | Path, *, name: str) -> TermCalendar:
    """Read an iCalendar file of one academic year's term dates (see parse_ics)."""
    path = Path(path)
    return parse_ics(_read_bytes(path), name=name, source=path.name)


def parse_ics(data: str | bytes, *, name: str, source: str = "") -> TermCalendar:
    """Parse an iCalendar file of one academic year into a validated calendar.

    Events named like a half-term ("Autumn 1", "Autumn Term 1", "Autumn 1 half-term") are the
    half-terms; events with INSET in the summary are INSET days; other all-day events are
    closures. All-day DTEND is exclusive; no DTEND means one day.
    """
    text = _decode(data, source)
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise FileFormatError("not an iCalendar file: no BEGIN:VCALENDAR", line=1, source=source)
    import icalendar  # here, not at the top: only ICS imports need it

    try:
        parsed = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileFormatError(f"malformed iCalendar: {reason}", source=source) from exc
    event_lines = [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip().upper() == "BEGIN:VEVENT"
    ]
    half_terms: dict[HalfTerm, HalfTermDates] = {}
    closures: list[Closure] = []
    problems: list[str] = []
    broken: set[HalfTerm | None] = set()
    for number, event in enumerate(parsed.walk("VEVENT")):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        summary = str(event.get("SUMMARY", "")).strip()
        half_term = parse_half_term(summary)
        where = f"event {summary[:80]!r}" + (
            f" (line {event_lines[number]})" if number < len(event_lines) else ""
        )
        try:
            if event.errors:
                raise ValueError("; ".join(f"{key or 'line'}: {msg}" for key, msg in event.errors))
            first, last, all_day = _event_days(event)
            if len(summary) > NAME_MAX:
                raise ValueError(f"SUMMARY is longer than {NAME_MAX} characters")
            if not FIRST_DAY <= first <= last <= LAST_DAY:
                raise ValueError(f"its days {first}..{last} are outside {FIRST_DAY} to {LAST_DAY}")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            broken.add(half_term)
            continue
        if half_term is not None:
            if half_term in half_terms:
                seen = half_terms[half_term]
                problems.append(
                    f"{half_term} given twice ({seen.first_day}..{seen.last_day} "
                    f"and {first}..{last})"
                )
            half_terms[half_term] = HalfTermDates(half_term, first, last)
        elif _INSET_RE.search(summary):
            closures.append(Closure(first, last, ClosureKind.INSET, summary))
        elif all_day:
            bank = _BANK_HOLIDAY_RE.search(summary)
            kind = ClosureKind.BANK_HOLIDAY if bank else ClosureKind.CLOSURE
            closures.append(Closure(first, last, kind, summary or _DEFAULT_LABELS[kind]))
    missing = [ht for ht in HalfTerm if ht not in half_terms and ht not in broken]
    if missing:
        problems.append(
            f"no event for {', '.join(missing)} (half-term events are named like 'Autumn 1')"
        )
    if problems:
        raise FileFormatError("; ".join(problems), source=source)
    year = academic_year_of(half_terms[HalfTerm.AUTUMN_1].first_day)
    calendar = TermCalendar(
        name=name,
        academic_year=year,
        half_terms=tuple(half_terms[half_term] for half_term in HalfTerm),
        closures=_clip_to_year(closures, year),
    )
    validate(calendar)
    return calendar


def _event_days(event: icalendar.cal.Component) -> tuple[date, date, bool]:
    """First and last day (inclusive) of an event, and whether it is an all-day event."""
    if "DTSTART" not in event:
        raise ValueError("no DTSTART")
    start = _as_local(event.decoded("DTSTART"))
    all_day = not isinstance(start, datetime)
    if "DTEND" in event:
        end: date | None = _as_local(event.decoded("DTEND"))
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        end = None
    first = start.date() if isinstance(start, datetime) else start
    if end is None:
        return first, first, all_day
    if all_day and isinstance(end, datetime):
        end = end.date()
    elif not all_day and not isinstance(end, datetime):
        end = datetime.combine(end, time())
    if end < start:
        raise ValueError(f"DTEND {end} is before DTSTART {start}")
    if end == start:
        return first, first, all_day
    if isinstance(end, datetime):  # a timed event ends on the day of its last instant
        return first, (end - timedelta(microseconds=1)).date(), all_day
    return first, end - timedelta(days=1), all_day  # all-day DTEND is exclusive


def _as_local(value: object) -> date:
    if isinstance(value, datetime):
        return value.astimezone(LONDON).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value
    raise ValueError(f"{getattr(value, 'to_ical', lambda: value)()!r} is not a date")


def _clip_to_year(closures: Sequence[Closure], year: str) -> tuple[Closure, ...]:
    """Keep the part of each closure inside the academic year; ICS exports often run over."""
    first_year = int(year[:4])
    low, high = date(first_year, 8, 1), date(first_year + 1, 8, 31)
    clipped = [
        Closure(max(c.first_day, low), min(c.last_day, high), c.kind, c.label)
        for c in closures
        if c.first_day <= high and c.last_day >= low
    ]
    return tuple(sorted(clipped, key=lambda c: (c.first_day, c.last_day)))
