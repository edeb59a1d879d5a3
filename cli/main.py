"""The `review` command: the root app, global options, and the one error boundary.

Exit codes: 0 success; 1 a user error (ReviewEngineError: one line on stderr, no traceback);
2 a usage error (unknown option, missing argument; from Typer/Click).

Start-up is kept short: each noun's module (and the services, solver and exporters behind it)
is imported only when its command runs. `COMMANDS` names where each command lives and its
one-line help, so `review --help` lists every command without importing any of them.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from review_engine.errors import ReviewEngineError

from .context import CliState


@dataclass(frozen=True)
class Lazy:
    """A command in `cli/<module>.py`: a Typer app (a noun) or a function (a verb)."""

    target: str  # "module:attribute"
    help: str  # the one-line help `review --help` shows; a test keeps it equal to the real one
    extra: tuple[tuple[str, Lazy], ...] = ()  # sub-commands that live in another module


# In the order `review --help` lists them (Typer lists verbs before nouns).
COMMANDS: dict[str, Lazy] = {
    "tick": Lazy(
        "schedule:tick",
        "Apply every passed boundary once, mark late work overdue, queue reminders.",
    ),
    "trigger": Lazy(
        "history:trigger", "Fire a trigger on a cycle or on one school's phase machine."
    ),
    "history": Lazy(
        "history:history", "Every state change in a cycle: when, who, what, from, to, why."
    ),
    "serve": Lazy(
        "serve:serve",
        "Run the web app where people sign in by e-mail link and do their part of the cycle.",
    ),
    "demo": Lazy(
        "demo:demo",
        "Run a whole review cycle for the sample cluster on an embedded SQLite database.",
    ),
    "backup": Lazy(
        "backup:backup",
        "Write a backup of the whole database (SQLite or PostgreSQL) to one checked file.",
    ),
    "restore": Lazy(
        "backup:restore",
        "Restore a backup into an empty database, then check its schema, rows and history.",
    ),
    "schools": Lazy("schools:app", "Schools, from Get Information about Schools."),
    "cluster": Lazy("cluster:app", "Clusters of schools that review each other."),
    "people": Lazy(
        "people:app",
        "People who take part.",
        extra=(
            (
                "export",
                Lazy(
                    "privacy:export",
                    "Write a person's data and every record that names them (JSON and PDF; "
                    "other people redacted): a programme admin or the operator.",
                ),
            ),
        ),
    ),
    "cycle": Lazy(
        "cycle:app",
        "Review cycles (one per cluster per year).",
        extra=(
            (
                "plan",
                Lazy(
                    "schedule:plan",
                    "The cycle's dated plan: when each phase opens and what is due when.",
                ),
            ),
        ),
    ),
    "workflows": Lazy("workflow:app", "Workflow definitions (data files)."),
    "sef": Lazy("sef:app", "Self-evaluations (SEF)."),
    "triads": Lazy("triads:app", "Triads: who visits whom."),
    "conflicts": Lazy("triads:conflicts_app", "Pairs of schools never paired."),
    "availability": Lazy("triads:availability_app", "Who can visit or host this cycle."),
    "visit": Lazy(
        "visit:app",
        "Peer visits: focus, date, agenda.",
        extra=(
            (
                "ics",
                Lazy(
                    "docs:visit_ics",
                    "Write the visit's calendar invite (.ics) for Outlook and other calendars.",
                ),
            ),
        ),
    ),
    "writeup": Lazy("writeup:app", "WWW/EBI write-ups."),
    "actions": Lazy("support:actions_app", "Support actions from the EBIs."),
    "support": Lazy(
        "support:support_app",
        "A school's support plan: agree it, start it, review its impact, close it.",
    ),
    "practice": Lazy("support:practice_app", "The good-practice directory."),
    "feedback": Lazy("support:feedback_app", "Feedback on visits."),
    "calendar": Lazy("calendar:app", "Term calendars."),
    "scheduler": Lazy("schedule:scheduler_app", "The scheduler service."),
    "outbox": Lazy("schedule:outbox_app", "Reminders and notices: sent, waiting or failed."),
    "docs": Lazy("docs:app", "Documents: SEF summary, visit pack, reports."),
    "retention": Lazy("privacy:retention_app", "How long records are kept; holds; the purge."),
    "access": Lazy("access:app", "Who viewed or downloaded a cycle's records."),
    "ik": Lazy(
        "knowledge:app",
        "Inside Knowledge: a national prospectus of host-school visits, with booking.",
    ),
}


def load(name: str, spec: Lazy) -> Any:
    """Import the command's module and build its click command, as `add_typer` would."""
    module, attribute = spec.target.split(":")
    found = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    shell = typer.Typer(add_completion=False)
    shell.callback()(_nothing)  # a callback makes `shell` a group even with one command
    if isinstance(found, typer.Typer):
        shell.add_typer(found, name=name)
    else:
        shell.command(name)(found)
    group = typer.main.get_command(shell)
    assert isinstance(group, TyperGroup)
    command = group.commands[name]
    if isinstance(command, TyperGroup):
        for sub, sub_spec in spec.extra:
            command.add_command(_Placeholder(sub, sub_spec))
    return command


