"""The GIAS establishment CSV reader: what a facilitator sees when they import the extract."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import math
import sys
from collections.abc import Mapping
from datetime import date
from importlib.resources import files
from pathlib import Path
from types import ModuleType

import pytest

from review_engine.core.gias import (
    COLUMNS,
    PHASE_ALTERNATIVE_PROVISION,
    PHASE_SPECIAL,
    SchoolRecord,
    read_gias,
)
from review_engine.errors import FileFormatError, NotFound, RowError

REPO = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/data")
needs_shared = pytest.mark.skipif(
    not (SHARED / "gias-manchester-12.csv").exists(),
    reason="the real GIAS extracts in /work/shared/data are not on this machine",
)


def _load_gias_data() -> ModuleType:
    """Import bench/gias_data.py by path: bench/ is not an installed package."""
    name = "bench.gias_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "gias_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gias_data = _load_gias_data()
HEADER: tuple[str, ...] = gias_data.GIAS_HEADER

BASE_ROW: dict[str, str] = {
    "URN": "100001",
    "LA (code)": "352",
    "LA (name)": "Manchester",
    "EstablishmentNumber": "2000",
    "EstablishmentName": "Test Primary School",
    "TypeOfEstablishment (name)": "Community school",
    "EstablishmentTypeGroup (name)": "Local authority maintained schools",
    "EstablishmentStatus (name)": "Open",
    "PhaseOfEducation (name)": "Primary",
    "StatutoryLowAge": "3",
    "StatutoryHighAge": "11",
    "OpenDate": "",
    "CloseDate": "",
    "Town": "Manchester",
    "Postcode": "M1 1AA",
    "Easting": "384000",
    "Northing": "398000",
    "OfstedRating (name)": "Good",
    "OfstedLastInsp": "14-03-2023",
    "GOR (name)": "North West",
    "NumberOfPupils": "250",
    "HeadFirstName": "Philippa",
    "HeadLastName": "Quennell",
    "TelephoneNum": "01614960000",
}


def gias_csv(
    *rows: Mapping[str, str],
    header: tuple[str, ...] = HEADER,
    encoding: str = "cp1252",
) -> bytes:
    """A GIAS file: the given header, then each row as BASE_ROW with the row's changes."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for changes in rows:
        values = {**BASE_ROW, **changes}
        writer.writerow([values.get(column, "") for column in header])
    return out.getvalue().encode(encoding)


def school(urn: int, **changes: str) -> dict[str, str]:
    """A row for URN ``urn`` with a matching name, plus changes."""
    return {"URN": str(urn), "EstablishmentName": f"School {urn}", **changes}


def read_one(**changes: str) -> SchoolRecord:
    """Read a one-row file and return its record, asserting it had no errors."""
    result = read_gias(gias_csv(changes))
    assert result.errors == []
    (record,) = result.records
    return record


# --- the real extracts -------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize(
    ("filename", "rows"),
    [("gias-manchester-12.csv", 12), ("gias-greater-manchester-40.csv", 40)],
    ids=["manchester-12", "greater-manchester-40"],
)
def test_real_extract_reads_every_row(filename: str, rows: int) -> None:
    result = read_gias(SHARED / filename)

    assert (result.rows_read, len(result.records), result.errors) == (rows, rows, [])
    assert result.skipped_other_la == 0
    assert len({r.urn for r in result.records}) == rows
    assert all(r.region == "North West" and r.location is not None for r in result.records)


@needs_shared
def test_real_extract_decodes_windows_1252_apostrophe_and_coordinates() -> None:
    records = {r.urn: r for r in read_gias(SHARED / "gias-manchester-12.csv").records}

    mary = records[105000]
    assert mary.name == "St Mary\u2019s Primary School"
    assert (mary.easting, mary.northing) == (381439, 393537)
    assert mary.la_code == "352"
    assert mary.ofsted_last_inspection == date(2022, 7, 1)
    assert mary.number_of_pupils == 470
    assert mary.trust_name is None
    assert mary.open_date is None


@needs_shared
def test_real_extract_trust_and_special_school() -> None:
    records = {r.urn: r for r in read_gias(SHARED / "gias-greater-manchester-40.csv").records}

    beechfield = records[106021]
    assert beechfield.trust_name == "Northern Lights Learning Trust"
    assert beechfield.trust_code is None
    assert beechfield.type_group == "Academies"
    assert beechfield.open_date == date(2016, 9, 1)
    hollin = records[106028]
    assert (hollin.phase, hollin.statutory_low_age, hollin.statutory_high_age) == (
        PHASE_SPECIAL,
        2,
        19,
    )
    assert hollin.ofsted_rating is None


