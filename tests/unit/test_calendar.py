"""Term calendars: parsing term dates (CSV, ICS), validation, school days and boundaries."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import review_engine
from review_engine.core.calendar import (
    Closure,
    ClosureKind,
    HalfTermDates,
    TermCalendar,
    bank_holidays,
    common_open_days,
    find_problems,
    is_bank_holiday,
    parse_half_term,
    resolve_boundary,
    validate,
)
from review_engine.core.domain import HalfTerm
from review_engine.core.term_dates import parse_csv, parse_ics, read_csv, read_ics
from review_engine.errors import FileFormatError, ImportRejected, InvalidInput

SAMPLES = Path(review_engine.__file__).parent / "samples"
SAMPLE_CSV = SAMPLES / "term-dates-2026-27.csv"
SAMPLE_ICS = SAMPLES / "term-dates-2026-27.ics"
MANCHESTER_CSV = Path("/work/shared/data/term-dates-manchester-2026-27.csv")

HEADER = "academic_year,kind,label,first_day,last_day"
# Sample LA 2026-27; line numbers in a file built by csv_text() are 2..7 for these rows.
GOOD_ROWS = [
    "2026-27,half_term,Autumn 1,2026-09-03,2026-10-16",
    "2026-27,half_term,Autumn 2,2026-10-26,2026-12-18",
    "2026-27,half_term,Spring 1,2027-01-05,2027-02-12",
    "2026-27,half_term,Spring 2,2027-02-22,2027-03-25",
    "2026-27,half_term,Summer 1,2027-04-12,2027-05-28",
    "2026-27,half_term,Summer 2,2027-06-07,2027-07-21",
]
D = date.fromisoformat


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def replaced(line: int, row: str) -> list[str]:
    """GOOD_ROWS with the row that lands on file line ``line`` replaced."""
    rows = list(GOOD_ROWS)
    rows[line - 2] = row
    return rows


@cache
def sample_years() -> tuple[TermCalendar, ...]:
    return tuple(read_csv(SAMPLE_CSV, name="Sample LA"))


@pytest.fixture
def sample_la() -> TermCalendar:
    return sample_years()[0]


@pytest.fixture
def manchester() -> TermCalendar:
    if not MANCHESTER_CSV.exists():
        pytest.skip(f"shared data {MANCHESTER_CSV} is absent on this machine")
    (calendar,) = read_csv(MANCHESTER_CSV, name="Manchester")
    return calendar


# --- parsing the files we ship and the shared data -----------------------------------------


def test_manchester_csv_parses_into_one_valid_year(manchester: TermCalendar) -> None:
    assert manchester.name == "Manchester"
    assert manchester.academic_year == "2026-27"
    assert [d.half_term for d in manchester.half_terms] == list(HalfTerm)
    assert manchester.start_of(HalfTerm.AUTUMN_1) == D("2026-09-03")
    assert manchester.end_of(HalfTerm.SUMMER_2) == D("2027-07-21")
    assert Closure(D("2027-05-04"), D("2027-05-04"), ClosureKind.CLOSURE, "Occasional day") in (
        manchester.closures
    )
    validate(manchester)


def test_sample_csv_holds_two_valid_years() -> None:
    years = sample_years()
    assert [c.academic_year for c in years] == ["2026-27", "2027-28"]
    assert {c.name for c in years} == {"Sample LA"}
    for calendar in years:
        assert find_problems(calendar) == []


def test_sample_ics_matches_the_sample_csv(sample_la: TermCalendar) -> None:
    from_ics = read_ics(SAMPLE_ICS, name="Sample LA")
    validate(from_ics)
    assert from_ics.academic_year == "2026-27"
    assert from_ics.half_terms == sample_la.half_terms
    assert from_ics.school_days(start=D("2026-08-01"), end=D("2027-08-31")) == (
        sample_la.school_days(start=D("2026-08-01"), end=D("2027-08-31"))
    )


def test_csv_with_byte_order_mark_parses() -> None:
    data = ("\ufeff" + csv_text(*GOOD_ROWS)).encode("utf-8")
    (calendar,) = parse_csv(data, name="BOM LA")
    assert calendar.start_of(HalfTerm.AUTUMN_1) == D("2026-09-03")


def test_csv_accepts_crlf_blank_lines_and_lenient_labels() -> None:
    rows = replaced(2, "2026/27, Half-Term ,autumn term 1, 2026-09-03 ,2026-10-16")
    text = "\r\n".join([HEADER, *rows, "", "2026-27,inset,,2026-11-27,2026-11-27"]) + "\r\n"
    (calendar,) = parse_csv(text, name="Lenient LA")
    assert calendar.academic_year == "2026-27"
    assert calendar.closures == (
        Closure(D("2026-11-27"), D("2026-11-27"), ClosureKind.INSET, "INSET day"),
    )


# --- CSV errors: every bad row named by its line ---------------------------------------------

CSV_ROW_ERRORS = [
    pytest.param(
        [*GOOD_ROWS, "2026-27,holiday,Half term,2026-10-19,2026-10-23"],
        8,
        "unknown kind 'holiday'",
        id="unknown-kind",
    ),
    pytest.param(
        replaced(3, "2026-27,half_term,Autumn 3,2026-10-26,2026-12-18"),
        3,
        "unknown half-term 'Autumn 3'",
        id="unknown-half-term",
    ),
    pytest.param(
        replaced(2, "2026-27,half_term,Autumn 1,03/09/2026,2026-10-16"),
        2,
        "bad first_day '03/09/2026': expected a date like 2026-09-03",
        id="bad-date-format",
    ),
    pytest.param(
        replaced(4, "2026-27,half_term,Spring 1,2027-01-05,2027-02-30"),
        4,
        "bad last_day '2027-02-30'",
        id="impossible-date",
    ),
    pytest.param(
        replaced(5, "2026-27,half_term,Spring 2,2027-03-25,2027-02-22"),
        5,
        "last_day 2027-02-22 is before first_day 2027-03-25",
        id="last-before-first",
    ),
    pytest.param(
        [*GOOD_ROWS, "2026-27,inset,INSET day"],
        8,
        "missing first_day, last_day",
        id="missing-values",
    ),
    pytest.param(
        [*GOOD_ROWS, "2026-27,half_term,,2026-09-03,2026-10-16"],
        8,
        "missing label",
        id="half-term-without-label",
    ),
    pytest.param(
        [*GOOD_ROWS, "2026-27,half_term,Autumn 1,2026-09-03,2026-10-16"],
        8,
        "Autumn 1 given twice (also line 2)",
        id="half-term-twice",
    ),
    pytest.param(
        GOOD_ROWS[:4],
        2,
        "2026-27 is missing Summer 1, Summer 2",
        id="year-missing-half-terms",
    ),
    pytest.param(
        replaced(2, "2026-27,half_term,Autumn 1,2026-09-05,2026-10-16"),
        2,
        "Autumn 1 starts on a Saturday (2026-09-05)",
        id="starts-on-saturday",
    ),
    pytest.param(
        replaced(3, "2026-27,half_term,Autumn 2,2026-10-12,2026-12-18"),
        3,
        "Autumn 2 (2026-10-12..2026-12-18) overlaps Autumn 1 (2026-09-03..2026-10-16)",
        id="overlap",
    ),
    pytest.param(
        replaced(3, "2026-27,half_term,Autumn 2,2026-08-03,2026-08-28"),
        3,
        "Autumn 2 (2026-08-03..2026-08-28) comes before Autumn 1",
        id="out-of-order",
    ),
    pytest.param(
        [row.replace("2026-27", "2025-26", 1) for row in GOOD_ROWS],
        2,
        "academic year 2025-26 does not match the dates: Autumn 1 starts 2026-09-03",
        id="year-does-not-match-dates",
    ),
    pytest.param(
        [*GOOD_ROWS, "2026-27,inset,INSET day,2027-09-01,2027-09-01"],
        8,
        "INSET day 2027-09-01..2027-09-01 is outside academic year 2026-27",
        id="closure-outside-year",
    ),
    pytest.param(
        replaced(7, "2026-28,half_term,Summer 2,2027-06-07,2027-07-21"),
        7,
        "bad academic_year '2026-28': expected like 2026-27",
        id="bad-academic-year",
    ),
    pytest.param(
        [*GOOD_ROWS, "2026-27,inset,INSET day, staff,2026-11-27,2026-11-27"],
        8,
        "6 values but the header has 5 columns",
        id="unquoted-comma",
    ),
]


@pytest.mark.parametrize(("rows", "line", "message"), CSV_ROW_ERRORS)
def test_csv_bad_row_is_rejected_with_its_line(rows: list[str], line: int, message: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        parse_csv(csv_text(*rows), name="Bad LA", source="rows.csv")
    by_line = {error.line: str(error) for error in caught.value.errors}
    assert line in by_line, by_line
    assert f"rows.csv:{line}: " in by_line[line]
    assert message in by_line[line]
    assert "nothing written" in str(caught.value)


def test_csv_collects_every_bad_row_before_rejecting() -> None:
    rows = [
        *replaced(2, "2026-27,half_term,Autumn 1,2026-09-05,2026-10-16"),
        "2026-27,term,x,2026-10-19,2026-10-23",
        "2026-27,inset,INSET,2026-13-01,2026-11-27",
    ]
    with pytest.raises(ImportRejected) as caught:
        parse_csv(csv_text(*rows), name="Bad LA")
    assert [error.line for error in caught.value.errors] == [2, 8, 9]
    assert "line 8: unknown kind 'term'" in str(caught.value)


def test_csv_header_missing_columns_names_them() -> None:
    text = csv_text(*GOOD_ROWS, header="academic_year,kind,label,first_day")
    with pytest.raises(FileFormatError, match=r"t\.csv:1: missing columns last_day"):
        parse_csv(text, name="x", source="t.csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "empty file", id="empty"),
        pytest.param(HEADER.encode() + b"\n", "no term dates after the header", id="header-only"),
        pytest.param(
            (HEADER + "\n2026-27,inset,Caf\xe9,2026-11-27,2026-11-27\n").encode("cp1252"),
            "x.csv:2: not UTF-8 text (byte 0xe9)",
            id="not-utf8",
        ),
    ],
)
def test_csv_unreadable_file_is_a_format_error(data: bytes, message: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse_csv(data, name="x", source="x.csv")
    assert message in str(caught.value)


def test_read_csv_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="cannot read the file"):
        read_csv(tmp_path / "absent.csv", name="x")


# --- ICS -------------------------------------------------------------------------------------

ICS_HALF_TERMS = [
    ("Autumn 1", "20260903", "20261017"),
    ("Autumn 2", "20261026", "20261219"),
    ("Spring 1", "20270105", "20270213"),
    ("Spring 2", "20270222", "20270326"),
    ("Summer 1", "20270412", "20270529"),
    ("Summer 2", "20270607", "20270722"),
]


def ics_text(*events: tuple[str, str, str | None], half_terms: bool = True) -> str:
    """An iCalendar file of all-day events (summary, DTSTART, DTEND or None); times if 'T'."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    all_events = [*(ICS_HALF_TERMS if half_terms else []), *events]
    for number, (summary, start, end) in enumerate(all_events):
        value = "" if "T" in start else ";VALUE=DATE"
        lines += ["BEGIN:VEVENT", f"UID:{number}@test", f"SUMMARY:{summary}"]
        lines.append(f"DTSTART{value}:{start}")
        if end is not None:
            lines.append(f"DTEND{value}:{end}")
        lines.append("END:VEVENT")
    return "\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n"