def _nothing() -> None:
    pass


class _Placeholder(TyperCommand):
    """Stands in for a command in help listings; running it imports and runs the real one."""

    def __init__(self, name: str, spec: Lazy) -> None:
        super().__init__(name, help=spec.help)
        self.spec = spec

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        assert self.name is not None
        return load(self.name, self.spec).make_context(info_name, args, parent=parent, **extra)


class _Root(TyperGroup):
    """Lists every command without importing it, and is the one error boundary: every
    ReviewEngineError raised below becomes one line on stderr and exit 1."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, spec in COMMANDS.items():
            self.add_command(_Placeholder(name, spec))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewEngineError as exc:
            from .refusals import explain  # only when something was refused

            typer.echo(f"error: {explain(exc)}", err=True)
            raise typer.Exit(exc.exit_code) from None
        finally:
            if isinstance(ctx.obj, CliState):
                ctx.obj.close()


app = typer.Typer(
    cls=_Root,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    pretty_exceptions_enable=False,
    help="Run a cluster's year of school-to-school peer review.",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version as dist_version

        typer.echo(f"review {dist_version('review-engine')}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Act as this person (email); default REVIEW_ACTOR."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            envvar="REVIEW_NOW",
            show_envvar=False,
            metavar="DATETIME",
            help="Pretend it is this time (London), e.g. 2027-01-04T09:00; default REVIEW_NOW. "
            "Changes are written only to a rehearsal database (review init --rehearsal).",
        ),
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Show every column of tables, however wide.")
    ] = False,
    _show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Run a cluster's year of school-to-school peer review."""
    from review_engine.config import Settings

    from . import output

    output.WIDE = wide
    settings = Settings()
    if now:
        from review_engine.runtime import pretend_instant

        pretend_instant(now)  # a bad --now is refused before any command runs
        settings = settings.model_copy(update={"now": now})
    ctx.obj = CliState(settings=settings, actor=as_.lower() if as_ else None)


@app.command()
def init(
    ctx: typer.Context,
    rehearsal: Annotated[
        bool,
        typer.Option(
            help="Mark a new database as a rehearsal: `review tick --now` may move its time."
        ),
    ] = False,
) -> None:
    """Create the database, or upgrade its schema to this version."""
    from review_engine.services import admin

    from .context import state
    from .output import say

    report = admin.init_database(state(ctx).settings, rehearsal=rehearsal)
    if report.before == report.after:
        say(f"database {report.url} is up to date (schema {report.after})")
    else:
        say(f"database {report.url}: schema {report.before or 'empty'} -> {report.after}")
    if report.rehearsal:
        say("a rehearsal database: `review tick --now` may pretend another time here")


def main() -> None:
    """Console entry point."""
    sys.exit(app())
