"""`review demo`: run a whole sample cycle on its own SQLite database, write its documents, and
say how to look around the year at the terminal and in the browser.

The story is told in about 80 lines at 80 columns: each step of the year under the command a
person would type for it, the ticks of the simulated calendar, one line per phase of where the
schools ended, and commands to look further (every one works on the demo's database, which is
kept in the output folder)."""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from review_engine import demo as demo_run
from review_engine.documents import Format, write_document
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import cycles, docs, history, outbox

from .output import console, say

ALL_FORMATS = "html,pdf,docx,md,csv,ics"
WIDTH = 80

# The demo's steps, by how the line that tells each one starts, and the commands a person
# would type for it. A line no prefix matches is told as it is.
STORY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("imported", ("review schools import gias-sample.csv",)),
    ("the programme admin added", ("review people add EMAIL; review cluster create NAME",)),
    ("imported the sample la term dates", ("review calendar import 'Sample LA' FILE",)),
    ("started cycle", ("review cycle start --cluster NAME --year 2026-27",)),
    ("a head's first attempt", ("review sef submit CYCLE --school URN sef.md",)),
    ("self-review:", ("review sef accept CYCLE --school URN",)),
    ("triads formed", ("review triads propose CYCLE --visitors 3",)),
    (
        "peer review:",
        ("review visit focus|schedule|agenda|complete CYCLE --school URN ...",),
    ),
    ("write-up:", ("review writeup draft|agree|publish CYCLE --school URN ...",)),
    ("support: each school", ("review actions add ...; review support agree|start ...",)),
    ("support: reflections", ("review feedback give ...; review support review|close ...",)),
)


class _Teller:
    """Tells the demo's lines: each step under its commands, ticks grouped by date."""

    def __init__(self) -> None:
        self.tick_day: str | None = None
        self.told: set[str] = set()

    def __call__(self, line: str) -> None:
        stripped = line.strip()
        if stripped.startswith("tick "):
            day, _, change = stripped[5:].partition(": ")
            if day != self.tick_day:
                self.tick_day = day
                self._command(f"review --now {day} tick")
            label = change.split(": ", 1)
            _wrap(label[1] if len(label) == 2 and "/" in label[0] else change, indent="    ")
            return
        self.tick_day = None
        lowered = stripped.lower()
        for prefix, commands in STORY:
            if lowered.startswith(prefix) and prefix not in self.told:
                self.told.add(prefix)
                for command in commands:
                    self._command(command)
                break
        _wrap(stripped, indent="  ")

    def _command(self, command: str) -> None:
        say(f"[bold]$ {escape(command)}[/bold]")


