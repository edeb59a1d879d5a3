"""`review schools`: import the GIAS extract and look schools up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn

from review_engine.core.domain import NoticeKind
from review_engine.core.notice_choices import parse_roles, roles_words
from review_engine.errors import InvalidInput
from review_engine.services import notice_choices, schools

from .context import runtime
from .output import console, print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Schools, from Get Information about Schools.")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="GIAS establishment CSV extract.")],
    la: Annotated[list[str] | None, typer.Option(help="Only this LA code (repeatable).")] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Import good rows, skip bad.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Show what would change; write nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Add or update schools from a GIAS CSV (a bad row rejects the file unless skipped)."""
    rt = runtime(ctx)
    with Progress(
        TextColumn("reading {task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        console=console,
        transient=True,
        disable=json_ or not console.is_terminal,
    ) as bar:
        task = bar.add_task(file.name, total=None)
        report = schools.import_gias(
            rt,
            path=file,
            la_codes=la,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            progress=lambda n: bar.update(task, completed=n),
        )
    if json_:
        print_json(report)
        return
    for line in report.errors:
        typer.echo(f"skipped: {line}", err=True)
    verb = "would import" if report.dry_run else "imported"
    other = f", {report.skipped_other_la} in other LAs" if report.skipped_other_la else ""
    say(
        f"{verb} {report.source}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected} rejected{other}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    la: Annotated[str | None, typer.Option(help="LA code or name.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 200,
    json_: JsonOpt = False,
) -> None:
    """List schools."""
    found = schools.list_schools(runtime(ctx), la=la, search=search, limit=limit)
    if json_:
        print_json(found)
        return
    table(
        "Schools",
        ["URN", "school", "phase", "LA", "town", "status", "Ofsted"],
        [(s.urn, s.name, s.phase, s.la_name, s.town, s.status, s.ofsted_rating) for s in found],
    )


@app.command("show")
def show(ctx: typer.Context, urn: int, json_: JsonOpt = False) -> None:
    """Show one school."""
    s = schools.show_school(runtime(ctx), urn=urn)
    if json_:
        print_json(s)
        return
    for key, value in vars(s).items():
        say(f"{key.replace('_', ' '):>20}: {'' if value is None else value}")


@app.command("notices")
def notices(
    ctx: typer.Context,
    urn: int,
    kind: Annotated[
        NoticeKind | None, typer.Option("--kind", help="The kind of notice to route.")
    ] = None,
    roles: Annotated[
        str | None,
        typer.Option("--roles", help='Roles that take it, e.g. "head,deputy"; "none" for nobody.'),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Back to the programme's default for --kind.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Show which roles at a school take each kind of notice until a person chooses, or set
    one kind (--kind K --roles head,deputy). By the head, the facilitator or an admin."""
    rt = runtime(ctx)
    if (roles is not None or default) and kind is None:
        raise InvalidInput("say which kind of notice to route (--kind)")
    if roles is not None and default:
        raise InvalidInput("give --roles or --default, not both")
    if kind is not None and roles is None and not default:
        raise InvalidInput("give the roles that take it (--roles head,deputy) or --default")
    if kind is not None:
        wanted = None if default else parse_roles(roles or "")
        shown = notice_choices.set_school_routing(rt, urn=urn, kind=kind, roles=wanted)
    else:
        shown = notice_choices.school_routing(rt, urn=urn)
    if json_:
        print_json(shown)
        return
    say(f"{shown.school} ({shown.urn}): who takes each notice until they choose")
    table(
        "Notice routing",
        ["kind", "taken by", "set"],
        [
            (r.kind.value, roles_words(r.roles), "by the school" if r.own else "programme default")
            for r in shown.routes
        ],
    )
