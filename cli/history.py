"""`review trigger` and `review history`: move a machine on, and see everything that moved."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from review_engine.core.phases import any_state_words, as_words, cycle_words, trigger_words
from review_engine.runtime import Runtime
from review_engine.services import history as history_svc
from review_engine.services import transitions

from . import output
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


VERIFY = "verify"  # `review history verify [CYCLE]`: never a cycle (CLUSTER/YEAR or a number)


def history(
    ctx: typer.Context,
    cycle: Annotated[
        str,
        typer.Argument(
            metavar="CYCLE|verify",
            help="CLUSTER/YEAR or cycle number; or `verify` to check history's hash chains.",
        ),
    ],
    verify_cycle: Annotated[
        str | None,
        typer.Argument(
            metavar="CYCLE",
            help="After `verify`: the cycle to check (default: every cycle you facilitate).",
            show_default=False,
        ),
    ] = None,
    school: Annotated[int | None, typer.Option(help="Only this school's history.")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column: machine, from, to, trigger, reason.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every state change in a cycle: when, who, what, from, to, why.

    `review history verify [CYCLE]` checks each row against its hash chain (exit 1 if not)."""
    rt = runtime(ctx)
    if cycle == VERIFY:
        verify(rt, verify_cycle, json_=json_)
        return
    if verify_cycle is not None:
        raise typer.BadParameter(f"unexpected {verify_cycle!r} (did you mean `history verify`?)")
    if json_:
        print_json(history_svc.history(rt, cycle=cycle, school_urn=school))
        return
    print_history(rt, cycle, school=school, wide=wide)


def _state(entry: history_svc.HistoryEntry, state: str) -> str:
    """A state in words: the cycle's phases for the cycle's own rows, else a school's."""
    return cycle_words(state) if entry.school is None else any_state_words(state)


def print_history(rt: Runtime, cycle: str, *, school: int | None, wide: bool = False) -> None:
    """One row per change. By default it fits 80 columns: when, then the school, the change
    in words (`peer visit: scheduled -> visited`) and who made it and why, each on its own
    line; `wide` gives each field its own column."""
    entries = history_svc.history(rt, cycle=cycle, school_urn=school)
    if wide or output.WIDE:
        headers = ["when (London)", "school", "machine", "from", "to", "trigger", "by", "reason"]
        rows: list[tuple[str, ...]] = [
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
    else:
        headers = ["when (London)", "change"]
        rows = [
            (
                when(e.at),
                "\n".join(
                    line
                    for line in (
                        e.school or "",
                        f"{as_words(e.machine)}: {trigger_words(e.trigger)} "
                        f"({_state(e, e.from_state) or 'new'} -> {_state(e, e.to_state)})",
                        f"by {e.actor}" + (f": {e.reason}" if e.reason else ""),
                    )
                    if line
                ),
            )
            for e in entries
        ]
    table(f"History of {cycle}", headers, rows, wide=wide)


def verify(rt: Runtime, cycle: str | None, *, json_: bool) -> None:
    """One line per cycle (OK and its rows and head, or each problem); exit 1 on any."""
    checks = history_svc.verify(rt, cycle=cycle)
    if json_:
        print_json([{**asdict(c), "ok": c.ok} for c in checks])
    else:
        if not checks:
            say("no cycles to verify")
        for check in checks:
            if check.ok:
                say(f"{check.cycle}: OK, {check.rows} rows (head {check.head[:16]})")
            for problem in check.problems:  # each names its cycle
                say(problem)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
