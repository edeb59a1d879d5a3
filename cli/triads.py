"""`review triads`, `review conflicts`, `review availability`: forming the visiting triads."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.services import triads

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Triads: who visits whom.")
conflicts_app = typer.Typer(no_args_is_help=True, help="Pairs of schools never paired.")
availability_app = typer.Typer(no_args_is_help=True, help="Who can visit or host this cycle.")
Cycle = Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print(rows: list[triads.TriadRow], *, wide: bool = False) -> None:
    """One line per visitor, so each distance sits beside its own school; the host's name
    and the reasons on its first line."""
    lines: list[tuple[str, str, str, str]] = []
    for r in rows:
        pairs: list[tuple[str, int | None, float | None]] = list(
            zip(r.visitor_names, r.visitors, r.distances_km, strict=True)
        ) or [("", None, None)]
        for n, (name, urn, km) in enumerate(pairs):
            lead = " - lead" if urn is not None and urn == r.lead else ""
            lines.append(
                (
                    f"{r.host_name} ({r.host})" if n == 0 else "",
                    f"{name} ({urn}){lead}" if name else "",
                    "" if km is None else f"{km:.1f}",
                    "; ".join(r.why) if n == 0 else "",
                )
            )
    table(None, ["host", "visitor", "km", "why"], lines, optional=("why",), wide=wide)


@app.command("propose")
def propose(
    ctx: typer.Context,
    cycle: Cycle,
    visitors: Annotated[
        int | None,
        typer.Option(
            help="Visitors per host; default the cluster's setting (3 unless changed).", min=1
        ),
    ] = None,
    min_: Annotated[int | None, typer.Option("--min", help="Fewest visits per school.")] = None,
    max_: Annotated[int | None, typer.Option("--max", help="Most visits per school.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Show, do not store.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Form every triad optimally (travel, rotation, reciprocity, strengths)."""
    p = triads.propose(
        runtime(ctx),
        cycle=cycle,
        visitors=visitors,
        min_visits=min_,
        max_visits=max_,
        dry_run=dry_run,
    )
    if json_:
        print_json(p)
        return
    _print(p.triads)
    terms = ", ".join(f"{k} {v:.1f}" for k, v in p.breakdown.items())
    say(
        f"objective {p.objective:.1f} ({terms}); lower bound {p.lower_bound:.1f}, "
        f"gap {p.gap:.2%}{' (optimal)' if p.optimal else ''}; {p.method}, {p.wall_seconds:.2f}s"
    )
    say("stored; peer visits moved to triad_assigned" if p.stored else "dry run: nothing stored")


@app.command("show")
def show(
    ctx: typer.Context,
    cycle: Cycle,
    wide: Annotated[bool, typer.Option("--wide", help="Also why each triad was formed.")] = False,
    json_: JsonOpt = False,
) -> None:
    """The triads you may see: host, visitors (the lead marked), distance; why with --wide."""
    rows = triads.show(runtime(ctx), cycle=cycle)
    if json_:
        print_json(rows)
        return
    _print(rows, wide=wide)


@app.command("set")
def set_(
    ctx: typer.Context,
    cycle: Cycle,
    host: int,
    visitors: list[int],
    lead: Annotated[int | None, typer.Option(help="Lead reviewer URN.")] = None,
) -> None:
    """Set one host's visitors by hand (checked against every hard constraint)."""
    row = triads.set_triad(runtime(ctx), cycle=cycle, host=host, visitors=visitors, lead=lead)
    say(f"{row.host_name}: visited by {', '.join(row.visitor_names)}; lead {row.lead}")


@app.command("explain")
def explain(ctx: typer.Context, cycle: Cycle, host: int) -> None:
    """Why a host has these visitors and this lead."""
    for line in triads.explain(runtime(ctx), cycle=cycle, host=host):
        say(line)


@app.command("pin")
def pin(
    ctx: typer.Context,
    cycle: Cycle,
    host: int,
    visitor: int,
    never: Annotated[bool, typer.Option(help="Must NOT visit (default: must visit).")] = False,
) -> None:
    """Pin a pairing for the solver."""
    triads.pin(runtime(ctx), cycle=cycle, host=host, visitor=visitor, must=not never)
    say(f"{visitor} {'must not' if never else 'must'} visit {host}")


@conflicts_app.command("add")
def conflict_add(
    ctx: typer.Context,
    cluster: str,
    school_a: int,
    school_b: int,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Declare two schools that must never review each other."""
    triads.add_conflict(runtime(ctx), cluster=cluster, a=school_a, b=school_b, reason=reason)
    say(f"conflict recorded: {school_a} and {school_b} will never be paired")


@conflicts_app.command("list")
def conflict_list(ctx: typer.Context, cluster: str, json_: JsonOpt = False) -> None:
    """Declared conflicts of a cluster."""
    found = triads.list_conflicts(runtime(ctx), cluster=cluster)
    if json_:
        print_json(found)
        return
    table(
        "Conflicts",
        ["school", "school", "reason"],
        [(c.school_a, c.school_b, c.reason) for c in found],
    )


@conflicts_app.command("remove")
def conflict_remove(ctx: typer.Context, cluster: str, school_a: int, school_b: int) -> None:
    """Remove a declared conflict."""
    triads.remove_conflict(runtime(ctx), cluster=cluster, a=school_a, b=school_b)
    say(f"conflict between {school_a} and {school_b} removed")


@availability_app.command("set")
def availability_set(
    ctx: typer.Context,
    cycle: Cycle,
    school: Annotated[int, typer.Option(help="URN.")],
    visit: Annotated[bool, typer.Option("--visit/--no-visit", help="Can send visitors.")] = True,
    host: Annotated[bool, typer.Option("--host/--no-host", help="Can host a visit.")] = True,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Declare a school's availability this cycle."""
    triads.set_availability(
        runtime(ctx), cycle=cycle, urn=school, can_visit=visit, can_host=host, reason=reason
    )
    say(
        f"school {school}: {'can' if visit else 'cannot'} visit, "
        f"{'can' if host else 'cannot'} host this cycle"
    )
