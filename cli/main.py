"""The `review` command: the root app, global options, and the one error boundary.

Exit codes: 0 success; 1 a user error (ReviewEngineError: one line on stderr, no traceback);
2 a usage error (unknown option, missing argument; from Typer/Click).
"""

from __future__ import annotations

import sys
from importlib.metadata import version as dist_version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from review_engine.config import Settings
from review_engine.errors import ReviewEngineError
from review_engine.services import admin

from . import (
    calendar,
    cluster,
    cycle,
    docs,
    history,
    people,
    schedule,
    schools,
    sef,
    support,
    triads,
    visit,
    workflow,
    writeup,
)
from .context import CliState, state
from .demo import demo
from .output import say


class _ErrorBoundary(TyperGroup):
    """Turns every ReviewEngineError raised below into one line on stderr and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewEngineError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        finally:
            if isinstance(ctx.obj, CliState):
                ctx.obj.close()


app = typer.Typer(
    cls=_ErrorBoundary,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Run a cluster's year of school-to-school peer review.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"review {dist_version('review-engine')}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Act as this person (email); default REVIEW_ACTOR."),
    ] = None,
    _show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Run a cluster's year of school-to-school peer review."""
    ctx.obj = CliState(settings=Settings(), actor=as_.lower() if as_ else None)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database, or upgrade its schema to this version."""
    report = admin.init_database(state(ctx).settings)
    if report.before == report.after:
        say(f"database {report.url} is up to date (schema {report.after})")
    else:
        say(f"database {report.url}: schema {report.before or 'empty'} -> {report.after}")


app.add_typer(schools.app, name="schools")
app.add_typer(cluster.app, name="cluster")
app.add_typer(people.app, name="people")
app.add_typer(cycle.app, name="cycle")
app.add_typer(workflow.app, name="workflows")
app.add_typer(sef.app, name="sef")
app.add_typer(triads.app, name="triads")
app.add_typer(triads.conflicts_app, name="conflicts")
app.add_typer(triads.availability_app, name="availability")
app.add_typer(visit.app, name="visit")
app.add_typer(writeup.app, name="writeup")
app.add_typer(support.actions_app, name="actions")
app.add_typer(support.practice_app, name="practice")
app.add_typer(support.feedback_app, name="feedback")
app.add_typer(calendar.app, name="calendar")
app.add_typer(schedule.scheduler_app, name="scheduler")
app.add_typer(schedule.outbox_app, name="outbox")
app.command("tick")(schedule.tick)
app.add_typer(docs.app, name="docs")
visit.app.command("ics")(docs.visit_ics)
cycle.app.command("plan")(schedule.plan)
history.register(app)
app.command("demo")(demo)


def main() -> None:
    """Console entry point."""
    sys.exit(app())