def test_ics_all_day_dtend_is_exclusive() -> None:
    calendar = parse_ics(ics_text(("INSET day", "20261127", "20261128")), name="ICS LA")
    assert calendar.end_of(HalfTerm.AUTUMN_1) == D("2026-10-16")
    assert calendar.closures == (
        Closure(D("2026-11-27"), D("2026-11-27"), ClosureKind.INSET, "INSET day"),
    )
    assert calendar.is_school_day(D("2026-11-26"))
    assert not calendar.is_school_day(D("2026-11-27"))
    assert calendar.is_school_day(D("2026-11-30"))


@pytest.mark.parametrize(
    ("event", "closure"),
    [
        pytest.param(
            ("Inset Day", "20261127", None),
            Closure(D("2026-11-27"), D("2026-11-27"), ClosureKind.INSET, "Inset Day"),
            id="no-dtend-is-one-day",
        ),
        pytest.param(
            ("Staff INSET", "20261127", "20261127"),
            Closure(D("2026-11-27"), D("2026-11-27"), ClosureKind.INSET, "Staff INSET"),
            id="dtend-equal-to-dtstart-is-one-day",
        ),
        pytest.param(
            ("Polling day", "20270506", "20270508"),
            Closure(D("2027-05-06"), D("2027-05-07"), ClosureKind.CLOSURE, "Polling day"),
            id="other-all-day-event-is-closure",
        ),
        pytest.param(
            ("Bank holiday", "20270503", "20270504"),
            Closure(D("2027-05-03"), D("2027-05-03"), ClosureKind.BANK_HOLIDAY, "Bank holiday"),
            id="bank-holiday-event",
        ),
        pytest.param(
            ("INSET training", "20261127T083000", "20261127T153000"),
            Closure(D("2026-11-27"), D("2026-11-27"), ClosureKind.INSET, "INSET training"),
            id="timed-inset-is-its-day",
        ),
    ],
)
def test_ics_closure_events(event: tuple[str, str, str | None], closure: Closure) -> None:
    calendar = parse_ics(ics_text(event), name="ICS LA")
    assert calendar.closures == (closure,)


