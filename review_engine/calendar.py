"""Term dates, half-terms and school days for schools in England.

A ``TermCalendar`` holds one academic year of one calendar (a local authority's or an
academy's): six half-terms and the closures (INSET days, occasional days). Bank holidays for
England come from the ``holidays`` package. Pure: no database, no clock. School days are
computed once per calendar (lazily) so the helpers stay cheap when called for thousands of
schools.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
import icalendar

from review_engine.domain import HalfTerm
from review_engine.errors import FileFormatError, ImportRejected, InvalidInput, RowError

LONDON = ZoneInfo("Europe/London")
CSV_COLUMNS = ("academic_year", "kind", "label", "first_day", "last_day")
_YEAR_RE = re.compile(r"^(\d{4})[-/](\d{2})$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HALF_TERM_RE = re.compile(
    r"^\s*(autumn|spring|summer)\s+(?:term\s+)?([12])(?:\s+half[\s-]?term)?\s*$", re.IGNORECASE
)
_INSET_RE = re.compile(r"\binset\b", re.IGNORECASE)
_BANK_HOLIDAY_RE = re.compile(r"\bbank\s+holiday\b", re.IGNORECASE)


class ClosureKind(StrEnum):
    """Why a school is shut on a day that would otherwise be a school day."""

    INSET = "inset"
    CLOSURE = "closure"
    BANK_HOLIDAY = "bank_holiday"


@dataclass(frozen=True)
class HalfTermDates:
    """One half-term: first and last day, both inclusive."""

    half_term: HalfTerm
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Closure:
    """Days (inclusive) a school is shut inside or around its half-terms."""

    first_day: date
    last_day: date
    kind: ClosureKind
    label: str


@dataclass(frozen=True)
class CalendarProblem:
    """One thing wrong with a calendar; names the half-term or closure it is about."""

    message: str
    half_term: HalfTerm | None = None
    closure_index: int | None = None


@dataclass(frozen=True)
class _Index:
    days: tuple[date, ...]
    day_set: frozenset[date]
    starts: tuple[date, ...]
    spans: tuple[tuple[date, date, HalfTerm], ...]


@dataclass(frozen=True)
class TermCalendar:
    """One academic year ("2026-27") of one term calendar: six half-terms and closures."""

    name: str
    academic_year: str
    half_terms: tuple[HalfTermDates, ...]
    closures: tuple[Closure, ...] = ()

    @cached_property
    def _index(self) -> _Index:
        return _build_index(self.half_terms, self.closures)

    def dates_of(self, half_term: HalfTerm) -> HalfTermDates:
        """The dates of one half-term; InvalidInput if this calendar lacks it."""
        for dates in self.half_terms:
            if dates.half_term is half_term:
                return dates
        raise InvalidInput(f"{self.label}: has no {half_term}")

    def start_of(self, half_term: HalfTerm) -> date:
        """First day of a half-term, as the calendar gives it (may be an INSET day)."""
        return self.dates_of(half_term).first_day

    def end_of(self, half_term: HalfTerm) -> date:
        """Last day of a half-term, as the calendar gives it."""
        return self.dates_of(half_term).last_day

    def half_term_of(self, day: date) -> HalfTerm | None:
        """The half-term a date falls in (weekends and closures included); None in holidays."""
        index = self._index
        i = bisect.bisect_right(index.starts, day) - 1
        if i >= 0 and day <= index.spans[i][1]:
            return index.spans[i][2]
        return None

    def within_half_terms(self, day: date, *, first: HalfTerm, last: HalfTerm) -> bool:
        """Whether a date lies from the start of ``first`` to the end of ``last``, inclusive."""
        if first.position > last.position:
            raise InvalidInput(f"half-term range {first}..{last} is backwards")
        return self.start_of(first) <= day <= self.end_of(last)

    def is_school_day(self, day: date) -> bool:
        """A weekday inside a half-term that is neither a closure nor a bank holiday."""
        return day in self._index.day_set

    def closure_on(self, day: date) -> Closure | None:
        """Why the school is shut on a date: a calendar closure or a bank holiday, else None."""
        for closure in self.closures:
            if closure.first_day <= day <= closure.last_day:
                return closure
        name = bank_holidays(day.year).get(day)
        return Closure(day, day, ClosureKind.BANK_HOLIDAY, name) if name else None

    def school_days(self, *, start: date, end: date) -> list[date]:
        """School days from ``start`` to ``end``, both inclusive, in order."""
        days = self._index.days
        return list(days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)])

    def add_school_days(self, day: date, *, n: int) -> date:
        """The ``n``th school day after ``day`` (before it if negative); n=0: day or the next."""
        days = self._index.days
        if n > 0:
            i = bisect.bisect_right(days, day) + n - 1
        elif n == 0:
            i = bisect.bisect_left(days, day)
        else:
            i = bisect.bisect_left(days, day) + n
        if not 0 <= i < len(days):
            raise InvalidInput(
                f"{self.label}: {abs(n)} school day{'' if abs(n) == 1 else 's'} "
                f"{'before' if n < 0 else 'after'} "
                f"{day.isoformat()} falls outside the academic year"
            )
        return days[i]

    def next_school_day(self, day: date) -> date:
        """The first school day strictly after ``day``."""
        return self.add_school_days(day, n=1)

    @property
    def label(self) -> str:
        """The calendar's name and year, as error messages show it."""
        return f"{self.name} {self.academic_year}"


