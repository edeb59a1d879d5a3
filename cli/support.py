"""`review actions`, `review practice`, `review feedback`: support follow-up and impact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from review_engine.core.domain import HalfTerm, Rag
from review_engine.errors import InvalidInput
from review_engine.services import actions, feedback, plans, practice

from .context import runtime
from .output import print_json, say, table

actions_app = typer.Typer(no_args_is_help=True, help="Support actions from the EBIs.")
practice_app = typer.Typer(no_args_is_help=True, help="The good-practice directory.")
feedback_app = typer.Typer(no_args_is_help=True, help="Feedback on visits.")
support_app = typer.Typer(
    no_args_is_help=True,
    help="A school's support plan: agree it, start it, review its impact, close it.",
)
Cycle = Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


WideOpt = Annotated[bool, typer.Option("--wide", help="Every column, however wide.")]


def _print_actions(rows: list[actions.ActionView], *, wide: bool = False) -> None:
    table(
        "Support actions",
        ["school", "#", "action", "owner", "supporting", "criteria", "due", "RAG", "latest update"],
        [
            (
                a.school,
                a.number,
                a.title,
                a.owner,
                a.supporting_school or "",
                a.success_criteria,
                a.due_label + (" (overdue)" if a.overdue else ""),
                a.rag.upper(),
                a.latest_update,
            )
            for a in rows
        ],
        optional=("owner", "supporting", "criteria", "latest update"),
        wide=wide,
    )


@actions_app.command("add")
def add(
    ctx: typer.Context,
    cycle: Cycle,
    school: Annotated[int, typer.Option(help="URN of the school the action is for.")],
    ebi: Annotated[int, typer.Option(help="Number of the EBI in its write-up (1, 2, ...).")],
    title: Annotated[str, typer.Option(help="The action.")],
    owner: Annotated[str, typer.Option(help="Who owns it.")],
    criteria: Annotated[str, typer.Option(help="Success criteria.")],
    due: Annotated[str | None, typer.Option(help="Due date YYYY-MM-DD.")] = None,
    by: Annotated[str | None, typer.Option(help="Due by the end of a half-term.")] = None,
    supporting: Annotated[int | None, typer.Option(help="Supporting school URN.")] = None,
    rag: Annotated[Rag, typer.Option(help="Starting RAG.")] = Rag.AMBER,
) -> None:
    """Turn an EBI into an action."""
    due_day = None
    if due:
        try:
            due_day = datetime.strptime(due, "%Y-%m-%d").date()
        except ValueError:
            raise InvalidInput(f"due date {due!r} should look like 2027-03-25") from None
    half = None
    if by:
        try:
            half = HalfTerm(by.title())
        except ValueError:
            raise InvalidInput(f"half-term {by!r}: one of {', '.join(HalfTerm)}") from None
    row = actions.add_action(
        runtime(ctx),
        cycle=cycle,
        urn=school,
        ebi=ebi,
        title=title,
        owner=owner,
        success_criteria=criteria,
        due=due_day,
        due_half_term=half,
        supporting_urn=supporting,
        rag=rag,
    )
    say(f"action #{row.number} for {row.school}: {row.title} ({row.rag})")
    if supporting is None:
        area_hint = practice.list_practice(runtime(ctx))
        if area_hint:
            say(
                "schools with good practice to draw on: "
                + "; ".join(sorted({f"{p.school} ({p.area})" for p in area_hint}))
            )


@actions_app.command("update")
def update(
    ctx: typer.Context,
    cycle: Cycle,
    number: int,
    school: Annotated[int, typer.Option(help="URN.")],
    rag: Annotated[Rag, typer.Option(help="New status.")],
    note: Annotated[str, typer.Option(help="What changed.")],
) -> None:
    """A dated RAG update on an action."""
    row = actions.update_action(
        runtime(ctx), cycle=cycle, urn=school, number=number, rag=rag, note=note
    )
    say(f"action #{row.number} for {row.school} is now {row.rag.upper()}")


@actions_app.command("list")
def list_(
    ctx: typer.Context,
    cycle: Cycle,
    school: Annotated[int | None, typer.Option(help="Only this school.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only overdue actions.")] = False,
    wide: WideOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Actions you may see (owner, supporting school, criteria and update with --wide)."""
    rows = actions.list_actions(runtime(ctx), cycle=cycle, urn=school, overdue=overdue)
    if json_:
        print_json(rows)
        return
    _print_actions(rows, wide=wide)