def test_ics_timed_events_that_are_not_inset_are_ignored() -> None:
    calendar = parse_ics(ics_text(("Parents' evening", "20261112T160000", None)), name="x")
    assert calendar.closures == ()


def test_ics_cancelled_events_are_ignored() -> None:
    text = ics_text(("INSET day", "20261127", None)).replace(
        "SUMMARY:INSET day", "SUMMARY:INSET day\r\nSTATUS:CANCELLED"
    )
    assert parse_ics(text, name="x").closures == ()


def test_ics_closures_running_past_the_year_are_clipped() -> None:
    calendar = parse_ics(ics_text(("Summer holiday", "20270722", "20270904")), name="x")
    assert calendar.closures == (
        Closure(D("2027-07-22"), D("2027-08-31"), ClosureKind.CLOSURE, "Summer holiday"),
    )


def test_ics_academic_year_comes_from_autumn_1() -> None:
    events = [
        ("Autumn Term 1", "20270902", "20271023"),
        ("Autumn term 2", "20271101", "20271218"),
        ("Spring 1 half-term", "20280104", "20280212"),
        ("spring 2", "20280221", "20280401"),
        ("SUMMER 1 HALF TERM", "20280418", "20280527"),
        ("Summer 2", "20280605", "20280722"),
    ]
    calendar = parse_ics(ics_text(*events, half_terms=False), name="x")
    assert calendar.academic_year == "2027-28"
    assert calendar.start_of(HalfTerm.SUMMER_1) == D("2028-04-18")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("Autumn 1,2026-09-03", "x.ics:1: not an iCalendar file", id="not-ics"),
        pytest.param(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Autumn 1\r\n",
            "malformed iCalendar",
            id="unterminated",
        ),
        pytest.param(
            ics_text(("Autumn 1", "20260903", "20261017"), half_terms=False),
            "no event for Autumn 2, Spring 1, Spring 2, Summer 1, Summer 2",
            id="missing-half-terms",
        ),
        pytest.param(
            ics_text(("Autumn 1", "20260910", "20261017")),
            "Autumn 1 given twice (2026-09-03..2026-10-16 and 2026-09-10..2026-10-16)",
            id="half-term-twice",
        ),
        pytest.param(
            ics_text(("INSET", "2026xx27", None)),
            "event 'INSET' (line 40): DTSTART: Wrong date format 2026xx27",
            id="bad-date",
        ),
        pytest.param(
            ics_text(("INSET", "20261127", "20261120")),
            "event 'INSET' (line 40): DTEND 2026-11-20 is before DTSTART 2026-11-27",
            id="dtend-before-dtstart",
        ),
        pytest.param(
            ics_text(("INSET", "", None)).replace("DTSTART;VALUE=DATE:\r\n", ""),
            "event 'INSET' (line 40): no DTSTART",
            id="no-dtstart",
        ),
    ],
)
def test_ics_malformed_file_is_a_format_error(text: str, message: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse_ics(text, name="x", source="x.ics")
    assert message in str(caught.value)


def test_ics_invalid_dates_fail_validation_naming_the_half_term() -> None:
    text = ics_text().replace("DTSTART;VALUE=DATE:20261026", "DTSTART;VALUE=DATE:20261024")
    with pytest.raises(InvalidInput, match=r"Autumn 2 starts on a Saturday \(2026-10-24\)"):
        parse_ics(text, name="x")


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        pytest.param("Autumn 1", HalfTerm.AUTUMN_1, id="plain"),
        pytest.param("autumn term 2", HalfTerm.AUTUMN_2, id="term-lowercase"),
        pytest.param("Spring 1 half-term", HalfTerm.SPRING_1, id="half-term-suffix"),
        pytest.param("SUMMER 2 Half Term", HalfTerm.SUMMER_2, id="upper-half-term-suffix"),
        pytest.param("Autumn half-term", None, id="the-holiday-not-a-half-term"),
        pytest.param("Autumn 3", None, id="no-such-half-term"),
        pytest.param("October half-term holiday", None, id="holiday"),
    ],
)
def test_parse_half_term(summary: str, expected: HalfTerm | None) -> None:
    assert parse_half_term(summary) is expected


