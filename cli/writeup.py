"""`review writeup`: draft, agree, return, publish and show the WWW/EBI summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.core.domain import SharingLevel
from review_engine.core.safe_text import WRITEUP_LIMIT, decode_text, read_bounded
from review_engine.services import writeups

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="WWW/EBI write-ups.")
Cycle = Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")]
Host = Annotated[int, typer.Option("--school", help="URN of the host school.")]


def _print(v: writeups.WriteUpView) -> None:
    say(
        f"[bold]WWW/EBI: {v.host_name}[/bold] ({v.host}), {v.state}, v{v.version}; "
        f"lead reviewer {v.lead}"
    )
    if v.activities:
        say("activities: " + "; ".join(v.activities))
    table(
        "What went well",
        ["line of enquiry", "what", "evidence"],
        [(i.line, i.text, i.evidence) for i in v.www],
    )
    table(
        "Even better if",
        ["line of enquiry", "what", "evidence"],
        [(i.line, i.text, i.evidence) for i in v.ebi],
    )
    if v.good_practice:
        table(
            "Agreed good practice",
            ["area", "practice", "contact"],
            [(p.area, p.description, p.contact) for p in v.good_practice],
        )
    if v.agreed_by:
        say("agreed by: " + ", ".join(v.agreed_by))
    if v.sharing:
        say(f"shared with: {v.sharing}" + (f" {v.shared_with}" if v.shared_with else ""))


@app.command("draft")
def draft(ctx: typer.Context, cycle: Cycle, school: Host, file: Path) -> None:
    """Draft (or redraft) the write-up from a YAML file (lead reviewer)."""
    data = read_bounded(file, WRITEUP_LIMIT, what="a write-up")
    text = decode_text(data, source=file.name, windows_1252=True)
    d = writeups.read_draft(text, source=file.name)
    _print(
        writeups.draft(
            runtime(ctx),
            cycle=cycle,
            host=school,
            items=d.items,
            good_practice=d.good_practice,
            activities=d.activities,
            next_steps=d.next_steps,
        )
    )


@app.command("agree")
def agree(ctx: typer.Context, cycle: Cycle, school: Host) -> None:
    """Agree the write-up (a co-reviewer, then the host)."""
    _print(writeups.agree(runtime(ctx), cycle=cycle, host=school))


@app.command("return")
def return_(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    reason: Annotated[str, typer.Option(help="What needs changing.")],
) -> None:
    """Send the draft back to the lead reviewer with a reason."""
    _print(writeups.return_(runtime(ctx), cycle=cycle, host=school, reason=reason))


@app.command("publish")
def publish(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    share: Annotated[SharingLevel, typer.Option(help="reviewers, cluster or named.")],
    with_: Annotated[list[int] | None, typer.Option("--with", help="Named school URN.")] = None,
) -> None:
    """Publish the agreed write-up at the sharing level the host chooses."""
    _print(
        writeups.publish(runtime(ctx), cycle=cycle, host=school, sharing=share, named=with_ or [])
    )


@app.command("show")
def show(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a write-up (if it is shared with you)."""
    view = writeups.show(runtime(ctx), cycle=cycle, host=school)
    if json_:
        print_json(view)
        return
    _print(view)
