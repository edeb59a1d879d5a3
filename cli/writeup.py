"""`review writeup`: draft, agree, return, publish and show the WWW/EBI summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from review_engine.core.domain import SharingLevel
from review_engine.core.safe_text import WRITEUP_LIMIT, read_text_file
from review_engine.core.writeup_file import WriteupFormat
from review_engine.services import writeups

from .context import runtime
from .output import command, print_json, say, table, when, write_out

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


@app.command("template")
def template_(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    fmt: Annotated[WriteupFormat, typer.Option("--format", help="md or yaml.")] = (
        WriteupFormat.MD
    ),
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
    force: Annotated[bool, typer.Option(help="Replace the --out file if it exists.")] = False,
) -> None:
    """Write a blank write-up of the visit to a school, to fill in (Markdown or YAML).

    Fill it in with any text editor, or in Word keeping the headings (Heading 2 and 3) and
    saving as .docx; then draft it with `review writeup draft`."""
    text = writeups.writeup_template(runtime(ctx), cycle=cycle, host=school, fmt=fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text, force=force)
        hint = command("review", "writeup", "draft", cycle, "--school", school, out)
        say(escape(f"wrote {out}; fill it in, then draft it with: {hint}"))


@app.command("draft")
def draft(ctx: typer.Context, cycle: Cycle, school: Host, file: Path) -> None:
    """Draft (or redraft) the write-up from a file (lead reviewer).

    FILE is the Markdown or YAML of `review writeup template`, or a Word .docx with the same
    headings; UTF-8 or Windows-1252 text."""
    text = read_text_file(file, WRITEUP_LIMIT, what="a write-up")
    suffix = file.suffix.lower()
    fmt = (
        WriteupFormat.YAML
        if suffix in (".yaml", ".yml")
        else WriteupFormat.MD
        if suffix in (".md", ".markdown", ".docx")
        else None
    )
    d = writeups.read_draft(text, source=file.name, fmt=fmt)
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


@app.command("share")
def share(
    ctx: typer.Context,
    cycle: Cycle,
    school: Host,
    sharing: Annotated[
        SharingLevel, typer.Option(help="Who may read it from now on: reviewers, cluster or named.")
    ],
    reason: Annotated[str, typer.Option(help="Why the sharing changes (kept in its log).")],
    with_: Annotated[
        list[int] | None, typer.Option("--with", help="Named school URN (with --sharing named).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Widen or withdraw who may read a published write-up (the host school or the
    facilitator); each change is logged and holds at once, in the directory too."""
    changed = writeups.change_sharing(
        runtime(ctx),
        cycle=cycle,
        host=school,
        sharing=sharing,
        shared_with=with_ or [],
        reason=reason,
    )
    if json_:
        print_json(changed)
        return
    v = changed.writeup
    say(escape(f"{v.cycle}: the write-up for {v.host_name} is now shared with: {v.sharing}"))
    if changed.reached:
        say(escape("may now read it (told): " + ", ".join(changed.reached)))
    if changed.withdrawn:
        say(escape("may no longer read it: " + ", ".join(changed.withdrawn)))
    table(
        "Changes to who may read it (newest first)",
        ["when", "by", "before", "after", "why"],
        [
            (
                when(c.at),
                c.by,
                _sharing_words(c.sharing_before, c.shared_with_before),
                _sharing_words(c.sharing_after, c.shared_with_after),
                c.reason,
            )
            for c in changed.log
        ],
    )


def _sharing_words(sharing: str | None, named: list[str]) -> str:
    return (sharing or "not shared") + (f": {', '.join(named)}" if named else "")


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