# --- validation of calendars built in code ---------------------------------------------------


def test_validate_names_missing_half_terms_and_bad_years(sample_la: TermCalendar) -> None:
    broken = TermCalendar("Broken", "2026-2027", sample_la.half_terms[:5])
    with pytest.raises(InvalidInput) as caught:
        validate(broken)
    assert "calendar Broken 2026-2027 is invalid" in str(caught.value)
    assert "missing Summer 2" in str(caught.value)
    assert "academic year '2026-2027' is not like 2026-27" in str(caught.value)


def test_validate_rejects_a_half_term_ending_before_it_starts(sample_la: TermCalendar) -> None:
    half_terms = list(sample_la.half_terms)
    half_terms[3] = HalfTermDates(HalfTerm.SPRING_2, D("2027-03-25"), D("2027-02-22"))
    with pytest.raises(InvalidInput, match="Spring 2 starts 2027-03-25 after it ends 2027-02-22"):
        validate(TermCalendar("x", "2026-27", tuple(half_terms)))


# --- bank holidays, closures, INSET ----------------------------------------------------------


def test_early_may_bank_holiday_is_not_a_school_day(manchester: TermCalendar) -> None:
    assert is_bank_holiday(D("2027-05-03"))
    assert manchester.half_term_of(D("2027-05-03")) is HalfTerm.SUMMER_1
    assert not manchester.is_school_day(D("2027-05-03"))
    assert manchester.closure_on(D("2027-05-03")) == Closure(
        D("2027-05-03"), D("2027-05-03"), ClosureKind.BANK_HOLIDAY, "May Day"
    )


