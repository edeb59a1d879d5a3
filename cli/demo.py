"""`review demo`: run a whole sample cycle on a throwaway database and show the result."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from review_engine import demo as demo_run

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
        say("")
        print_status(run.runtime, run.cycle)
        say("")
        print_history(run.runtime, run.cycle, school=None)
        run.runtime.db.engine.dispose()
    say(f"\ndocuments written to {out.resolve()}")
