"""`review tick`, `review scheduler`, `review outbox`, `review cycle plan`: time moves cycles on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from review_engine.clock import LONDON
from review_engine.core.safe_text import check_day
from review_engine.errors import InvalidInput
from review_engine.services import outbox, plans, scheduling
from review_engine.services.tick import tick as run_tick

from .context import runtime
from .output import print_json, say, table, when

scheduler_app = typer.Typer(no_args_is_help=True, help="The scheduler service.")
outbox_app = typer.Typer(
    no_args_is_help=True, help="Reminders and notices: sent, waiting or failed."
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _instant(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is London time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--now {text[:40]!r} should look like 2027-01-04 or 2027-01-04T06:00"
        ) from None
    check_day(value.date(), "--now")  # 2000-01-01 to 2100-12-31
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value.astimezone(UTC)


def tick(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option(help="Pretend it is this time (London).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Show what it would do; change nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Apply every passed boundary once, mark late work overdue, queue reminders."""
    rt = runtime(ctx)
    report = run_tick(rt, now=_instant(now) if now else None, dry_run=dry_run)
    if json_:
        print_json(report)
        return
    for line in report.changes:
        say(("would: " if dry_run else "") + line)
    say(str(report))


def plan(
    ctx: typer.Context,
    cycle: Annotated[str, typer.Argument(help="CLUSTER/YEAR or cycle number.")],
    refresh: Annotated[bool, typer.Option(help="Recompute steps not yet applied.")] = False,
    json_: JsonOpt = False,
) -> None:
    """The cycle's dated plan: when each phase opens and what is due when."""
    view = plans.show_plan(runtime(ctx), cycle=cycle, refresh=refresh)
    if json_:
        print_json(view)
        return
    if view.calendar is None:
        say(
            f"{view.cycle}: no term calendar is known for its schools; import one with "
            "`review calendar import` and `review calendar assign`, then `--refresh`"
        )
    else:
        say(f"{view.cycle} on the {view.calendar} calendar")
    table(
        None,
        ["due", "kind", "what", "from", "to", "applied"],
        [
            (
                f"{s.due_on:%a %d %b %Y}",
                s.kind,
                s.what,
                s.from_state,
                s.to_state,
                when(s.applied_at) if s.applied_at else "",
            )
            for s in view.steps
        ],
        optional=("from",),
    )


@scheduler_app.command("run")
def scheduler_run(
    ctx: typer.Context,
    wait: Annotated[
        bool, typer.Option(help="Wait for the leader lock instead of exiting.")
    ] = False,
) -> None:
    """Run the scheduler in the foreground (stop with Ctrl-C or SIGTERM): it ticks and sends
    the outbox."""
    rt = runtime(ctx)
    say(
        "scheduler starting: a tick now, at 06:00 London daily and hourly; the outbox is sent "
        f"after each tick and every {rt.settings.send_every_minutes} minutes"
        + ("; a backup nightly at 02:00" if rt.settings.backup_dir else "")
    )
    scheduling.run(rt, wait=wait)
    say("scheduler stopped")


@scheduler_app.command("status")
def scheduler_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The last tick, the next tick and what it did."""
    st = scheduling.status(runtime(ctx))
    if json_:
        print_json(st)
        return
    say(
        f"last tick: {when(st.last_tick_at) if st.last_tick_at else 'never'}"
        + (f" by {st.holder}" if st.holder else "")
    )
    say(f"next tick: {when(st.next_tick_at) if st.next_tick_at else '-'}")
    say(f"result: {'ok' if st.ok else 'FAILED' if st.ok is False else '-'}: {st.summary}")
    if st.error:
        say(f"error: {st.error}")


@outbox_app.command("list")
def outbox_list(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option(help="Only messages not yet sent.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Reminders and notices in the outbox, with whether each was sent, waits, failed (and
    when it is tried again), is undeliverable or was dropped (and why)."""
    rows = outbox.list_outbox(runtime(ctx), pending_only=pending)
    if json_:
        print_json(rows)
        return
    table(
        "Outbox",
        ["queued", "to", "subject", "status", "next try"],
        [
            (
                when(r.created_at),
                r.recipient,
                r.subject,
                _status_words(r),
                when(r.next_attempt_at) if r.next_attempt_at else "",
            )
            for r in rows
        ],
        optional=("queued",),
    )


def _status_words(row: outbox.OutboxRow) -> str:
    if row.status == "undeliverable":
        return f"undeliverable after {row.attempts} tries: {row.error}"
    if row.status == "dropped" and row.error:
        return "dropped: " + row.error.removeprefix("dropped: ")
    return row.status


@outbox_app.command("send")
def outbox_send(ctx: typer.Context) -> None:
    """Send queued reminders by SMTP (REVIEW_SMTP_HOST, _PORT, _STARTTLS, _USER); exit 1 if
    any was not sent."""
    report = outbox.send_outbox(runtime(ctx))
    say(str(report) + (" (no longer needed)" if report.dropped else ""))
    if report.failed:
        reasons = sorted(set(report.errors))
        why = reasons[0] + (f" (and {len(reasons) - 1} other reasons)" if len(reasons) > 1 else "")
        typer.echo(
            f"error: {report.failed} of {report.sent + report.failed} messages not sent: {why}; "
            f"each is tried again after a wait (`review outbox list`), undeliverable after "
            f"{outbox.MAX_ATTEMPTS} failures (`review outbox retry`)",
            err=True,
        )
        raise typer.Exit(1)


@outbox_app.command("retry")
def outbox_retry(ctx: typer.Context) -> None:
    """Try failed messages again at the next send: undeliverable ones, and those waiting
    before their next try (each keeps its message id, so none is sent twice)."""
    rt = runtime(ctx)
    count = outbox.mark_unsent(rt)
    say(
        f"{count} failed messages queued again; the scheduler sends them within "
        f"{rt.settings.send_every_minutes} minutes, or send them now with `review outbox send`"
    )
