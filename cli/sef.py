"""`review sef`: the self-evaluation template, submission, and the facilitator's decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.core.safe_text import SEF_LIMIT, decode_text, read_bounded
from review_engine.core.sef_file import SefFormat
from review_engine.services import sef

from .context import runtime
from .output import print_json, say, table, when

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
) -> None:
    """Write a blank SEF for a school to fill in."""
    text = sef.sef_template(runtime(ctx), cycle=cycle, urn=school, fmt=fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        say(f"wrote {out}; fill it in, then `review sef submit {cycle} --school {school} {out}`")


@app.command("submit")
def submit(ctx: typer.Context, cycle: Cycle, school: School, file: Path) -> None:
    """Validate a filled-in SEF and submit it (every version is kept)."""
    data = read_bounded(file, SEF_LIMIT, what="a self-evaluation")
    text = decode_text(data, source=file.name, windows_1252=True)  # as Word or Notepad save
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
    table(
        None,
        ["area", "grade", "strengths", "areas for development", "evidence"],
        [
            (a.title, a.grade_label, a.strengths, a.areas_for_development, a.evidence)
            for a in view.areas
        ],
    )


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
