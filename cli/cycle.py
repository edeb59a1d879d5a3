"""`review cycle`: start a cycle for a cluster's year and see where every school is."""

from __future__ import annotations

from typing import Annotated

import typer

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
) -> None:
    """Start a cycle for the cluster's current member schools."""
    c = cycles.start_cycle(runtime(ctx), cluster=cluster, year=year, workflow=workflow)
    say(f"started cycle {c.cycle} ({c.workflow}, {c.schools} schools), state {c.state}")


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
        f"[bold]{st.cycle}[/bold]  phase: [bold]{st.state}[/bold]  "
        f"workflow: {st.workflow} v{st.workflow_version}"
    )
    headers = ["URN", "school", *(m.replace("_", " ") for m in st.machines)]
    table(
        None,
        headers,
        [(s.urn, s.name, *(s.states.get(m, "") for m in st.machines)) for s in st.schools],
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
        ["cycle", "phase", "workflow", "schools"],
        [(c.cycle, c.state, c.workflow, c.schools) for c in found],
    )