@needs_shared
def test_real_extract_filtered_by_la() -> None:
    result = read_gias(SHARED / "gias-greater-manchester-40.csv", la_codes=["351"])

    assert {r.la_name for r in result.records} == {"Bury"}
    assert (len(result.records), result.skipped_other_la, result.rows_read) == (10, 30, 40)


# --- the shipped sample ------------------------------------------------------------------------


def test_shipped_sample_is_a_cluster_of_eight_and_one_closed_school() -> None:
    sample = files("review_engine") / "samples" / "gias-sample.csv"
    result = read_gias(sample.read_bytes(), source_name="gias-sample.csv")

    assert result.errors == []
    open_schools = [r for r in result.records if not r.is_closed]
    closed = [r for r in result.records if r.is_closed]
    assert len(open_schools) == 8
    assert [(r.name, r.status, r.close_date) for r in closed] == [
        ("Levenbridge Primary School", "Closed", date(2024, 8, 31))
    ]
    names = {r.name for r in result.records}
    assert "St Aidan\u2019s Church of England Primary School" in names
    trusts = [r.trust_name for r in result.records if r.trust_name]
    assert len(trusts) == 2 and len(set(trusts)) == 1
    assert [r.name for r in result.records if r.phase == PHASE_SPECIAL] == [
        "Brookside Special School"
    ]
    assert all(900000 <= r.urn <= 999999 for r in result.records)
    assert all(r.ofsted_rating for r in result.records)
    for a in result.records:
        for b in result.records:
            assert a.location is not None and b.location is not None
            assert math.dist(a.location, b.location) <= 6_000, (a.name, b.name)


@needs_shared
def test_shipped_sample_urns_do_not_collide_with_shared_files() -> None:
    sample = files("review_engine") / "samples" / "gias-sample.csv"
    ours = {r.urn for r in read_gias(sample.read_bytes()).records}
    for filename in ("gias-manchester-12.csv", "gias-greater-manchester-40.csv"):
        assert ours.isdisjoint(r.urn for r in read_gias(SHARED / filename).records)


# --- encodings ---------------------------------------------------------------------------------


def test_utf8_file_with_bom_reads_the_same_as_windows_1252(tmp_path: Path) -> None:
    cp1252 = tmp_path / "cp1252.csv"
    utf8 = tmp_path / "utf8.csv"
    gias_data.write_gias_csv(cp1252, rows=300, seed=7)
    gias_data.write_gias_csv(utf8, rows=300, seed=7, encoding="utf-8-sig")

    assert utf8.read_bytes().startswith(b"\xef\xbb\xbf")
    from_cp1252 = read_gias(cp1252)
    from_utf8 = read_gias(utf8)
    assert from_utf8.errors == []
    assert from_utf8.records == from_cp1252.records
    assert any("\u2019" in r.name for r in from_utf8.records)


@pytest.mark.parametrize(
    ("data", "byte"),
    [
        (gias_csv(school(1), school(2)).replace(b"School 2", b"School \x81 2"), "0x81"),
        (
            b"\xef\xbb\xbf"
            + gias_csv(school(1), school(2), encoding="utf-8").replace(b"School 2", b"School \xff"),
            "0xFF",
        ),
    ],
    ids=["windows-1252-undefined-byte", "utf-8-invalid-byte"],
)
def test_undecodable_byte_is_a_row_error_naming_the_line(data: bytes, byte: str) -> None:
    result = read_gias(data, source_name="national.csv")

    assert [r.urn for r in result.records] == [1]
    (error,) = result.errors
    assert error.line == 3
    assert byte in error.reason
    assert str(error).startswith("national.csv:3: ")


# --- columns -----------------------------------------------------------------------------------


def test_reordered_and_extra_columns_are_read_by_header_name() -> None:
    header = (
        "Northing",
        "Something new",
        "EstablishmentName",
        "Easting",
        "LA (code)",
        "URN",
        "Another extra",
    )
    data = gias_csv(
        school(5, **{"Something new": "x", "Another extra": "y", "LA (code)": "023"}),
        header=header,
    )

    (record,) = read_gias(data).records
    assert (record.urn, record.name, record.la_code, record.location) == (
        5,
        "School 5",
        "023",
        (384000, 398000),
    )
    assert record.phase is None and record.ofsted_rating is None and record.town is None


