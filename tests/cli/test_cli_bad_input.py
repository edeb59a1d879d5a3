"""Hostile and out-of-range input at the terminal: each is one line `error: ...` on stderr,
exit 1, and the database is exactly as it was (every row of every table compared)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
import typer.testing

from review_engine.core.domain import Role
from review_engine.errors import InvalidInput
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import clusters, cycles, people, schools, sef, transitions
from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import CYCLE, HEADS, HOST, URNS, _command, as_, ok
from tests.conftest import FACILITATOR, SAMPLES

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(9)]
)
HUGE = str(10**22)  # 23 digits


@pytest.fixture
def cluster(initialised: Invoke, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """As test_cli_phases: four sample schools, their heads, a cycle with self-review open."""
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _command())
    operator = ("--as", "operator")
    ok(initialised, *operator, "schools", "import", str(SAMPLES / "gias-sample.csv"))
    ok(initialised, *operator, "people", "add", FACILITATOR, "--name", "Fran",
       "--role", "facilitator")  # fmt: skip
    for urn, email in HEADS.items():
        ok(initialised, *operator, "people", "add", email, "--name", f"Head {urn}",
           "--role", "head", "--school", urn)  # fmt: skip
    ok(initialised, *operator, "cluster", "create", "Northbrook", "--facilitator", FACILITATOR,
       "--framework", "eif2019")  # fmt: skip
    ok(initialised, "cluster", "add", "Northbrook", *URNS)
    ok(initialised, *operator, "calendar", "import", "Sample LA",
       str(SAMPLES / "term-dates-2026-27.csv"))  # fmt: skip
    for la in ("352", "356", "358"):
        ok(initialised, *operator, "calendar", "assign", "Sample LA", "--la", la)
    ok(initialised, "cycle", "start", "--cluster", "Northbrook", "--year", "2026-27")
    ok(initialised, "trigger", CYCLE, "open_self_review")
    return initialised


def snapshot(cli_env: dict[str, str]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the CLI's SQLite database."""
    path = cli_env["REVIEW_DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"'), key=repr) for t in tables}


def refused(review: Invoke, cli_env: dict[str, str], *args: str, says: str) -> str:
    """Run a command that must be refused: exit 1, one stderr line, nothing changed."""
    before = snapshot(cli_env)
    result = review(*args)
    assert result.exit_code == 1, (args, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert says in lines[0], lines[0]
    assert snapshot(cli_env) == before
    return lines[0]


def as_head(*args: str) -> tuple[str, ...]:
    return ("--as", HEADS[HOST], *args)


# --- files ------------------------------------------------------------------------------


def test_billion_laughs_write_up_is_refused_at_once(
    cluster: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text(BILLION_LAUGHS, encoding="utf-8")
    started = time.perf_counter()
    refused(
        cluster,
        cli_env,
        *as_head("writeup", "draft", CYCLE, "--school", HOST, str(laughs)),
        says="laughs.yaml:1: YAML anchors and aliases",
    )
    assert time.perf_counter() - started < 5


def test_a_2_mb_write_up_is_refused(
    cluster: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"next_steps: " + b"x" * (2 * 1024 * 1024))
    line = refused(
        cluster,
        cli_env,
        *as_head("writeup", "draft", CYCLE, "--school", HOST, str(big)),
        says="big.yaml: a write-up is larger than the 1 MB limit",
    )
    assert len(line) < 200


def test_a_2_mb_sef_is_refused(cluster: Invoke, cli_env: dict[str, str], tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_bytes((SAMPLES / "sef-primary.md").read_bytes() + b"x" * (2 * 1024 * 1024))
    refused(
        cluster,
        cli_env,
        *as_head("sef", "submit", CYCLE, "--school", HOST, str(big)),
        says="big.md: a self-evaluation is larger than the 1 MB limit",
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
        (SAMPLES / "sef-primary.md").read_bytes().replace(b"Good", b"Go\x00od", 1),
    ],
    ids=["png", "docx", "nul-in-text"],
)
def test_a_binary_sef_is_refused(
    cluster: Invoke, cli_env: dict[str, str], tmp_path: Path, data: bytes
) -> None:
    sef = tmp_path / "sef.md"
    sef.write_bytes(data)
    refused(
        cluster,
        cli_env,
        *as_head("sef", "submit", CYCLE, "--school", HOST, str(sef)),
        says="sef.md",
    )


def test_a_windows_1252_sef_is_read_as_word_saved_it(cluster: Invoke, tmp_path: Path) -> None:
    text = (SAMPLES / "sef-primary.md").read_text(encoding="utf-8")
    text = text.replace("## Enquiry question\n", "## Enquiry question\n\u2018Caf\u00e9\u2019 ", 1)
    sef = tmp_path / "sef.md"
    sef.write_bytes(text.encode("cp1252"))
    as_(cluster, HOST, "sef", "submit", CYCLE, "--school", HOST, str(sef))
    shown = as_(cluster, HOST, "sef", "show", CYCLE, "--school", HOST)
    assert "Enquiry question: \u2018Caf\u00e9\u2019 " in shown


def test_a_file_neither_utf8_nor_windows_1252_is_refused(
    cluster: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    sef = tmp_path / "sef.md"
    sef.write_bytes((SAMPLES / "sef-primary.md").read_bytes() + b"\x81\x8d\x8f")
    refused(
        cluster,
        cli_env,
        *as_head("sef", "submit", CYCLE, "--school", HOST, str(sef)),
        says="neither UTF-8 nor Windows-1252",
    )


def test_a_binary_gias_file_is_refused(
    cluster: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    gias = tmp_path / "gias.csv"
    gias.write_bytes(b"\x00\x01\x02" * 1000)
    refused(
        cluster,
        cli_env,
        *("--as", "operator", "schools", "import", str(gias)),
        says="gias.csv:1: a NUL byte",
    )


# --- names and free text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("people", "add", "nul@example.org", "--name", "Nu\x00l", "--role", "facilitator"),
         "name contains a control character (U+0000)"),
        (("people", "add", "long@example.org", "--name", "x" * 201, "--role", "facilitator"),
         "name is 201 characters long; at most 200"),
        (("cluster", "create", "Nu\x00ll"), "cluster name contains a control character"),
    ],
    ids=["nul-in-person-name", "long-person-name", "nul-in-cluster-name"],
)  # fmt: skip
def test_names_with_nul_or_too_long(
    cluster: Invoke, cli_env: dict[str, str], args: tuple[str, ...], says: str
) -> None:
    refused(cluster, cli_env, "--as", "operator", *args, says=says)


def test_free_text_with_nul_or_too_long(cluster: Invoke, cli_env: dict[str, str]) -> None:
    refused(
        cluster,
        cli_env,
        *("sef", "return", CYCLE, "--school", HOST, "--reason", "fix\x00it"),
        says="reason contains a control character (U+0000)",
    )
    refused(
        cluster,
        cli_env,
        *("sef", "return", CYCLE, "--school", HOST, "--reason", "x" * 10_001),
        says="reason is 10,001 characters long; at most 10,000",
    )


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("..", "cluster name '..' is not allowed"),
        (".", "cluster name '.' is not allowed"),
        ("CON", "reserved device name"),
        ("com1", "reserved device name"),
        ("x" * 100_000, "cluster name is 100,000 characters long; at most 100"),
        ("a/b", "must not contain '/'"),
    ],
    ids=["dotdot", "dot", "CON", "com1", "100000-chars", "slash"],
)
def test_bad_cluster_names(cluster: Invoke, cli_env: dict[str, str], name: str, says: str) -> None:
    refused(cluster, cli_env, "--as", "operator", "cluster", "create", name, says=says)