def _each_day(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


@lru_cache(maxsize=4096)
def _build_index(half_terms: tuple[HalfTermDates, ...], closures: tuple[Closure, ...]) -> _Index:
    """School days of a calendar; shared by equal calendars (many schools share an LA's dates)."""
    low = min((d.first_day for d in half_terms), default=date.max)
    high = max((d.last_day for d in half_terms), default=date.min)
    shut = {
        day.toordinal()
        for c in closures
        for day in _each_day(max(c.first_day, low), min(c.last_day, high))
    }
    years = {d.year for dates in half_terms for d in (dates.first_day, dates.last_day)}
    for year in years:
        shut.update(day.toordinal() for day in bank_holidays(year))
    ordinals = sorted(
        n
        for dates in half_terms
        for n in range(dates.first_day.toordinal(), dates.last_day.toordinal() + 1)
        if n % 7 not in (0, 6) and n not in shut  # ordinal % 7: 0 is Sunday, 6 is Saturday
    )
    days = tuple(date.fromordinal(n) for n in ordinals)
    spans = tuple(sorted((d.first_day, d.last_day, d.half_term) for d in half_terms))
    return _Index(
        days=days,
        day_set=frozenset(days),
        starts=tuple(span[0] for span in spans),
        spans=spans,
    )


@cache
def bank_holidays(year: int) -> Mapping[date, str]:
    """Bank holidays in England for one calendar year, built once per year."""
    found = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return MappingProxyType({day: str(name) for day, name in sorted(found.items())})


def is_bank_holiday(day: date) -> bool:
    """Whether a date is a bank holiday in England."""
    return day in bank_holidays(day.year)


def parse_half_term(text: str) -> HalfTerm | None:
    """Read a half-term name: "Autumn 1", "autumn term 1", "Autumn 1 half-term"; else None."""
    match = _HALF_TERM_RE.match(text)
    if match is None:
        return None
    return HalfTerm(f"{match.group(1).capitalize()} {match.group(2)}")


def common_open_days(calendars: Iterable[TermCalendar], *, start: date, end: date) -> list[date]:
    """Days from ``start`` to ``end`` on which every calendar is a school day (e.g. a triad)."""
    unique = list({id(calendar): calendar for calendar in calendars}.values())
    if not unique:
        raise InvalidInput("common open days need at least one calendar")
    first, *others = unique
    sets = [calendar._index.day_set for calendar in others]
    return [day for day in first.school_days(start=start, end=end) if all(day in s for s in sets)]


def resolve_boundary(calendar: TermCalendar, *, spec: Mapping[str, object]) -> date:
    """Turn a workflow boundary such as {"end_of": "Autumn 1", "school_days": -5} into a date.

    Exactly one of ``start_of``/``end_of`` (a half-term name) picks the half-term's first or
    last day as the calendar gives it; ``school_days`` N (optional, non-zero) moves to the Nth
    school day after it, or before it when negative, not counting the day itself.
    """
    unknown = sorted(set(spec) - {"start_of", "end_of", "school_days"})
    if unknown:
        raise InvalidInput(
            f"boundary {dict(spec)!r}: unknown key {', '.join(unknown)}; "
            "expected start_of or end_of, optionally school_days"
        )
    anchors = [key for key in ("start_of", "end_of") if key in spec]
    if len(anchors) != 1:
        raise InvalidInput(
            f"boundary {dict(spec)!r}: needs exactly one of start_of, end_of"
            + (f" (got {', '.join(anchors)})" if anchors else "")
        )
    key = anchors[0]
    value = spec[key]
    half_term = value if isinstance(value, HalfTerm) else parse_half_term(str(value))
    if half_term is None:
        raise InvalidInput(
            f"boundary {key}: {value!r} is not a half-term; expected one of " + ", ".join(HalfTerm)
        )
    offset = spec.get("school_days", 0)
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise InvalidInput(f"boundary school_days: {offset!r} is not a whole number")
    anchor = calendar.start_of(half_term) if key == "start_of" else calendar.end_of(half_term)
    return calendar.add_school_days(anchor, n=offset) if offset else anchor


def academic_year_of(day: date) -> str:
    """The academic year ("2026-27") a date in it belongs to; a year turns on 1 August."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def find_problems(calendar: TermCalendar) -> list[CalendarProblem]:
    """Everything wrong with a calendar, each naming its half-term or closure."""
    problems: list[CalendarProblem] = []
    names = [dates.half_term for dates in calendar.half_terms]
    if names != list(HalfTerm):
        missing = [ht for ht in HalfTerm if ht not in names]
        detail = f"missing {', '.join(missing)}" if missing else "not listed in order"
        problems.append(CalendarProblem(f"needs the six half-terms in order: {detail}"))
    for dates in calendar.half_terms:
        ht, first, last = dates.half_term, dates.first_day, dates.last_day
        if first > last:
            problems.append(CalendarProblem(f"{ht} starts {first} after it ends {last}", ht))
        if first.weekday() >= 5:
            problems.append(
                CalendarProblem(f"{ht} starts on a {first.strftime('%A')} ({first})", ht)
            )
    ordered = sorted(calendar.half_terms, key=lambda dates: dates.half_term.position)
    for before, after in pairwise(ordered):
        if after.first_day > before.last_day:
            continue
        how = "overlaps" if after.last_day >= before.first_day else "comes before"
        problems.append(
            CalendarProblem(
                f"{after.half_term} ({after.first_day}..{after.last_day}) {how} "
                f"{before.half_term} ({before.first_day}..{before.last_day})",
                after.half_term,
            )
        )
    problems.extend(_year_problems(calendar))
    for i, closure in enumerate(calendar.closures):
        if closure.first_day > closure.last_day:
            problems.append(
                CalendarProblem(
                    f"{closure.label} starts {closure.first_day} after it ends {closure.last_day}",
                    closure_index=i,
                )
            )
    return problems


def _year_problems(calendar: TermCalendar) -> list[CalendarProblem]:
    if _normal_year(calendar.academic_year) != calendar.academic_year:
        return [CalendarProblem(f"academic year {calendar.academic_year!r} is not like 2026-27")]
    first_year = int(calendar.academic_year[:4])
    problems: list[CalendarProblem] = []
    autumn = next((d for d in calendar.half_terms if d.half_term is HalfTerm.AUTUMN_1), None)
    if autumn and (autumn.first_day.year, autumn.first_day.month) not in {
        (first_year, 8),
        (first_year, 9),
    }:
        problems.append(
            CalendarProblem(
                f"academic year {calendar.academic_year} does not match the dates: Autumn 1 "
                f"starts {autumn.first_day}, expected August or September {first_year}",
                HalfTerm.AUTUMN_1,
            )
        )
        return problems
    window = (date(first_year, 8, 1), date(first_year + 1, 8, 31))
    year = calendar.academic_year
    for dates in calendar.half_terms:
        if not (window[0] <= dates.first_day and dates.last_day <= window[1]):
            actual = academic_year_of(dates.first_day)
            problems.append(
                CalendarProblem(
                    f"academic year {year} does not match the dates: {dates.half_term} "
                    f"{dates.first_day}..{dates.last_day} is in {actual}",
                    dates.half_term,
                )
            )
    for i, closure in enumerate(calendar.closures):
        if not (window[0] <= closure.first_day and closure.last_day <= window[1]):
            problems.append(
                CalendarProblem(
                    f"{closure.label} {closure.first_day}..{closure.last_day} "
                    f"is outside academic year {year}",
                    closure_index=i,
                )
            )
    return problems


def validate(calendar: TermCalendar) -> None:
    """Raise InvalidInput naming every problem of a calendar; both parsers call it."""
    problems = find_problems(calendar)
    if problems:
        raise InvalidInput(
            f"calendar {calendar.label} is invalid: " + "; ".join(p.message for p in problems)
        )


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
    year = _normal_year(values["academic_year"])
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


def _normal_year(text: str) -> str | None:
    """ "2026-27" (or "2026/27") as "2026-27"; None unless the second year follows the first."""
    match = _YEAR_RE.match(text)
    if match is None or int(match.group(2)) != (int(match.group(1)) + 1) % 100:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def _parse_date(text: str, column: str, reasons: list[str]) -> date | None:
    if not text:
        return None
    try:
        if _ISO_DATE_RE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    reasons.append(f"bad {column} {text!r}: expected a date like 2026-09-03")
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"cannot read the file: {exc.strerror}", source=str(path)) from exc


def _decode(data: str | bytes, source: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileFormatError(
            f"not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8", line, source
        ) from exc


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
        where = f"event {summary!r}" + (
            f" (line {event_lines[number]})" if number < len(event_lines) else ""
        )
        try:
            if event.errors:
                raise ValueError("; ".join(f"{key or 'line'}: {msg}" for key, msg in event.errors))
            first, last, all_day = _event_days(event)
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
