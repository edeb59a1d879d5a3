"""Hostile input to every parser: random and mutated bytes and text give a result or one
line of ReviewEngineError (never another exception, never a hang), and the measured failures
(billion laughs, oversized, binary, Windows-1252, control characters) are refused fast."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_engine.core import safe_text, term_dates
from review_engine.core.frameworks import get_framework
from review_engine.core.gias import read_gias
from review_engine.core.safe_text import (
    MB,
    check_cluster_name,
    check_day,
    check_int,
    check_la_code,
    check_name,
    check_text,
    check_urn,
    decode_text,
    read_bounded,
    safe_yaml,
)
from review_engine.core.sef_file import SefFormat, template
from review_engine.core.sef_file import parse as parse_sef
from review_engine.core.workflow import load_file
from review_engine.core.workflow import parse as parse_workflow
from review_engine.errors import FileFormatError, InvalidInput, WorkflowError
from review_engine.services.writeups import read_draft

SAMPLES = Path(__file__).resolve().parents[2] / "review_engine" / "samples"
WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "triad-peer-review.yaml"
FRAMEWORK = get_framework("eif2019")
EXPECTED = (InvalidInput, WorkflowError)  # FileFormatError and ImportRejected are InvalidInput

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(9)]
)

HOSTILE = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "60")),
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def sef_yaml() -> str:
    return template(FRAMEWORK, school="A School", urn=100001, fmt=SefFormat.YAML)


SAMPLE_BYTES: dict[str, bytes] = {
    "sef-md": (SAMPLES / "sef-primary.md").read_bytes(),
    "sef-yaml": sef_yaml().encode(),
    "writeup": (SAMPLES / "writeup-sample.yaml").read_bytes(),
    "gias": (SAMPLES / "gias-sample.csv").read_bytes(),
    "term-csv": (SAMPLES / "term-dates-2026-27.csv").read_bytes(),
    "term-ics": (SAMPLES / "term-dates-2026-27.ics").read_bytes(),
    "workflow": WORKFLOW.read_bytes(),
}


def _sef_md(data: bytes) -> object:
    return parse_sef(
        decode_text(data, source="s.md", windows_1252=True), FRAMEWORK, fmt=SefFormat.MD
    )


def _sef_yaml(data: bytes) -> object:
    text = decode_text(data, source="s.yaml", windows_1252=True)
    return parse_sef(text, FRAMEWORK, fmt=SefFormat.YAML, source="s.yaml")


def _writeup(data: bytes) -> object:
    return read_draft(decode_text(data, source="w.yaml", windows_1252=True), source="w.yaml")


def _workflow(data: bytes) -> object:
    return parse_workflow(decode_text(data, source="wf.yaml"), origin="wf.yaml")


PARSERS: dict[str, Callable[[bytes], object]] = {
    "sef-md": _sef_md,
    "sef-yaml": _sef_yaml,
    "writeup": _writeup,
    "gias": lambda data: read_gias(data, source_name="g.csv"),
    "term-csv": lambda data: term_dates.parse_csv(data, name="LA", source="t.csv"),
    "term-ics": lambda data: term_dates.parse_ics(data, name="LA", source="t.ics"),
    "workflow": _workflow,
}
KINDS = sorted(PARSERS)


def outcome(kind: str, data: bytes) -> object:
    """Run one parser: return its result, or the ReviewEngineError it raised (one line)."""
    try:
        return PARSERS[kind](data)
    except EXPECTED as exc:
        assert "\n" not in str(exc), str(exc)
        assert str(exc)
        return exc


HOSTILE_PIECES = [
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x81",
    b"\r",
    b'"',
    b"&a ",
    b"*a",
    b"[[[[[[[[",
    b"{",
    b"!!python/object:os.system ",
    b"99999999999999999999999",
    b"9999-12-31",
    b"0000-00-00",
    b"BEGIN:VEVENT\r\n",
    b"END:VCALENDAR\r\n",
    b"DTSTART;VALUE=DATE:99991231\r\n",
    b"DTSTART:20261301T250000\r\n",
    b"DURATION:P99999999D\r\n",
    b"\n## ",
    b"\n### Evidence\n",
    b",,,,,,,,,,",
    "\u202e\u0000\u2028".encode(),
]


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> bytes:
    """A valid sample with a few random cuts, insertions and hostile pieces."""
    data = bytearray(SAMPLE_BYTES[kind])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.one_of(st.sampled_from(HOSTILE_PIECES), st.binary(max_size=16)))
        if draw(st.booleans()):
            data[at:at] = piece
        else:
            data[at : at + draw(st.integers(0, 64))] = piece
    return bytes(data)


@pytest.mark.parametrize("kind", KINDS)
@HOSTILE
@given(data=st.binary(max_size=4096))
def test_random_bytes_give_a_result_or_one_line_error(kind: str, data: bytes) -> None:
    outcome(kind, data)


@pytest.mark.parametrize("kind", KINDS)
@HOSTILE
@given(data=st.data())
def test_mutated_samples_give_a_result_or_one_line_error(kind: str, data: st.DataObject) -> None:
    outcome(kind, data.draw(mutated(kind)))


@pytest.mark.parametrize("kind", KINDS)
@HOSTILE
@given(text=st.text(max_size=2000))
def test_random_text_gives_a_result_or_one_line_error(kind: str, text: str) -> None:
    outcome(kind, text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_sample_still_reads(kind: str) -> None:
    assert not isinstance(outcome(kind, SAMPLE_BYTES[kind]), Exception) or kind == "sef-yaml"


# --- the measured failures, one example each --------------------------------------------


@pytest.mark.parametrize(
    "parse",
    [
        lambda text: read_draft(text, source="w.yaml"),
        lambda text: parse_sef(text, FRAMEWORK, fmt=SefFormat.YAML, source="w.yaml"),
        lambda text: safe_yaml(text, source="w.yaml"),
    ],
    ids=["writeup", "sef-yaml", "safe-yaml"],
)
def test_billion_laughs_is_refused_at_once(parse: Callable[[str], Any]) -> None:
    started = time.perf_counter()
    with pytest.raises(FileFormatError, match="anchors and aliases"):
        parse(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0


def test_billion_laughs_workflow_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowError, match="anchors and aliases"):
        parse_workflow(BILLION_LAUGHS, origin="laughs.yaml")


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(FileFormatError, match="nested more than"):
        safe_yaml("[" * 200_000, source="deep.yaml")


def test_yaml_impossible_date_is_one_line() -> None:
    with pytest.raises(FileFormatError, match="cannot be read"):
        read_draft("next_steps: 2026-02-30\nwww: []\n", source="w.yaml")


def test_a_2_mb_write_up_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"next_steps: " + b"x" * (2 * MB) + b"\n")
    with pytest.raises(FileFormatError, match=r"big\.yaml: .*larger than the 1 MB limit"):
        read_bounded(big, safe_text.WRITEUP_LIMIT, what="a write-up")
    with pytest.raises(FileFormatError, match="1 MB limit"):
        read_draft("x" * (2 * MB), source="big.yaml")


def test_windows_1252_sef_is_read() -> None:
    text = (SAMPLES / "sef-primary.md").read_text(encoding="utf-8")
    text = text.replace("## Enquiry question\n", "## Enquiry question\n\u2018Caf\u00e9\u2019 ", 1)
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    decoded = decode_text(data, source="s.md", windows_1252=True)
    assert decoded == text
    assert parse_sef(decoded, FRAMEWORK, fmt=SefFormat.MD).enquiry_question


def test_windows_1252_is_not_accepted_where_utf8_is_required() -> None:
    with pytest.raises(FileFormatError, match="not UTF-8 text"):
        decode_text("caf\u00e9".encode("cp1252"), source="t.csv")


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04\x14\x00\x06\x00", b"ok\x01then"],
    ids=["png", "docx-zip", "control-character"],
)
def test_binary_content_is_refused(data: bytes) -> None:
    with pytest.raises(FileFormatError, match=r"binary content|control character"):
        decode_text(data, source="s.md", windows_1252=True)


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "x" * 10_001, "bell\x07"],
    ids=["nul", "too-long", "control"],
)
def test_free_text_is_bounded_and_printable(value: str) -> None:
    with pytest.raises(InvalidInput, match=r"^note "):
        check_text(value, "note")


def test_free_text_keeps_tabs_and_newlines() -> None:
    assert check_text("one\n\ttwo\r\n", "note") == "one\n\ttwo\r\n"
    with pytest.raises(InvalidInput):
        check_name("one\ntwo", "name")


@pytest.mark.parametrize("urn", [0, 99_999, 100_000_000, 10**22], ids=str)
def test_urn_out_of_range(urn: int) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        check_urn(urn)
    assert check_urn(100_000) == 100_000 and check_urn(99_999_999) == 99_999_999


def test_a_23_digit_number_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_int(10**22, "cycle")
    assert len(str(caught.value)) < 80


def test_dates_out_of_range() -> None:
    with pytest.raises(InvalidInput, match="outside"):
        check_day(date(9999, 12, 31), "--now")
    assert check_day(date(2027, 1, 4), "--now") == date(2027, 1, 4)


@pytest.mark.parametrize(
    "name",
    [".", "..", "CON", "con.txt", "Lpt9", "nul", "a/b", "x" * 100_001, "tab\there", "\u200e"],
    ids=["dot", "dotdot", "CON", "con.txt", "LPT9", "nul", "slash", "long", "tab", "invisible"],
)
def test_bad_cluster_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="cluster name"):
        check_cluster_name(name)


@pytest.mark.parametrize("name", ["GMN", "Mid-Cheshire 2", "Écoles du Nord", "CONSORT"])
def test_good_cluster_names(name: str) -> None:
    assert check_cluster_name(f" {name} ") == name


@pytest.mark.parametrize("code", ["abc", "33", "3300", "", "٣٣٠"])
def test_la_code_is_three_digits(code: str) -> None:
    with pytest.raises(InvalidInput, match="LA code"):
        check_la_code(code)
    assert check_la_code(" 330 ") == "330"


def test_gias_urn_and_numbers_out_of_range_are_row_errors() -> None:
    data = b"URN,EstablishmentName,NumberOfPupils\n100001,A,1\n" + (
        b"12345678901234567890123,B,1\n0,C,1\n100003,D,99999999999999999999\n100004,E\x00,1\n"
    )
    result = read_gias(data, source_name="g.csv")
    assert [r.urn for r in result.records] == [100001]
    assert [e.line for e in result.errors] == [3, 4, 5, 6]


def test_term_dates_far_future_is_a_row_error() -> None:
    data = b"academic_year,kind,label,first_day,last_day\n2026-27,inset,,9999-12-30,9999-12-31\n"
    with pytest.raises(InvalidInput, match="outside 2000-01-01 to 2100-12-31"):
        term_dates.parse_csv(data, name="LA", source="t.csv")


def test_oversized_workflow_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (300 * 1024))
    with pytest.raises(WorkflowError, match="256 KB limit"):
        load_file(big)


def test_control_characters_in_messages_do_not_break_the_line() -> None:
    with pytest.raises(FileFormatError) as caught:
        decode_text(b"line one\nline\x1b[31m two", source="s.md")
    assert re.fullmatch(r"s\.md:2: [^\n]+", str(caught.value))
