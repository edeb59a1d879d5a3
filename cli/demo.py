"""`review demo`: run a whole sample cycle on its own SQLite database, write its documents, and
say how to open the year in the browser."""

from __future__ import annotations

import os
import shlex
import sys
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
    workdir = out / "database"  # kept, so `review serve` can open the year afterwards
    workdir.mkdir(exist_ok=True)
    for old in workdir.glob("demo.sqlite*"):
        old.unlink()
    run = demo_run.run(workdir.resolve(), out=out.resolve(), say=say)
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
    _how_to_open(run)


def _how_to_open(run: demo_run.DemoRun) -> None:
    """The command that opens the demo year in the browser, and sign-in links for a head and
    the facilitator (made on the real clock: each works once, within 15 minutes)."""
    from review_engine.config import Settings
    from review_engine.runtime import OPERATOR, Runtime
    from review_engine.services import signin

    base = "http://127.0.0.1:8000"
    url = f"sqlite:///{run.database.resolve()}"
    program = Path(sys.argv[0])
    review = (
        os.path.relpath(program)
        if program.name == "review" and program.resolve().is_relative_to(Path.cwd())
        else "review"
    )
    database = shlex.quote(os.path.relpath(run.database))
    rt = Runtime.open(Settings(database_url=url), actor=OPERATOR)
    try:
        head = run.heads[min(run.heads)]
        links = [
            (f"a head teacher ({head})", signin.issue_link(rt, email=head, base_url=base)),
            (
                f"the facilitator ({demo_run.FACILITATOR})",
                signin.issue_link(rt, email=demo_run.FACILITATOR, base_url=base),
            ),
        ]
    finally:
        rt.db.engine.dispose()
    say("\nOpen the demo year in the browser:")
    say(f"  {review} serve --database {database}")
    say(f"then go to {base} and sign in with one of these links (each works once, within")
    say("15 minutes; no mail is sent in the demo):")
    for who, link in links:
        say(f"  {who}: {link}")
    say(f"A fresh link: REVIEW_DATABASE_URL={shlex.quote(url)} {review} people sign-in-link EMAIL")