def _wrap(text: str, *, indent: str) -> None:
    for line in textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
    ):
        say(escape(line))


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the documents.")] = Path("demo-output"),
    formats: Annotated[
        str, typer.Option(help="Document formats to write, comma-separated.")
    ] = ALL_FORMATS,
) -> None:
    """Run a whole review cycle for the sample cluster on an embedded SQLite database."""
    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(wanted) - set(ALL_FORMATS.split(",")))
    if unknown:
        raise InvalidInput(f"unknown formats {', '.join(unknown)}; choose from {ALL_FORMATS}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        workdir = out / "database"  # kept, so the commands printed at the end work
        workdir.mkdir(exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot write to {out}: {exc.strerror or exc}") from None
    for old in workdir.glob("demo.sqlite*"):
        old.unlink()
    label = f"{demo_run.CLUSTER}/{demo_run.YEAR}"
    say(f"[bold]A year of peer review in {escape(demo_run.CLUSTER)}, rehearsed[/bold]")
    say("(each step under the command a person would type for it;")
    say(escape(f" CYCLE is {label})"))
    run = demo_run.run(workdir.resolve(), out=out.resolve(), say=_Teller())
    rt = run.runtime
    say("")
    _where_it_ended(rt, run.cycle)
    counts = _documents(rt, run, out, wanted)
    rt.db.engine.dispose()
    say(f"\ndocuments written to {escape(os.path.relpath(out))}/: {', '.join(counts)}")
    _look_around(run)
    _how_to_open(run)


def _where_it_ended(rt: Runtime, cycle: str) -> None:
    """One line per phase machine (how many schools are in each state), then what is left."""
    status = cycles.cycle_status(rt, cycle=cycle)
    phases = []
    for machine in status.machines:
        counted = Counter(s.states.get(machine, "") for s in status.schools)
        states = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in counted.most_common())
        phases.append(f"{machine.replace('_', ' ')}: {states}")
    say(f"[bold]The cycle is {status.state}[/bold]; its {len(status.schools)} schools:")
    _wrap("; ".join(phases), indent="  ")
    changes = len(history.history(rt, cycle=cycle))
    queued = outbox.list_outbox(rt)
    say(
        f"{changes} changes in its history; {len(status.overdue)} overdue, "
        f"{len(status.missing_feedback)} feedback missing; {len(queued)} notices queued"
    )


def _documents(rt: Runtime, run: demo_run.DemoRun, out: Path, wanted: list[str]) -> list[str]:
    """Every document of the year in each format asked for (a progress bar in a terminal)."""
    counts = []
    with Progress(
        TextColumn("rendering {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        for fmt in (Format(f) for f in wanted if f != "ics"):
            task = bar.add_task(fmt.value.upper(), total=None)

            def advance(n: int, total: int, task: TaskID = task) -> None:
                bar.update(task, completed=n, total=total)

            written = docs.render_to_folder(
                rt, cycle=run.cycle, out=out / fmt.value, fmt=fmt, progress=advance
            )
            counts.append(f"{len(written)} {fmt.value.upper()}")
    if "ics" in wanted:
        (out / "ics").mkdir(exist_ok=True)
        for urn in sorted(run.heads):
            name, data = docs.visit_invite(rt, cycle=run.cycle, host=urn)
            write_document(out / "ics", name, data)
        counts.append(f"{len(run.heads)} ICS invites")
    return counts


def _program() -> str:
    """How to call `review` from here: its path when it is not on PATH (e.g. .venv/bin)."""
    program = Path(sys.argv[0])
    if program.name == "review" and program.resolve().is_relative_to(Path.cwd()):
        return os.path.relpath(program)
    return "review"


def look_around_commands(run: demo_run.DemoRun) -> list[str]:
    """Commands that look at the demo's year (run with REVIEW_DATABASE_URL set to its file)."""
    review = _program()
    cycle = '"$CYCLE"'
    head = run.heads[min(run.heads)]
    host = min(run.heads)
    return [
        f"{review} cycle status {cycle}",
        f"{review} history {cycle} --school {host}",
        f"{review} triads show {cycle}",
        f"{review} actions list {cycle}",
        f"{review} practice list",
        f"{review} --as {head} writeup show {cycle} --school {host}",
    ]


def _look_around(run: demo_run.DemoRun) -> None:
    url = f"sqlite:///{run.database.resolve()}"
    say("\nLook around the year at the terminal:")
    say(escape(f"  export REVIEW_DATABASE_URL={shlex.quote(url)}"))
    say(escape(f"  CYCLE={shlex.quote(run.cycle)}"))
    for line in look_around_commands(run):
        say(escape(f"  {line}"))


def _how_to_open(run: demo_run.DemoRun) -> None:
    """The command that opens the demo year in the browser, and sign-in links for a head and
    the facilitator (made on the real clock: each works once, within 15 minutes)."""
    from review_engine.config import Settings
    from review_engine.runtime import OPERATOR
    from review_engine.services import signin

    base = "http://127.0.0.1:8000"
    url = f"sqlite:///{run.database.resolve()}"
    review = _program()
    database = shlex.quote(os.path.relpath(run.database))
    # The real clock, whatever --now says: a link must work when it is opened.
    rt = Runtime.open(Settings(database_url=url, now=None), actor=OPERATOR)
    try:
        head = run.heads[min(run.heads)]
        links = [
            (f"a head teacher ({head})", signin.issue_link(rt, email=head, base_url=base)),
            (
                f"the facilitator ({demo_run.FACILITATOR})",
                signin.issue_link(rt, email=demo_run.FACILITATOR, base_url=base),
            ),
            (
                f"the programme admin, for Inside Knowledge ({demo_run.ADMIN})",
                signin.issue_link(rt, email=demo_run.ADMIN, base_url=base),
            ),
        ]
    finally:
        rt.db.engine.dispose()
    say("\nOpen the demo year in the browser:")
    say(escape(f"  {review} serve --database {database}"))
    say(f"then sign in at {base} with a link below (one use, 15 minutes):")
    for who, link in links:
        say(f"  {who}:\n    {link}")
    say(f"Inside Knowledge's prospectus needs no sign-in: {base}/prospectus")
    say(escape(f"A fresh link: {review} people sign-in-link EMAIL (REVIEW_DATABASE_URL as above)"))
