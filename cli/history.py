"""`review trigger` and `review history`: move a machine on, and see everything that moved."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.runtime import Runtime
from review_engine.services import history as history_svc
from review_engine.services import transitions

from .context import runtime
from .output import print_json, say, table, when


def trigger(
    ctx: typer.Context,
    cycle: Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")],
    event: Annotated[str, typer.Argument(help="The trigger, e.g. submit.")],
    machine: Annotated[str, typer.Option(help="cycle, self_review, peer_visit, ...")] = "cycle",
    school: Annotated[int | None, typer.Option(help="URN, for per-school machines.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history).")] = None,
) -> None:
    """Fire a trigger on a cycle or on one school's phase machine."""
    fired = transitions.fire(
        runtime(ctx),
        cycle=cycle,
        machine=machine,
        trigger=event,
        school_urn=school,
        reason=reason,
    )
    who = f" school {school}" if school else ""
    say(f"{cycle}{who} {fired.machine}: {fired.from_state} -> {fired.to_state}")


def history(
    ctx: typer.Context,
    cycle: Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")],
    school: Annotated[int | None, typer.Option(help="Only this school's history.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every state change in a cycle: when, who, what, from, to, why."""
    rt = runtime(ctx)
    if json_:
        print_json(history_svc.history(rt, cycle=cycle, school_urn=school))
        return
    print_history(rt, cycle, school=school)


def print_history(rt: Runtime, cycle: str, *, school: int | None) -> None:
    entries = history_svc.history(rt, cycle=cycle, school_urn=school)
    headers = ["when (London)", "school", "machine", "from", "to", "trigger", "by", "reason"]
    rows = [
        (
            when(e.at),
            e.school or "",
            e.machine,
            e.from_state,
            e.to_state,
            e.trigger,
            e.actor,
            e.reason or "",
        )
        for e in entries
    ]
    table(f"History of {cycle}", headers, rows)