@pytest.mark.parametrize(
    ("dropped", "la_codes", "named"),
    [
        ({"URN"}, None, "URN"),
        ({"EstablishmentName"}, None, "EstablishmentName"),
        ({"URN", "EstablishmentName"}, None, "URN, EstablishmentName"),
        ({"LA (code)"}, ["352"], "LA (code)"),
    ],
    ids=["urn", "name", "both", "la-code-when-filtering"],
)
def test_missing_required_header_is_a_file_format_error(
    dropped: set[str], la_codes: list[str] | None, named: str
) -> None:
    header = tuple(h for h in HEADER if h not in dropped)

    with pytest.raises(FileFormatError) as caught:
        read_gias(gias_csv(school(1), header=header), la_codes=la_codes, source_name="x.csv")

    assert caught.value.line == 1
    assert f"missing required column(s): {named}" in str(caught.value)


def test_empty_file_is_a_file_format_error() -> None:
    with pytest.raises(FileFormatError, match="empty"):
        read_gias(b"")


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="GIAS file"):
        read_gias(tmp_path / "nope.csv")


# --- row errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"URN": ""}, ["missing URN"]),
        ({"URN": "Not applicable"}, ["missing URN"]),
        ({"EstablishmentName": "  "}, ["missing EstablishmentName"]),
        ({"URN": "10O003"}, ["URN '10O003' is not a number"]),
        ({"URN": "-4"}, ["URN '-4' is not a number"]),
        ({"OpenDate": "31-02-2020"}, ["OpenDate '31-02-2020' is not a date (expected dd-mm-yyyy)"]),
        ({"CloseDate": "2020-08-31"}, ["CloseDate '2020-08-31' is not a date"]),
        ({"OfstedLastInsp": "last year"}, ["OfstedLastInsp 'last year' is not a date"]),
        ({"Easting": "38400O"}, ["Easting '38400O' is not a National Grid coordinate"]),
        ({"Northing": "-12"}, ["Northing '-12' is not a National Grid coordinate"]),
        ({"Easting": "9000000"}, ["Easting '9000000' is not a National Grid coordinate"]),
        ({"Easting": "384000.5"}, ["Easting '384000.5' is not a National Grid coordinate"]),
        ({"NumberOfPupils": "about 200"}, ["NumberOfPupils 'about 200' is not a whole number"]),
        ({"StatutoryLowAge": "three"}, ["StatutoryLowAge 'three' is not a whole number"]),
        (
            {"OpenDate": "1-9-2020", "Northing": "x"},
            ["OpenDate '1-9-2020' is not a date", "Northing 'x' is not a National Grid"],
        ),
    ],
    ids=[
        "missing-urn",
        "urn-not-applicable",
        "missing-name",
        "non-numeric-urn",
        "negative-urn",
        "impossible-date",
        "iso-date",
        "words-for-date",
        "bad-easting",
        "negative-northing",
        "easting-off-the-grid",
        "decimal-easting",
        "bad-pupil-count",
        "bad-age",
        "two-problems-on-one-row",
    ],
)
def test_row_error_names_its_line_column_and_value(
    changes: dict[str, str], expected: list[str]
) -> None:
    data = gias_csv(school(1), school(2), {**school(3), **changes}, school(4))

    result = read_gias(data, source_name="extract.csv")

    assert [r.urn for r in result.records] == [1, 2, 4]
    assert [e.line for e in result.errors] == [4] * len(expected)
    for error, text in zip(result.errors, expected, strict=True):
        assert isinstance(error, RowError)
        assert error.source == "extract.csv"
        assert text in error.reason


def test_line_numbers_count_newlines_inside_quoted_fields() -> None:
    data = gias_csv(
        school(1, Street="Unit 4\r\nMill Road"),
        school(2, Town="Old\nTown", Postcode="M1\n1AA"),
        school(3, OpenDate="99-99-9999"),
        school(3),
    )

    result = read_gias(data)

    assert [(e.line, e.reason.split(" ")[0]) for e in result.errors] == [
        (7, "OpenDate"),
        (8, "duplicate"),
    ]
    assert [(r.urn, r.line) for r in result.records] == [(1, 2), (2, 4)]
    assert result.records[1].town == "Old\nTown"


