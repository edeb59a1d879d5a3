"""The terminal a facilitator lives with: tables that fit 80 columns (plain aligned text when
piped, every column with --wide), the support plan's own commands, refusals that name the
command to run next, a visiting school never booked on two visits at once, focus areas from
the framework, and shell completion."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import typer.testing

from review_engine.config import Settings
from review_engine.core.domain import SharingLevel
from review_engine.runtime import Runtime
from review_engine.services import actions, transitions, visits
from review_engine.testing import FakeClock
from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import _command
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    START,
    at,
    build_cluster,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    start_cycle,
    submit_sef,
)

HOST = 990101
VISIT_DAY = date(2026, 11, 10)
BOX = set("─│┃━┏┓┗┛┡┩╇╋┳┻")


@dataclass(frozen=True)
class Year:
    """The sample cluster in its write-up: SEFs in, triads formed by rotation, the visit to
    HOST held and an action for it agreed. `review` runs the CLI on the same database."""

    review: Invoke
    urns: list[int]
    triads: dict[int, list[int]]

    def as_(self, urn: int, *args: str) -> typer.testing.Result:
        return self.review("--as", HEADS[urn], *args)


@pytest.fixture
def year(
    initialised: Invoke,
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Year]:
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _command())
    clock = FakeClock(START)
    settings = Settings(database_url=cli_env["REVIEW_DATABASE_URL"], data_dir=tmp_path)
    rt = Runtime.open(settings, clock=clock, actor=FACILITATOR)
    try:
        urns = build_cluster(rt)
        cycle = start_cycle(rt)
        for urn in urns:
            submit_sef(rt, cycle, urn)
        transitions.fire(rt, cycle=cycle, machine="cycle", trigger="open_peer_review")
        by_host = set_rotation_triads(rt, cycle, urns)
        hold_visit(rt, clock, cycle, HOST, VISIT_DAY)
    finally:
        rt.db.engine.dispose()
    yield Year(initialised, urns, by_host)


def ok(result: typer.testing.Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result: typer.testing.Result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def fits(text: str, width: int = 80) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide
    assert not BOX & set(text), "piped tables are plain text"


# --- tables ------------------------------------------------------------------------------


def test_history_fits_80_columns_when_piped_and_wide_gives_every_column(year: Year) -> None:
    shown = ok(year.review("history", CYCLE))
    fits(shown)
    lines = shown.splitlines()
    assert lines[1].split() == ["when", "(London)", "change"]
    assert set(lines[2]) == {"-", " "}
    change = "Visit held (Visit booked -> Visit held)"
    held = next(i for i, line in enumerate(lines) if change in line)
    assert "Northbrook Primary School" in lines[held - 1]  # the school above its change
    assert f"by {HEADS[HOST]}" in lines[held + 1]  # and who made it below
    assert "trigger" not in lines[1]

    wide = ok(year.review("history", CYCLE, "--wide"))
    header = wide.splitlines()[1].split()
    assert header[-4:] == ["to", "trigger", "by", "reason"]
    row = next(line for line in wide.splitlines() if "open_peer_review" in line)
    assert "self_review" in row and "peer_review" in row  # one line per change, unwrapped
    assert ok(year.review("--wide", "history", CYCLE)) == wide  # the global --wide too


def test_triads_show_puts_each_distance_beside_its_own_school(year: Year) -> None:
    shown = ok(year.review("triads", "show", CYCLE))
    fits(shown)
    assert shown.splitlines()[0].split() == ["host", "visitor", "km"]
    visitors = year.triads[HOST]
    rows = [line for line in shown.splitlines()[2:] if line.strip()]
    start = next(i for i, line in enumerate(rows) if line.startswith("Northbrook Primary"))
    block = "\n".join(rows[start : start + 6])
    for urn in visitors:
        assert f"({urn})" in block
    lead_line = next(line for line in rows[start:] if f"({visitors[0]})" in line)
    assert "lead" in lead_line
    assert "why" in ok(year.review("triads", "show", CYCLE, "--wide")).splitlines()[0]


def test_actions_list_and_cycle_status_fit_80_columns(
    year: Year, cli_env: dict[str, str], tmp_path: Path
) -> None:
    rt = Runtime.open(
        Settings(database_url=cli_env["REVIEW_DATABASE_URL"], data_dir=tmp_path),
        clock=FakeClock(at(date(2027, 3, 1))),
        actor=HEADS[HOST],
    )
    try:
        transitions.fire(
            rt.acting_as(FACILITATOR), cycle=CYCLE, machine="cycle", trigger="open_write_up"
        )
        publish_writeup(rt, CYCLE, HOST, year.triads[HOST], SharingLevel.CLUSTER)
        transitions.fire(
            rt.acting_as(FACILITATOR), cycle=CYCLE, machine="cycle", trigger="open_support"
        )
        actions.add_action(
            rt,
            cycle=CYCLE,
            urn=HOST,
            ebi=1,
            title="Daily keep-up sessions in every Key Stage 1 class, led by trained staff",
            owner="English lead",
            success_criteria="Keep-up sessions seen in every class on two learning walks",
            due=date(2027, 6, 30),
            supporting_urn=year.triads[HOST][1],
        )
    finally:
        rt.db.engine.dispose()
    listed = ok(year.review("actions", "list", CYCLE))
    fits(listed)
    assert listed.splitlines()[1].split() == ["school", "#", "action", "due", "RAG"]
    assert "Daily keep-up sessions in every" in listed  # wrapped at word boundaries
    assert "Key Stage 1 class, led by" in listed
    wide = ok(year.review("actions", "list", CYCLE, "--wide"))
    assert "criteria" in wide.splitlines()[1] and "English lead" in wide

    status = ok(year.review("cycle", "status", CYCLE))
    fits(status.split("\noverdue")[0].split("\nfeedback missing")[0])  # the table
    assert "Waiting for" in status and "awaiting" not in status  # states in words


# --- the support plan, and refusals that say what to run ---------------------------------


def test_support_commands_move_the_plan_and_a_refusal_names_the_next_command(
    year: Year,
) -> None:
    cycle_q = "Northbrook/2026-27"
    early = refused(year.as_(HOST, "support", "start", CYCLE, "--school", str(HOST)))
    assert early == (
        "error: Northbrook/2026-27 school 990101: cannot start the support plan while the "
        "support plan is awaiting plan; run "
        f"`review support agree {cycle_q} --school 990101` (agree the support plan) first"
    )
    assert "allowed:" not in early
    said = ok(year.as_(HOST, "support", "agree", CYCLE, "--school", str(HOST)))
    assert said.strip() == "the support plan of school 990101 is now plan agreed"
    ok(year.as_(HOST, "support", "start", CYCLE, "--school", str(HOST)))
    no_note = refused(year.as_(HOST, "support", "review", CYCLE, "--school", str(HOST),
                               "--changed", "  "))  # fmt: skip
    assert "say what changed for pupils and staff" in no_note
    reviewed = ok(year.as_(HOST, "support", "review", CYCLE, "--school", str(HOST),
                           "--changed", "Keep-up sessions now daily"))  # fmt: skip
    assert "impact reviewed" in reviewed
    assert "Keep-up sessions now daily" in ok(year.review("history", CYCLE, "--wide"))


def test_a_trigger_refused_in_its_state_names_the_command_not_the_trigger(year: Year) -> None:
    second = year.urns[1]
    line = refused(year.as_(second, "visit", "schedule", CYCLE, "--school", str(second),
                            "--date", "2026-11-17"))  # fmt: skip
    assert line == (
        f"error: Northbrook/2026-27 school {second}: cannot date the visit while the visit "
        "is triad assigned; run `review visit focus Northbrook/2026-27 --school "
        f"{second} --focus KIND --question TEXT` (agree the visit's focus) first"
    )
    early = refused(year.review("trigger", CYCLE, "close"))
    assert early.endswith(
        "cannot close the cycle while the cycle is peer review; run "
        "`review trigger Northbrook/2026-27 open_write_up` (open the write-ups) first"
    )
    late = refused(year.review("trigger", CYCLE, "open_self_review"))
    assert late.endswith(
        "cannot open self-review while the cycle is peer review; the next step is "
        "`review trigger Northbrook/2026-27 open_write_up` (open the write-ups)"
    )


# --- visits: one place at a time, areas from the framework --------------------------------


def test_a_visiting_school_cannot_be_on_two_visits_in_the_same_slot(year: Year) -> None:
    # In the rotation, the lead reviewer of HOST also visits the host two places on.
    visitor = year.triads[HOST][0]
    other = next(h for h, vs in year.triads.items() if h != HOST and visitor in vs)
    ok(year.as_(other, "visit", "focus", CYCLE, "--school", str(other), "--focus",
                "learning_walk", "--question", "To what extent?"))  # fmt: skip
    # HOST's visit was on 10 Nov morning; the same visitor cannot be at `other` then.
    names = {990101: "Northbrook Primary School"}
    line = refused(year.as_(other, "visit", "schedule", CYCLE, "--school", str(other),
                            "--date", "2026-11-10"))  # fmt: skip
    assert line.startswith("error: on Tue 10 Nov 2026 (morning) ")
    assert "already on the visit to " + names[HOST] in line
    assert line.endswith("; choose another day or slot")
    afternoon = ok(year.as_(other, "visit", "schedule", CYCLE, "--school", str(other),
                            "--date", "2026-11-10", "--slot", "afternoon"))  # fmt: skip
    assert "visit: scheduled" in afternoon


def test_the_web_date_form_refuses_the_same_clash_beside_its_field(
    year: Year, cli_env: dict[str, str], tmp_path: Path
) -> None:
    visitor = year.triads[HOST][0]
    other = next(h for h, vs in year.triads.items() if h != HOST and visitor in vs)
    ok(year.as_(other, "visit", "focus", CYCLE, "--school", str(other), "--focus",
                "learning_walk", "--question", "To what extent?"))  # fmt: skip
    rt = Runtime.open(
        Settings(database_url=cli_env["REVIEW_DATABASE_URL"], data_dir=tmp_path),
        clock=FakeClock(START),
        actor=HEADS[other],
    )
    try:
        with pytest.raises(Exception) as caught:
            visits.schedule_form(rt, cycle=CYCLE, host=other, day="2026-11-10", slot="morning")
    finally:
        rt.db.engine.dispose()
    problems = getattr(caught.value, "errors", {})
    assert "already on the visit to Northbrook Primary School" in problems["visit_date"]


def test_focus_area_must_be_an_area_of_the_framework(year: Year) -> None:
    second = year.urns[1]
    line = refused(year.as_(second, "visit", "focus", CYCLE, "--school", str(second), "--focus",
                            "learning_walk", "--question", "To what extent?", "--area",
                            "reading"))  # fmt: skip
    assert line.startswith("error: focus area 'reading' is not an area of eif2019; one of: ")
    assert "quality_of_education (Quality of education)" in line
    shown = ok(year.as_(second, "visit", "focus", CYCLE, "--school", str(second), "--focus",
                        "learning_walk", "--question", "To what extent?", "--area",
                        "Quality of Education"))  # fmt: skip
    assert "(quality_of_education)" in shown


# --- shell completion --------------------------------------------------------------------


def test_help_offers_shell_completion(review: Invoke) -> None:
    shown = review("--help")
    assert shown.exit_code == 0
    assert "--install-completion" in shown.stdout and "--show-completion" in shown.stdout
    assert "--now" in shown.stdout and "--wide" in shown.stdout


def test_cycle_list_numbers_each_cycle_and_the_number_works(year: Year) -> None:
    listed = ok(year.review("cycle", "list"))
    header, rule, row = listed.splitlines()[1:4]
    assert set(rule) == {"-", " "}
    assert header.split() == ["#", "cycle", "phase", "workflow", "schools"]
    number = row.split()[0]
    assert row.split()[1] == CYCLE
    assert "Northbrook/2026-27" in ok(year.review("cycle", "status", number)).splitlines()[0]


def test_document_rendering_piped_prints_no_progress_bar(year: Year, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    shown = ok(year.review("docs", "render", CYCLE, "--format", "md", "--out", str(out)))
    assert not any(line.startswith("rendering") for line in shown.splitlines())
    assert "━" not in shown and "\r" not in shown
    assert shown.splitlines()[-1].endswith(f"documents written to {out.resolve()}")
