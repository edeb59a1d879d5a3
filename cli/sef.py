"""`review sef`: the self-evaluation template, submission, and the facilitator's decision."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from review_engine.core.safe_text import SEF_LIMIT, read_text_file
from review_engine.core.sef_file import SefFormat
from review_engine.services import sef

from .context import runtime
from .output import command, print_json, say, when, write_out

app = typer.Typer(no_args_is_help=True, help="Self-evaluations (SEF).")
Cycle = Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")]
School = Annotated[int, typer.Option("--school", help="URN of the school.")]


@app.command("template")
def template_(
    ctx: typer.Context,
    cycle: Cycle,
    school: School,
    fmt: Annotated[SefFormat, typer.Option("--format", help="md or yaml.")] = SefFormat.MD,
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
    force: Annotated[bool, typer.Option(help="Replace the --out file if it exists.")] = False,
) -> None:
    """Write a blank SEF for a school to fill in (Markdown with headings, or YAML).

    Fill it in with any text editor, or in Word keeping the headings as Heading 2 and 3 and
    saving as .docx; then submit it with `review sef submit`."""
    text = sef.sef_template(runtime(ctx), cycle=cycle, urn=school, fmt=fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text, force=force)
        hint = command("review", "sef", "submit", cycle, "--school", school, out)
        say(escape(f"wrote {out}; fill it in, then submit it with: {hint}"))


@app.command("submit")
def submit(ctx: typer.Context, cycle: Cycle, school: School, file: Path) -> None:
    """Validate a filled-in SEF and submit it (every version is kept).

    FILE is the Markdown or YAML of `review sef template`, or a Word .docx with the same
    headings; UTF-8 or Windows-1252 text."""
    text = read_text_file(file, SEF_LIMIT, what="a self-evaluation")
    fmt = SefFormat.YAML if file.suffix.lower() in (".yaml", ".yml") else SefFormat.MD
    view = sef.submit_sef(
        runtime(ctx), cycle=cycle, urn=school, text=text, fmt=fmt, source=file.name
    )
    say(
        f"submitted version {view.version} of the self-evaluation of {view.school}; "
        f"self-review is {view.state}"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    cycle: Cycle,
    school: School,
    version: Annotated[int | None, typer.Option(help="An earlier version.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a school's SEF (if you may see it)."""
    view = sef.show_sef(runtime(ctx), cycle=cycle, urn=school, version=version)
    if json_:
        print_json(view)
        return
    say(
        f"[bold]{view.school}[/bold] ({view.urn}) SEF v{view.version} of {view.versions}, "
        f"{view.framework}, {view.state}; submitted {when(view.submitted_at)} by "
        f"{view.submitted_by}"
    )
    say(f"Enquiry question: {view.enquiry_question}")
    # Each area as a block, not a five-column table: long text reads at 80 columns.
    for area in view.areas:
        say(f"\n[bold]{escape(area.title)}[/bold]: {escape(area.grade_label)}")
        for label, text in (
            ("Strengths", area.strengths),
            ("Areas for development", area.areas_for_development),
            ("Evidence", area.evidence),
        ):
            say(f"  {label}:")
            for paragraph in (text or "-").splitlines():
                for line in textwrap.wrap(paragraph, 76, break_on_hyphens=False) or [""]:
                    say(f"    {escape(line)}")


@app.command("accept")
def accept(ctx: typer.Context, cycle: Cycle, school: School) -> None:
    """Accept a submitted SEF (facilitator)."""
    view = sef.decide_sef(runtime(ctx), cycle=cycle, urn=school, accept=True, reason=None)
    say(f"accepted the self-evaluation of {view.school}")


@app.command("return")
def return_(
    ctx: typer.Context,
    cycle: Cycle,
    school: School,
    reason: Annotated[str, typer.Option(help="What needs changing.")],
) -> None:
    """Return a submitted SEF to the school with a reason (facilitator)."""
    view = sef.decide_sef(runtime(ctx), cycle=cycle, urn=school, accept=False, reason=reason)
    say(f"returned the self-evaluation of {view.school}: {reason}")