def test_christmas_inside_a_half_term_is_not_a_school_day(sample_la: TermCalendar) -> None:
    half_terms = list(sample_la.half_terms)
    half_terms[1] = HalfTermDates(HalfTerm.AUTUMN_2, D("2026-10-26"), D("2026-12-31"))
    late = TermCalendar("Late LA", "2026-27", tuple(half_terms))
    assert late.is_school_day(D("2026-12-24"))
    assert not late.is_school_day(D("2026-12-25"))  # Christmas Day, a Friday
    assert not late.is_school_day(D("2026-12-28"))  # Boxing Day (observed)
    assert late.is_school_day(D("2026-12-29"))


def test_school_days_are_computed_once_for_equal_calendars(sample_la: TermCalendar) -> None:
    twin = TermCalendar("Twin academy", "2026-27", sample_la.half_terms, sample_la.closures)
    assert twin.is_school_day(D("2026-10-01"))
    assert twin._index is sample_la._index


def test_bank_holidays_are_built_once_per_year() -> None:
    assert bank_holidays(2027) is bank_holidays(2027)
    assert bank_holidays(2026)[D("2026-12-25")] == "Christmas Day"


def test_occasional_day_is_closed_in_manchester_only(
    manchester: TermCalendar, sample_la: TermCalendar
) -> None:
    assert not manchester.is_school_day(D("2027-05-04"))
    assert manchester.closure_on(D("2027-05-04")) is not None
    assert sample_la.is_school_day(D("2027-05-04"))
    assert sample_la.closure_on(D("2027-05-04")) is None