def test_cluster_names_are_unique_ignoring_case(cluster: Invoke, cli_env: dict[str, str]) -> None:
    ok(cluster, "--as", "operator", "cluster", "create", "GMN")
    refused(
        cluster,
        cli_env,
        *("--as", "operator", "cluster", "create", "gmn"),
        says="cluster GMN (names ignore case, so not gmn) already exists",
    )


# --- numbers and dates ----------------------------------------------------------------------


@pytest.mark.parametrize("urn", ["0", "99999", HUGE], ids=["zero", "5-digits", "23-digits"])
@pytest.mark.parametrize(
    "command",
    [
        ("sef", "show", CYCLE, "--school"),
        ("visit", "show", CYCLE, "--school"),
        ("writeup", "show", CYCLE, "--school"),
        ("schools", "show"),
        ("cluster", "add", "Northbrook"),
    ],
    ids=["sef-show", "visit-show", "writeup-show", "schools-show", "cluster-add"],
)
def test_urn_out_of_range(
    cluster: Invoke, cli_env: dict[str, str], command: tuple[str, ...], urn: str
) -> None:
    line = refused(cluster, cli_env, *command, urn, says="out of range (100000 to 99999999)")
    assert len(line) < 120


@pytest.mark.parametrize(
    "args",
    [
        ("trigger", CYCLE, "submit", "--machine", "self_review", "--school", HUGE),
        ("history", CYCLE, "--school", HUGE),
        ("visit", "ics", CYCLE, "--school", HUGE),
        ("triads", "set", CYCLE, HUGE, "990102", "990103"),
        ("availability", "set", CYCLE, "--school", HUGE),
        ("actions", "list", CYCLE, "--school", HUGE),
        ("feedback", "give", CYCLE, "--school", HUGE, "--kind", "immediate", "--usefulness", "3"),
        ("people", "list", "--school", HUGE),
        ("cluster", "remove", "Northbrook", HUGE),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_23_digit_urn_anywhere(
    cluster: Invoke, cli_env: dict[str, str], args: tuple[str, ...]
) -> None:
    refused(cluster, cli_env, *args, says="URN 100000000000... (too long) is out of range")


def test_urn_out_of_range_when_adding_a_person(cluster: Invoke, cli_env: dict[str, str]) -> None:
    refused(
        cluster,
        cli_env,
        *("--as", "operator", "people", "add", "x@example.org", "--name", "X"),
        *("--role", "head", "--school", HUGE),
        says="URN 100000000000... (too long) is out of range",
    )


def test_cycle_number_out_of_range(cluster: Invoke, cli_env: dict[str, str]) -> None:
    refused(
        cluster,
        cli_env,
        *("sef", "show", HUGE, "--school", HOST),
        says="cycle number 100000000000... (too long) is out of range (1 to 2147483647)",
    )
    refused(cluster, cli_env, "history", HUGE, says="cycle number")


def test_action_number_out_of_range(cluster: Invoke, cli_env: dict[str, str]) -> None:
    refused(
        cluster,
        cli_env,
        *("actions", "update", CYCLE, HUGE, "--school", HOST, "--rag", "green", "--note", "n"),
        says="action number 100000000000... (too long) is out of range",
    )


@pytest.mark.parametrize("now", ["9999-12-31", "1900-01-01", "2101-01-01T06:00"])
def test_tick_now_out_of_range(cluster: Invoke, cli_env: dict[str, str], now: str) -> None:
    refused(cluster, cli_env, "tick", "--now", now, says="--now ")


def test_visit_date_far_from_the_cycle_is_refused(cluster: Invoke, cli_env: dict[str, str]) -> None:
    refused(
        cluster,
        cli_env,
        *as_head("visit", "schedule", CYCLE, "--school", HOST, "--date", "2150-03-03"),
        says="visit date 2150-03-03 is outside 2000-01-01 to 2100-12-31",
    )


# --- LA codes -------------------------------------------------------------------------------


def test_la_must_be_three_digits(cluster: Invoke, cli_env: dict[str, str], tmp_path: Path) -> None:
    gias = tmp_path / "gias.csv"
    shutil.copy(SAMPLES / "gias-sample.csv", gias)
    refused(
        cluster,
        cli_env,
        *("--as", "operator", "schools", "import", str(gias), "--la", "abc"),
        says="LA code 'abc' should be three digits",
    )
    ok(cluster, "--as", "operator", "calendar", "import", "Sample LA",
       str(SAMPLES / "term-dates-2026-27.csv"))  # fmt: skip
    refused(
        cluster,
        cli_env,
        *("--as", "operator", "calendar", "assign", "Sample LA", "--la", "abc"),
        says="LA code 'abc' should be three digits",
    )
    refused(
        cluster,
        cli_env,
        *("--as", "operator", "calendar", "assign", "Sample LA", "--la", "999"),
        says="LA code 999 not found",
    )


# --- the services refuse the same on both backends (PostgreSQL refuses NUL with an error) ----


def _fire_with_reason(rt: Runtime, reason: str) -> object:
    cycles.start_cycle(rt, cluster="Northbrook", year="2026-27")
    return transitions.fire(
        rt, cycle="Northbrook/2026-27", machine="cycle", trigger="open_self_review", reason=reason
    )


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda rt: people.add_person(rt, email="n@example.org", name="a\x00b",
                                      role=Role.FACILITATOR), "name contains"),
        (lambda rt: clusters.create_cluster(rt, name="a\x00b"), "cluster name contains"),
        (lambda rt: clusters.show_cluster(rt, name="a\x00b"), "cluster name contains"),
        (lambda rt: schools.list_schools(rt, search="a\x00"), "--search contains"),
        (lambda rt: schools.show_school(rt, urn=10**22), "URN 100000000000..."),
        (lambda rt: sef.show_sef(rt, cycle=HUGE, urn=990101), "cycle number"),
        (lambda rt: clusters.create_cluster(rt, name="NUL"), "reserved device name"),
        (lambda rt: _fire_with_reason(rt, "a\x00b"), "reason contains"),
    ],
    ids=["person-name", "cluster-name", "cluster-lookup", "school-search", "urn", "cycle",
         "device-name", "trigger-reason"],
)  # fmt: skip
def test_services_refuse_before_the_database(
    sample_cluster: list[int], rt: Runtime, call: Callable[[Runtime], object], says: str
) -> None:
    operator = rt.acting_as(OPERATOR)
    before = [c.name for c in clusters.list_clusters(operator)]
    with pytest.raises(InvalidInput, match=re.escape(says)):
        call(operator)
    assert [c.name for c in clusters.list_clusters(operator)] == before
