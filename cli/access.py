"""`review access log`: who viewed or downloaded a cycle's records (the access log), or an
Inside Knowledge programme's visit packs (`--programme`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from review_engine.errors import InvalidInput
from review_engine.services import access_log

from .context import runtime
from .output import command, print_json, say, table, when

app = typer.Typer(no_args_is_help=True, help="Who viewed or downloaded a cycle's records.")


@app.command("log")
def log(
    ctx: typer.Context,
    cycle: Annotated[str | None, typer.Argument(help="CLUSTER/YEAR or cycle number.")] = None,
    programme: Annotated[
        str | None,
        typer.Option(help="An Inside Knowledge programme (NAME/YEAR): who read its visit packs."),
    ] = None,
    school: Annotated[int | None, typer.Option(help="Only this school's records (URN).")] = None,
    person: Annotated[str | None, typer.Option(help="Only what this person (e-mail) read.")] = None,
    before: Annotated[
        int | None, typer.Option(help="Entries older than this one (its number), to page on.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many entries at most.", min=1, max=1000)] = (
        access_log.PAGE
    ),
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who viewed or downloaded a SEF, write-up, visit pack, report or support plan, newest
    first: the whole cycle for its facilitator (and programme admins), a school's own records
    for its staff. With --programme instead of a cycle: who read the Inside Knowledge visit
    packs of its offers (every host for its admins, their own school's for a host's staff)."""
    if (cycle is None) == (programme is None):
        raise InvalidInput(
            "name a cycle (CLUSTER/YEAR) or a programme (--programme NAME/YEAR), one of the two"
        )
    if programme is not None:
        page = access_log.programme_entries(
            runtime(ctx), programme=programme, school=school, person=person, before=before,
            limit=limit,
        )  # fmt: skip
    else:
        assert cycle is not None
        page = access_log.entries(
            runtime(ctx), cycle=cycle, school=school, person=person, before=before, limit=limit
        )
    if json_:
        print_json(page)
        return
    whose = page.school or "every school"
    if not page.entries:
        say(escape(f"{page.cycle}: nobody has viewed or downloaded records of {whose} yet"))
        return
    one_school = page.school_urn is not None  # its name is in the title
    headers = ["no.", "when", "who", "e-mail", "what", "school", "how", "detail"]
    rows: list[tuple[object, ...]] = [
        (
            e.id,
            when(e.at),
            e.actor_name,
            e.actor,
            f"{e.action} the {e.record_words}",
            e.school or ("the whole cycle" if programme is None else ""),
            e.via_words,
            e.detail,
        )
        for e in page.entries
    ]
    if one_school:
        headers.remove("school")
        rows = [(*r[:5], *r[6:]) for r in rows]
    table(
        f"Who read the records of {whose}, {page.cycle} (newest first)",
        headers,
        rows,
        optional=("no.", "e-mail", "detail"),
    )
    if page.older is not None:
        more = ["review", "access", "log"]
        more += [page.cycle] if programme is None else ["--programme", programme]
        if school is not None:
            more += ["--school", str(school)]
        if person:
            more += ["--person", person]
        more += ["--before", str(page.older)]
        say(escape(f"older entries: {command(*more)}"))