def test_inset_days_are_inside_term_but_not_school_days(
    manchester: TermCalendar, sample_la: TermCalendar
) -> None:
    assert manchester.half_term_of(D("2027-01-04")) is HalfTerm.SPRING_1
    assert not manchester.is_school_day(D("2027-01-04"))
    assert manchester.is_school_day(D("2027-01-05"))
    inset = sample_la.closure_on(D("2026-11-27"))
    assert inset is not None and inset.kind is ClosureKind.INSET


# --- half-terms and school days --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param("2026-09-02", None, id="inset-before-term"),
        pytest.param("2026-09-03", HalfTerm.AUTUMN_1, id="first-day"),
        pytest.param("2026-09-05", HalfTerm.AUTUMN_1, id="saturday-in-term"),
        pytest.param("2026-10-23", HalfTerm.AUTUMN_1, id="last-day"),
        pytest.param("2026-10-24", None, id="day-after"),
        pytest.param("2026-11-01", None, id="last-day-of-holiday"),
        pytest.param("2026-11-02", HalfTerm.AUTUMN_2, id="next-half-term"),
        pytest.param("2027-07-21", HalfTerm.SUMMER_2, id="last-day-of-year"),
        pytest.param("2027-07-22", None, id="summer-holiday"),
        pytest.param("2025-12-01", None, id="another-year"),
    ],
)
def test_half_term_of(manchester: TermCalendar, day: str, expected: HalfTerm | None) -> None:
    assert manchester.half_term_of(D(day)) is expected


def test_school_days_are_inclusive_weekdays(manchester: TermCalendar) -> None:
    days = manchester.school_days(start=D("2026-09-03"), end=D("2026-10-23"))
    assert len(days) == 37
    assert (days[0], days[-1]) == (D("2026-09-03"), D("2026-10-23"))
    assert all(day.weekday() < 5 for day in days)
    assert not manchester.is_school_day(D("2026-09-05"))


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        pytest.param("2026-10-22", 2, "2026-11-02", id="across-october-half-term"),
        pytest.param("2026-11-02", -1, "2026-10-23", id="back-across-half-term"),
        pytest.param("2026-10-24", 0, "2026-11-02", id="zero-from-holiday-is-next"),
        pytest.param("2026-10-22", 0, "2026-10-22", id="zero-on-school-day-is-itself"),
        pytest.param("2027-04-30", 1, "2027-05-05", id="over-bank-holiday-and-closure"),
        pytest.param("2026-12-18", 1, "2027-01-05", id="over-christmas-and-inset"),
    ],
)
def test_add_school_days(manchester: TermCalendar, day: str, n: int, expected: str) -> None:
    assert manchester.add_school_days(D(day), n=n) == D(expected)


def test_add_school_days_past_the_year_says_so(manchester: TermCalendar) -> None:
    with pytest.raises(InvalidInput, match="1 school day after 2027-07-21 falls outside"):
        manchester.add_school_days(D("2027-07-21"), n=1)


