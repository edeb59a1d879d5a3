"""`review demo`: run a whole sample cycle on a throwaway database and write its documents."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from review_engine import demo as demo_run
from review_engine.documents import Format, write_document
from review_engine.errors import InvalidInput
from review_engine.services import docs, outbox

from .cycle import print_status
from .history import print_history
from .output import say

ALL_FORMATS = "html,pdf,docx,md,csv,ics"


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the documents.")] = Path("demo-output"),
    formats: Annotated[
        str, typer.Option(help="Document formats to write, comma-separated.")
    ] = ALL_FORMATS,
) -> None:
    """Run a whole review cycle for the sample cluster on an embedded SQLite database."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="review-demo-") as workdir:
        run = demo_run.run(Path(workdir), out=out.resolve(), say=say)
        rt = run.runtime
        say("")
        print_status(rt, run.cycle)
        say("")
        print_history(rt, run.cycle, school=None)
        queued = outbox.list_outbox(rt)
        say(
            f"\n{len(queued)} reminders were queued by the ticks (review outbox list; "
            "review outbox send delivers them by SMTP)"
        )
        wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
        unknown = sorted(set(wanted) - set(ALL_FORMATS.split(",")))
        if unknown:
            raise InvalidInput(f"unknown formats {', '.join(unknown)}; choose from {ALL_FORMATS}")
        counts = []
        for fmt in (Format(f) for f in wanted if f != "ics"):
            written = docs.render_to_folder(rt, cycle=run.cycle, out=out / fmt.value, fmt=fmt)
            counts.append(f"{len(written)} {fmt.value.upper()}")
        if "ics" in wanted:
            (out / "ics").mkdir(exist_ok=True)
            for urn in sorted(run.heads):
                name, data = docs.visit_invite(rt, cycle=run.cycle, host=urn)
                write_document(out / "ics", name, data)
            counts.append(f"{len(run.heads)} ICS invites")
        rt.db.engine.dispose()
    say(f"\ndocuments written to {out.resolve()}: {', '.join(counts)}")
