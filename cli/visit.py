"""`review visit`: the host's focus and enquiry question, date and slot, agenda, completion."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from review_engine.core.domain import Slot, VisitFocus
from review_engine.errors import InvalidInput
from review_engine.services import visits

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Peer visits: focus, date, agenda.")
Cycle = Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")]
Host = Annotated[int, typer.Option("--school", help="URN of the host school.")]


def _day(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"date {text!r} should look like 2026-11-12") from None


def _print(v: visits.VisitView) -> None:
    say(f"[bold]{v.host_name}[/bold] ({v.host}) visit: {v.state}")
    say(f"focus: {v.focus or '-'}{f' ({v.focus_area})' if v.focus_area else ''}")
    say(f"enquiry question: {v.enquiry_question or '-'}")
    when = f"{v.visit_date:%a %d %b %Y} {v.slot}" if v.visit_date else "not dated"
    say(f"date: {when}; visitors: {', '.join(v.visitors) or '-'}; lead: {v.lead or '-'}")
    if v.agenda:
        table(
            "Agenda", ["time", "activity", "who"], [(a.time, a.activity, a.who) for a in v.agenda]
        )
    if v.host_staff:
        say("host staff: " + ", ".join(v.host_staff))
    for w in v.warnings:
        typer.echo(f"warning: {w}", err=True)


@app.command("focus")
def focus(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    kind: Annotated[VisitFocus, typer.Option("--focus", help="What the visit looks at.")],
    question: Annotated[str, typer.Option(help="The enquiry question, 'To what extent ...?'")],
    area: Annotated[str | None, typer.Option(help="Framework area it concerns.")] = None,
) -> None:
    """Set the focus and enquiry question of the visit your school hosts."""
    _print(
        visits.set_focus(
            runtime(ctx), cycle=cycle, host=school, focus=kind, question=question, area=area
        )
    )


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
    slot: Annotated[Slot, typer.Option(help="Half-day slot.")] = Slot.MORNING,
) -> None:
    """Date the visit (refused on a day the host or a visitor is closed)."""
    _print(visits.schedule(runtime(ctx), cycle=cycle, host=school, on=_day(on), slot=slot))


@app.command("agenda")
def agenda(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    item: Annotated[list[str], typer.Option(help="'TIME|ACTIVITY|WHO' (repeat).")],
    staff: Annotated[list[str] | None, typer.Option(help="Host staff taking part.")] = None,
) -> None:
    """Set the outline agenda agreed in advance."""
    items = []
    for raw in item:
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) != 3 or not all(parts):
            raise InvalidInput(f"agenda item {raw!r} should be 'TIME|ACTIVITY|WHO'")
        items.append(visits.AgendaItem(*parts))
    _print(
        visits.set_agenda(
            runtime(ctx), cycle=cycle, host=school, items=items, host_staff=staff or []
        )
    )


@app.command("complete")
def complete(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    on: Annotated[str | None, typer.Option("--date", help="When it happened.")] = None,
) -> None:
    """Record that the visit happened."""
    _print(visits.complete(runtime(ctx), cycle=cycle, host=school, on=_day(on) if on else None))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Cancel the visit."""
    _print(visits.cancel(runtime(ctx), cycle=cycle, host=school, reason=reason))


@app.command("show")
def show(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a visit plan (host, its reviewers and the facilitator)."""
    view = visits.show(runtime(ctx), cycle=cycle, host=school)
    if json_:
        print_json(view)
        return
    _print(view)