def test_duplicate_urn_names_both_lines() -> None:
    data = gias_csv(school(7), school(8), school(7, EstablishmentName="Copy of 7"))

    result = read_gias(data)

    (error,) = result.errors
    assert error.line == 4
    assert error.reason == "duplicate URN 7: lines 2 and 4"
    assert [(r.urn, r.name) for r in result.records] == [(7, "School 7"), (8, "School 8")]


def test_short_row_is_a_row_error() -> None:
    data = gias_csv(school(1)) + b'"2","352"\r\n' + gias_csv(school(3)).split(b"\r\n", 1)[1]

    result = read_gias(data)

    (error,) = result.errors
    assert error.line == 3
    assert "has 2 fields" in error.reason
    assert [r.urn for r in result.records] == [1, 3]


def test_blank_lines_are_ignored() -> None:
    data = gias_csv(school(1)) + b"\r\n\r\n"

    result = read_gias(data)

    assert (result.rows_read, len(result.records), result.errors) == (1, 1, [])


# --- LA filter ---------------------------------------------------------------------------------


def test_la_filter_keeps_listed_las_and_ignores_bad_rows_elsewhere() -> None:
    data = gias_csv(
        school(1, **{"LA (code)": "352"}),
        school(2, **{"LA (code)": "358"}),
        {"URN": "not a urn", "EstablishmentName": "", "LA (code)": "358"},
        school(1, **{"LA (code)": "358"}),
        school(4, **{"LA (code)": "023"}),
    )

    result = read_gias(data, la_codes={"352", "023"})

    assert [r.urn for r in result.records] == [1, 4]
    assert result.errors == []
    assert (result.rows_read, result.skipped_other_la) == (5, 3)


def test_la_filter_given_one_code_as_a_string() -> None:
    data = gias_csv(school(1, **{"LA (code)": "352"}), school(2, **{"LA (code)": "3"}))

    result = read_gias(data, la_codes="352")

    assert [r.urn for r in result.records] == [1]


def test_la_code_keeps_leading_zeros() -> None:
    assert read_one(**{"LA (code)": "023", "EstablishmentNumber": "0042"}).la_code == "023"
    assert read_one(EstablishmentNumber="0042").establishment_number == "0042"


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    [
        "Trusts (name)",
        "Federations (code)",
        "OfstedRating (name)",
        "OfstedLastInsp",
        "Town",
        "CloseDate",
        "NumberOfPupils",
        "Easting",
    ],
    ids=["trust", "federation", "ofsted", "inspection-date", "town", "close", "pupils", "easting"],
)
@pytest.mark.parametrize("value", ["Not applicable", "", "   "], ids=["na", "empty", "blank"])
def test_not_applicable_and_empty_read_as_none(column: str, value: str) -> None:
    record = read_one(**{column: value})

    attribute = next(k for k, v in COLUMNS.items() if v == column)
    assert getattr(record, attribute) is None
    if column == "Easting":
        assert record.location is None


def test_values_are_typed() -> None:
    record = read_one(
        OpenDate="01-09-2016",
        CloseDate="31/08/2024",
        **{"Trusts (code)": "16137", "Trusts (name)": "Harbour Schools Trust"},
    )

    assert record.open_date == date(2016, 9, 1)
    assert record.close_date == date(2024, 8, 31)
    assert (record.statutory_low_age, record.statutory_high_age) == (3, 11)
    assert (record.trust_code, record.trust_name) == ("16137", "Harbour Schools Trust")
    assert (record.ofsted_rating, record.region) == ("Good", "North West")