def test_next_school_day(manchester: TermCalendar) -> None:
    assert manchester.next_school_day(D("2027-05-01")) == D("2027-05-05")
    assert manchester.next_school_day(D("2027-05-05")) == D("2027-05-06")


@given(
    start=st.dates(min_value=date(2026, 8, 1), max_value=date(2027, 6, 20)),
    n=st.integers(min_value=0, max_value=15),
)
def test_add_school_days_counts_school_days(start: date, n: int) -> None:
    calendar = sample_years()[0]
    result = calendar.add_school_days(start, n=n)
    assert calendar.is_school_day(result)
    counted = calendar.school_days(start=start + timedelta(days=1), end=result)
    assert len(counted) == (n if n else int(result != start))


def test_common_open_days_of_two_calendars(
    manchester: TermCalendar, sample_la: TermCalendar
) -> None:
    days = common_open_days(
        [manchester, sample_la, manchester], start=D("2026-10-12"), end=D("2026-11-06")
    )
    expected = [D("2026-10-12") + timedelta(days=i) for i in range(5)]
    expected += [D("2026-11-02") + timedelta(days=i) for i in range(5)]
    assert days == expected
    may = common_open_days([manchester, sample_la], start=D("2027-05-03"), end=D("2027-05-07"))
    assert may == [D("2027-05-05"), D("2027-05-06"), D("2027-05-07")]


def test_common_open_days_needs_a_calendar() -> None:
    with pytest.raises(InvalidInput, match="at least one calendar"):
        common_open_days([], start=D("2026-10-12"), end=D("2026-11-06"))


def test_within_half_terms(manchester: TermCalendar) -> None:
    autumn = {"first": HalfTerm.AUTUMN_1, "last": HalfTerm.AUTUMN_2}
    assert manchester.within_half_terms(D("2026-10-28"), **autumn)  # the holiday between
    assert manchester.within_half_terms(D("2026-12-18"), **autumn)
    assert not manchester.within_half_terms(D("2027-01-05"), **autumn)
    with pytest.raises(InvalidInput, match="backwards"):
        manchester.within_half_terms(D("2026-10-28"), first=HalfTerm.SPRING_1, last=autumn["last"])


# --- boundaries for cycle plans --------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"end_of": "Autumn 1"}, "2026-10-23", id="end-of"),
        pytest.param({"start_of": "Spring 1"}, "2027-01-04", id="start-of-is-the-inset-day"),
        pytest.param({"end_of": "Autumn 1", "school_days": -5}, "2026-10-16", id="minus-5"),
        pytest.param({"start_of": "Spring 1", "school_days": 1}, "2027-01-05", id="plus-1"),
        pytest.param({"start_of": "Summer 1", "school_days": 15}, "2027-05-05", id="plus-15"),
        pytest.param({"end_of": "autumn term 2", "school_days": 0}, "2026-12-18", id="lenient"),
        pytest.param({"end_of": HalfTerm.SUMMER_2}, "2027-07-21", id="enum-value"),
    ],
)
def test_resolve_boundary(manchester: TermCalendar, spec: dict[str, object], expected: str) -> None:
    assert resolve_boundary(manchester, spec=spec) == D(expected)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param({"end": "Autumn 1"}, "unknown key end", id="unknown-key"),
        pytest.param({"school_days": 3}, "needs exactly one of start_of, end_of", id="no-anchor"),
        pytest.param(
            {"start_of": "Autumn 1", "end_of": "Autumn 2"},
            "(got start_of, end_of)",
            id="two-anchors",
        ),
        pytest.param({"end_of": "Autumn 3"}, "end_of: 'Autumn 3' is not a half-term", id="bad"),
        pytest.param(
            {"end_of": "Autumn 1", "school_days": "3"},
            "school_days: '3' is not a whole number",
            id="offset-text",
        ),
        pytest.param(
            {"end_of": "Autumn 1", "school_days": True},
            "school_days: True is not a whole number",
            id="offset-bool",
        ),
    ],
)
def test_resolve_boundary_rejects_bad_specs(
    sample_la: TermCalendar, spec: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_boundary(sample_la, spec=spec)
    assert message in str(caught.value)
