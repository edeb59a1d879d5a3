"""`review backup` and `review restore`: the whole database in one file, and back."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from review_engine.services import backup as backup_svc

from .context import runtime, state
from .output import print_json, say

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write, e.g. review.backup.")],
    force: Annotated[bool, typer.Option(help="Replace FILE if it exists.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Write a backup of the whole database (SQLite or PostgreSQL) to one checked file."""
    report = backup_svc.backup(runtime(ctx), path=file, force=force)
    if json_:
        print_json({**asdict(report), "path": str(report.path)})
        return
    say(escape(str(report)))
    say("it holds personal data: keep it where only those who run the programme can read it")


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `review backup`.")],
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URL",
            help="Restore into this empty database; default REVIEW_DATABASE_URL.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Restore a backup into an empty database, then check its schema, rows and history."""
    cli = state(ctx)
    report = backup_svc.restore(cli.settings, path=file, database_url=database, actor=cli.actor)
    if json_:
        print_json(report)
        return
    say(escape(str(report)))
