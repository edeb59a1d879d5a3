"""`review cluster`: create clusters and manage their member schools."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.services import clusters

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Clusters of schools that review each other.")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: str,
    facilitator: Annotated[str | None, typer.Option(help="Facilitator's email.")] = None,
    framework: Annotated[str, typer.Option(help="Self-evaluation framework.")] = "eif2019",
    trust_conflicts: Annotated[
        bool, typer.Option(help="Schools of one trust or federation never review each other.")
    ] = False,
) -> None:
    """Create a cluster."""
    c = clusters.create_cluster(
        runtime(ctx),
        name=name,
        facilitator_email=facilitator,
        framework=framework,
        trust_conflicts=trust_conflicts,
    )
    say(f"created cluster {c.name}" + (f" (facilitator {c.facilitator})" if c.facilitator else ""))


@app.command("add")
def add(ctx: typer.Context, name: str, urns: list[int]) -> None:
    """Add schools (by URN) to a cluster."""
    added = clusters.add_schools(runtime(ctx), cluster=name, urns=urns)
    already = len(set(urns)) - len(added)
    note = f" ({already} already members)" if already else ""
    say(f"added {len(added)} schools to {name}{note}")


@app.command("remove")
def remove(ctx: typer.Context, name: str, urn: int) -> None:
    """Remove a school from a cluster (its membership history is kept)."""
    clusters.remove_school(runtime(ctx), cluster=name, urn=urn)
    say(f"school {urn} left {name}")


@app.command("show")
def show(ctx: typer.Context, name: str, json_: JsonOpt = False) -> None:
    """Show a cluster's members and cycles."""
    c = clusters.show_cluster(runtime(ctx), name=name)
    if json_:
        print_json(c)
        return
    say(f"[bold]{c.name}[/bold]  facilitator: {c.facilitator or '-'}  framework: {c.framework}")
    table(
        f"{len(c.members)} member schools",
        ["URN", "school", "phase", "local authority", "joined"],
        [(m.urn, m.name, m.phase, m.la_name, m.joined) for m in c.members],
    )
    say("cycles: " + (", ".join(c.cycles) if c.cycles else "none"))


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List clusters."""
    found = clusters.list_clusters(runtime(ctx))
    if json_:
        print_json(found)
        return
    table(
        "Clusters",
        ["cluster", "facilitator", "schools", "cycles"],
        [(c.name, c.facilitator, c.members, c.cycles) for c in found],
    )
