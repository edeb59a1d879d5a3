"""`review calendar`: term dates (import, show) and who follows which calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.services import calendars

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Term calendars.")


@app.command("import")
def import_(ctx: typer.Context, name: str, file: Path) -> None:
    """Import a calendar's years from CSV (academic_year,kind,label,first_day,last_day) or ICS."""
    r = calendars.import_calendar(runtime(ctx), name=name, path=file)
    say(
        f"calendar {r.calendar}: {', '.join(r.years)} imported "
        f"({r.half_terms} half-terms, {r.closures} closures)"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str,
    year: Annotated[str, typer.Option(help="Academic year, e.g. 2026-27.")],
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Half-terms and closures of a calendar's year."""
    rows = calendars.show_calendar(runtime(ctx), name=name, year=year)
    if json_:
        print_json(rows)
        return
    table(
        f"{name} {year}",
        ["kind", "label", "first day", "last day"],
        [(p.kind, p.label, p.first_day, p.last_day) for p in rows],
    )


@app.command("assign")
def assign(
    ctx: typer.Context,
    name: str,
    la: Annotated[str | None, typer.Option(help="Local authority code: its default.")] = None,
    school: Annotated[int | None, typer.Option(help="A school that follows it.")] = None,
) -> None:
    """Make a calendar an LA's default, or the one a school follows."""
    calendars.assign_calendar(runtime(ctx), name=name, la_code=la, school_urn=school)
    say(f"calendar {name} assigned to " + (f"LA {la}" if la else f"school {school}"))