@actions_app.command("impact")
def impact(
    ctx: typer.Context,
    cycle: Cycle,
    school: Annotated[int, typer.Option(help="URN.")],
    override: Annotated[bool, typer.Option(help="Close with actions still open.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (needed to override).")] = None,
) -> None:
    """Review the impact and close the school's support plan."""
    state = actions.impact_review(
        runtime(ctx), cycle=cycle, urn=school, override=override, reason=reason
    )
    say(f"support plan of {school}: {state}")


@practice_app.command("list")
def practice_list(
    ctx: typer.Context,
    cluster: Annotated[str | None, typer.Option(help="Only this cluster.")] = None,
    area: Annotated[str | None, typer.Option(help="Only this area.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Who to visit for what: good practice shared with you."""
    rows = practice.list_practice(runtime(ctx), cluster=cluster, area=area)
    if json_:
        print_json(rows)
        return
    table(
        "Good practice",
        ["area", "school", "practice", "contact", "year"],
        [
            (p.area, f"{p.school} ({p.urn})", p.description, p.contact, p.academic_year)
            for p in rows
        ],
    )


@feedback_app.command("give")
def give(
    ctx: typer.Context,
    cycle: Cycle,
    host: Annotated[int, typer.Option("--school", help="URN of the host school visited.")],
    kind: Annotated[str, typer.Option(help="immediate or reflection.")] = "immediate",
    usefulness: Annotated[int | None, typer.Option(help="1 (not useful) to 5.")] = None,
    comment: Annotated[str, typer.Option(help="Comment.")] = "",
    changed: Annotated[str | None, typer.Option(help="What your school changed.")] = None,
) -> None:
    """Give your school's feedback on a visit."""
    row = feedback.give(
        runtime(ctx),
        cycle=cycle,
        host=host,
        kind=kind,
        usefulness=usefulness,
        comment=comment,
        changed_practice=changed,
    )
    say(f"{row.kind} feedback from {row.from_name} on the visit to {row.host_name} recorded")


@feedback_app.command("list")
def feedback_list(ctx: typer.Context, cycle: Cycle, json_: JsonOpt = False) -> None:
    """Feedback you may see."""
    rows = feedback.list_feedback(runtime(ctx), cycle=cycle)
    if json_:
        print_json(rows)
        return
    table(
        "Feedback",
        ["visit to", "from", "kind", "usefulness", "comment", "changed"],
        [
            (
                f.host_name,
                f.from_name,
                f.kind,
                f.usefulness or "",
                f.comment,
                f.changed_practice or "",
            )
            for f in rows
        ],
    )


SchoolOpt = Annotated[int, typer.Option("--school", help="URN of the school whose plan it is.")]


def _move(ctx: typer.Context, cycle: str, school: int, step: str, changed: str | None) -> None:
    state = plans.move_support_plan(
        runtime(ctx), cycle=cycle, urn=school, step=step, what_changed=changed
    )
    say(f"the support plan of school {school} is now {state.replace('_', ' ')}")


@support_app.command("agree")
def support_agree(ctx: typer.Context, cycle: Cycle, school: SchoolOpt) -> None:
    """Agree the school's support plan (its actions from the EBIs)."""
    _move(ctx, cycle, school, "agree_plan", None)


@support_app.command("start")
def support_start(ctx: typer.Context, cycle: Cycle, school: SchoolOpt) -> None:
    """Start the agreed support plan."""
    _move(ctx, cycle, school, "start", None)


@support_app.command("review")
def support_review(
    ctx: typer.Context,
    cycle: Cycle,
    school: SchoolOpt,
    changed: Annotated[
        str, typer.Option(help="What changed for pupils and staff as a result of the support.")
    ],
) -> None:
    """Review the impact of the support, saying what changed."""
    _move(ctx, cycle, school, "review_impact", changed)


@support_app.command("close")
def support_close(ctx: typer.Context, cycle: Cycle, school: SchoolOpt) -> None:
    """Close the support plan (every action complete)."""
    _move(ctx, cycle, school, "close", None)
