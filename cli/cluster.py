"""`review cluster`: create clusters and manage their member schools."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.core.frameworks import DEFAULT_FRAMEWORK
from review_engine.services import clusters

from .context import runtime
from .output import print_json, say, table, when

app = typer.Typer(no_args_is_help=True, help="Clusters of schools that review each other.")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: str,
    facilitator: Annotated[str | None, typer.Option(help="Facilitator's email.")] = None,
    framework: Annotated[
        str, typer.Option(help="Self-evaluation framework: renewed2025 or eif2019.")
    ] = DEFAULT_FRAMEWORK,
    trust_conflicts: Annotated[
        bool, typer.Option(help="Schools of one trust or federation never review each other.")
    ] = False,
    visitors_per_host: Annotated[
        int, typer.Option(help="Visiting schools per host when triads are proposed.")
    ] = clusters.DEFAULT_VISITORS,
) -> None:
    """Create a cluster."""
    c = clusters.create_cluster(
        runtime(ctx),
        name=name,
        facilitator_email=facilitator,
        framework=framework,
        trust_conflicts=trust_conflicts,
        visitors_per_host=visitors_per_host,
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
    archived = "  (archived)" if c.archived else ""
    say(
        f"[bold]{c.name}[/bold]{archived}  facilitator: {c.facilitator or '-'}  "
        f"framework: {c.framework}  visitors per host: {c.visitors_per_host}"
    )
    table(
        f"{len(c.members)} member schools",
        ["URN", "school", "phase", "local authority", "joined"],
        [(m.urn, m.name, m.phase, m.la_name, m.joined) for m in c.members],
    )
    say("cycles: " + (", ".join(c.cycles) if c.cycles else "none"))


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Archived clusters too.")] = False,
    json_: JsonOpt = False,
) -> None:
    """List clusters (archived ones with --all)."""
    found = clusters.list_clusters(runtime(ctx), include_archived=all_)
    if json_:
        print_json(found)
        return
    table(
        "Clusters",
        ["cluster", "facilitator", "schools", "cycles"] + (["archived"] if all_ else []),
        [
            (c.name, c.facilitator, c.members, c.cycles)
            + (("yes" if c.archived else "no",) if all_ else ())
            for c in found
        ],
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    new_name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    framework: Annotated[str | None, typer.Option(help="renewed2025 or eif2019.")] = None,
    visitors_per_host: Annotated[
        int | None, typer.Option(help="Visiting schools per host when triads are proposed.")
    ] = None,
    facilitator: Annotated[
        str | None, typer.Option(help="New facilitator's email (a programme admin).")
    ] = None,
    trust_conflicts: Annotated[
        bool | None,
        typer.Option(
            "--trust-conflicts/--no-trust-conflicts",
            help="Schools of one trust or federation never review each other.",
        ),
    ] = None,
) -> None:
    """Change a cluster's settings; each change is recorded. The framework and visitors per
    host are refused while a cycle is running."""
    c = clusters.update_cluster(
        runtime(ctx),
        name=name,
        new_name=new_name,
        framework=framework,
        visitors_per_host=visitors_per_host,
        facilitator_email=facilitator,
        trust_conflicts=trust_conflicts,
    )
    say(
        f"cluster {c.name}: framework {c.framework}, {c.visitors_per_host} visitors per host, "
        f"facilitator {c.facilitator or '-'}"
    )


@app.command("changes")
def changes(ctx: typer.Context, name: str, json_: JsonOpt = False) -> None:
    """Every change made to a cluster's settings: who, when, from and to."""
    c = clusters.cluster_settings(runtime(ctx), name=name)
    if json_:
        print_json(c.changes)
        return
    table(
        f"Changes to {c.name}",
        ["when", "who", "setting", "from", "to"],
        [(when(x.at), x.actor, x.setting, x.old, x.new) for x in c.changes],
    )


@app.command("archive")
def archive(ctx: typer.Context, name: str) -> None:
    """Archive a cluster: no new cycles, hidden from lists; its history is kept."""
    clusters.archive_cluster(runtime(ctx), name=name)
    say(f"archived {name}: it starts no new cycle; `review cluster list --all` shows it")


@app.command("restore")
def restore(ctx: typer.Context, name: str) -> None:
    """Bring an archived cluster back."""
    clusters.archive_cluster(runtime(ctx), name=name, archived=False)
    say(f"restored {name}")
