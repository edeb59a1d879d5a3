"""`review cycle`: start a cycle for a cluster's year and see where every school is."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.core.phases import any_state_words, as_words, cycle_words
from review_engine.runtime import Runtime
from review_engine.services import cycles

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Review cycles (one per cluster per year).")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("start")
def start(
    ctx: typer.Context,
    cluster: Annotated[str, typer.Option(help="Cluster name.")],
    year: Annotated[str, typer.Option(help="Academic year, e.g. 2026-27.")],
    workflow: Annotated[str | None, typer.Option(help="Workflow name.")] = None,
    from_current_phase: Annotated[
        bool,
        typer.Option(
            "--from-current-phase",
            help="Starting mid-year: open the phase the calendar says it is now, and move "
            "deadlines already passed to 15 school days from today (recorded in history).",
        ),
    ] = False,
) -> None:
    """Start a cycle for the cluster's current member schools (refused for a year with no
    term calendar; warns about schools that follow none, and about phases already past)."""
    rt = runtime(ctx)
    preview = cycles.preview_start(rt, cluster=cluster, year=year, workflow=workflow)
    for line in start_warnings(preview, from_current_phase=from_current_phase):
        say(f"warning: {line}")
    c = cycles.start_cycle(
        rt,
        cluster=cluster,
        year=year,
        workflow=workflow,
        from_current_phase=from_current_phase,
    )
    say(f"started cycle {c.cycle} ({c.workflow}, {c.schools} schools), state {c.state}")
    if from_current_phase and preview.mid_year:
        for m in preview.moved:
            say(f"moved the {m.what} deadline from {m.was:%a %d %b %Y} to {m.now:%a %d %b %Y}")


def start_warnings(preview: cycles.StartPreview, *, from_current_phase: bool) -> list[str]:
    """What a facilitator should know before the cycle starts, one line each."""
    lines = []
    if preview.without_calendar:
        lines.append(
            f"{len(preview.without_calendar)} member school(s) follow no imported term "
            f"calendar for {preview.year}: {', '.join(preview.without_calendar)}; the cycle "
            f"runs on the {preview.calendar} calendar (assign theirs with "
            "`review calendar assign NAME --school URN`)"
        )
    if preview.mid_year and not from_current_phase:
        opened = ", ".join(
            f"{b.to_state.replace('_', ' ')} ({b.due_on:%d %b %Y})" for b in preview.passed
        )
        late = "; ".join(f"{m.what} was due {m.was:%d %b %Y}" for m in preview.moved)
        lines.append(
            f"the plan's dates have already passed for: {opened}. The next tick opens them all "
            "at once"
            + (f" and marks that work of every school overdue ({late})" if late else "")
            + ". Starting from the beginning of the plan as asked; `--from-current-phase` "
            "starts at the current phase ("
            + preview.current_phase.replace("_", " ")
            + ") instead, with passed deadlines moved to 15 school days from today"
        )
    return lines


@app.command("status")
def status(
    ctx: typer.Context,
    cycle: Annotated[str | None, typer.Argument(help="CLUSTER/YEAR or cycle number.")] = None,
    cluster: Annotated[str | None, typer.Option(help="The cluster's latest cycle.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Every school's state in every phase of a cycle."""
    rt = runtime(ctx)
    if cycle is None:
        if cluster is None:
            raise typer.BadParameter("give a CYCLE or --cluster NAME")
        cycle = cycles.latest_cycle(rt, cluster=cluster)
    if json_:
        print_json(cycles.cycle_status(rt, cycle=cycle))
        return
    print_status(rt, cycle)


def print_status(rt: Runtime, cycle: str) -> None:
    """The status table: one row per school, one column per phase machine."""
    st = cycles.cycle_status(rt, cycle=cycle)
    say(
        f"[bold]{st.cycle}[/bold]  phase: [bold]{cycle_words(st.state)}[/bold]  "
        f"workflow: {st.workflow} v{st.workflow_version}"
    )
    headers = ["URN", "school", *(as_words(m) for m in st.machines)]
    table(
        None,
        headers,
        [
            (s.urn, s.name, *(any_state_words(s.states.get(m, "")) for m in st.machines))
            for s in st.schools
        ],
    )
    if st.overdue:
        say("[bold]overdue[/bold]")
        for line in st.overdue:
            say(f"  {line}")
    if st.missing_feedback:
        say("[bold]feedback missing[/bold]")
        for line in st.missing_feedback:
            say(f"  {line}")


@app.command("list")
def list_(
    ctx: typer.Context,
    cluster: Annotated[str | None, typer.Option(help="Only this cluster.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List cycles."""
    found = cycles.list_cycles(runtime(ctx), cluster=cluster)
    if json_:
        print_json(found)
        return
    table(
        "Cycles",
        ["#", "cycle", "phase", "workflow", "schools"],
        [(c.number, c.cycle, c.state, c.workflow, c.schools) for c in found],
    )
