"""Term dates, half-terms and school days for schools in England.

A ``TermCalendar`` holds one academic year of one calendar (a local authority's or an
academy's): six half-terms and the closures (INSET days, occasional days). Bank holidays for
England come from the ``holidays`` package. Pure: no database, no clock. School days are
computed once per calendar (lazily) so the helpers stay cheap when called for thousands of
schools.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

from review_engine.core.domain import HalfTerm
from review_engine.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
_YEAR_RE = re.compile(r"^(\d{4})[-/](\d{2})$")
_HALF_TERM_RE = re.compile(
    r"^\s*(autumn|spring|summer)\s+(?:term\s+)?([12])(?:\s+half[\s-]?term)?\s*$", re.IGNORECASE
)


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
    import holidays  # here, not at the top: it takes ~40 ms to import and most commands skip it

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
    if normal_year(calendar.academic_year) != calendar.academic_year:
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


def normal_year(text: str) -> str | None:
    """ "2026-27" (or "2026/27") as "2026-27"; None unless the second year follows the first."""
    match = _YEAR_RE.match(text)
    if match is None or int(match.group(2)) != (int(match.group(1)) + 1) % 100:
        return None
    return f"{match.group(1)}-{match.group(2)}"