@pytest.mark.parametrize(
    ("type_name", "group", "phase", "expected"),
    [
        ("Community special school", "Special schools", "Not applicable", PHASE_SPECIAL),
        ("Academy special converter", "Special schools", "Not applicable", PHASE_SPECIAL),
        ("Non-maintained special school", "Special schools", "", PHASE_SPECIAL),
        ("Free schools special", "Free Schools", "Not applicable", PHASE_SPECIAL),
        (
            "Pupil referral unit",
            "Local authority maintained schools",
            "Not applicable",
            PHASE_ALTERNATIVE_PROVISION,
        ),
        (
            "Academy alternative provision converter",
            "Academies",
            "Not applicable",
            PHASE_ALTERNATIVE_PROVISION,
        ),
        (
            "Free schools alternative provision",
            "Free Schools",
            "Not applicable",
            PHASE_ALTERNATIVE_PROVISION,
        ),
        ("Higher education institutions", "Universities", "Not applicable", None),
        ("Community school", "Local authority maintained schools", " primary ", "Primary"),
        ("Academy converter", "Academies", "Middle  deemed secondary", "Middle deemed secondary"),
        ("Academy special converter", "Special schools", "Secondary", "Secondary"),
    ],
    ids=[
        "community-special",
        "academy-special",
        "non-maintained-special-empty-phase",
        "free-school-special",
        "pupil-referral-unit",
        "ap-academy",
        "ap-free-school",
        "university-stays-none",
        "primary-normalised",
        "middle-deemed-secondary-spacing",
        "special-with-a-phase-keeps-it",
    ],
)
def test_phase_recognises_special_and_alternative_provision(
    type_name: str, group: str, phase: str, expected: str | None
) -> None:
    record = read_one(
        **{
            "TypeOfEstablishment (name)": type_name,
            "EstablishmentTypeGroup (name)": group,
            "PhaseOfEducation (name)": phase,
        }
    )

    assert record.phase == expected


@pytest.mark.parametrize(
    ("status", "is_closed"),
    [
        ("Open", False),
        ("Closed", True),
        ("Open, but proposed to close", False),
        ("Proposed to open", False),
    ],
    ids=["open", "closed", "proposed-to-close", "proposed-to-open"],
)
def test_closed_school(status: str, is_closed: bool) -> None:
    record = read_one(
        **{"EstablishmentStatus (name)": status},
        CloseDate="31-08-2024" if is_closed else "",
    )

    assert (record.status, record.is_closed) == (status, is_closed)
    assert (record.close_date is not None) == is_closed


def test_head_teachers_names_and_telephone_are_never_on_the_record() -> None:
    record = read_one()

    assert not any(c.startswith(("Head", "Telephone")) for c in COLUMNS.values())
    names = {f.name for f in dataclasses.fields(record)}
    assert not {n for n in names if "head" in n or "phone" in n}
    text = repr(record)
    for private in ("Philippa", "Quennell", "01614960000"):
        assert private not in text


def test_fields_hash_tells_unchanged_from_updated() -> None:
    first = read_one()
    moved = read_gias(gias_csv(school(9), BASE_ROW)).records[1]

    assert moved.line != first.line
    assert moved == first
    assert moved.fields_hash() == first.fields_hash()
    for change in ({"ofsted_rating": "Outstanding"}, {"trust_name": "A Trust"}, {"easting": 1}):
        updated = dataclasses.replace(first, **change)
        assert updated != first
        assert updated.fields_hash() != first.fields_hash()
    assert (
        dataclasses.replace(first, town=None).fields_hash()
        != dataclasses.replace(first, town="\x00").fields_hash()
    )


def test_record_is_frozen() -> None:
    record = read_one()

    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "Renamed"  # type: ignore[misc]


# --- progress, generated files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [(2_500, [1_000, 2_000, 2_500]), (2_000, [1_000, 2_000]), (7, [7])],
    ids=["with-remainder", "exact-multiple-not-repeated", "small-file"],
)
def test_progress_is_reported_every_thousand_rows(
    tmp_path: Path, rows: int, expected: list[int]
) -> None:
    path = tmp_path / "gias.csv"
    gias_data.write_gias_csv(path, rows=rows, seed=3)
    seen: list[int] = []

    result = read_gias(path, progress=seen.append)

    assert seen == expected
    assert result.rows_read == rows


def test_generated_national_style_file_reads_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "national.csv"
    gias_data.write_gias_csv(path, rows=5_000, seed=11)

    result = read_gias(path)

    assert result.errors == []
    assert (result.rows_read, len(result.records)) == (5_000, 5_000)
    records = result.records
    assert any(r.is_closed and r.close_date for r in records)
    assert any("\u2019" in r.name for r in records)
    assert any(r.phase == PHASE_SPECIAL for r in records)
    assert any(r.phase == PHASE_ALTERNATIVE_PROVISION for r in records)
    assert any(r.la_code == "000" for r in records)
    assert any(r.trust_name and r.type_group == "Academies" for r in records)
    assert all(r.location is not None for r in records)
    assert all(0 < r.easting < 700_000 and 0 < r.northing < 700_000 for r in records)  # type: ignore[operator]
    lines = [r.line for r in records]
    assert lines == sorted(lines) and lines[0] == 2
