"""`review docs`: render the cycle's documents (HTML, Markdown, PDF, Word, CSV) to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from review_engine.documents import DocumentKind, Format, write_document
from review_engine.services import docs

from .context import runtime
from .output import console, print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Documents: SEF summary, visit pack, reports.")


@app.command("render")
def render(
    ctx: typer.Context,
    cycle: Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")],
    school: Annotated[int | None, typer.Option(help="Only this school's documents.")] = None,
    kind: Annotated[list[DocumentKind] | None, typer.Option(help="Only these kinds.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="html, md, pdf, docx or csv.")] = (
        Format.HTML
    ),
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("documents"),
    word_template: Annotated[
        Path | None, typer.Option(help="A .docx whose styles Word documents use.")
    ] = None,
) -> None:
    """Render every document you may see for a cycle."""
    with Progress(
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("docs", total=None)
        written = docs.render_to_folder(
            runtime(ctx),
            cycle=cycle,
            out=out,
            fmt=fmt,
            school=school,
            kinds=kind,
            progress=lambda n, total: bar.update(task, completed=n, total=total),
            word_template=word_template,
        )
    for w in written:
        say(f"{w.kind}: {w.path}")
    say(f"{len(written)} documents written to {out.resolve()}")


@app.command("list-kinds")
def list_kinds(json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Document kinds and their formats."""
    kinds = docs.list_kinds()
    if json_:
        print_json([{"kind": k, "formats": f} for k, f in kinds])
        return
    table("Documents", ["kind", "formats"], [(k, ", ".join(f)) for k, f in kinds])


def visit_ics(
    ctx: typer.Context,
    cycle: Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")],
    school: Annotated[int, typer.Option("--school", help="URN of the host school.")],
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("."),
) -> None:
    """Write the visit's calendar invite (.ics) for Outlook and other calendars."""
    name, data = docs.visit_invite(runtime(ctx), cycle=cycle, host=school)
    out.mkdir(parents=True, exist_ok=True)
    say(f"wrote {write_document(out, name, data)}")
