"""`review demo`: run a whole sample cycle on a throwaway database and write its documents."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from review_engine import demo as demo_run
from review_engine.documents import Format
from review_engine.exporters import write_document
from review_engine.services import docs

from .cycle import print_status
from .history import print_history
from .output import say


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the documents.")] = Path("demo-output"),
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
        counts = []
        for fmt in (Format.HTML, Format.PDF, Format.DOCX, Format.MD):
            written = docs.render_to_folder(rt, cycle=run.cycle, out=out / fmt.value, fmt=fmt)
            counts.append(f"{len(written)} {fmt.value.upper()}")
        csv = docs.render_to_folder(rt, cycle=run.cycle, out=out / "csv", fmt=Format.CSV)
        counts.append(f"{len(csv)} CSV")
        invites = 0
        (out / "ics").mkdir(exist_ok=True)
        for urn in sorted(run.heads):
            name, data = docs.visit_invite(rt, cycle=run.cycle, host=urn)
            write_document(out / "ics", name, data)
            invites += 1
        counts.append(f"{invites} ICS invites")
        rt.db.engine.dispose()
    say(f"\ndocuments written to {out.resolve()}: {', '.join(counts)}")
