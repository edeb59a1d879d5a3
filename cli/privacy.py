"""Data protection duties: `review people export EMAIL` (a subject access export, JSON and
PDF) and `review retention` (periods, holds, the purge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.core.retention import RecordKind, period_words
from review_engine.services import retention, subject_access

from .context import runtime
from .output import print_json, say, table, when

retention_app = typer.Typer(
    no_args_is_help=True, help="How long records are kept; holds; the purge."
)


def export(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's e-mail address (now or before).")],
    out: Annotated[Path, typer.Option(help="Folder to write the JSON and PDF into.")] = Path("."),
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")] = True,
) -> None:
    """Write a person's data and every record that names them (JSON and PDF; other people
    redacted): a programme admin or the operator."""
    from review_engine.documents import write_document

    found = subject_access.export_person(runtime(ctx), email=email)
    out.mkdir(parents=True, exist_ok=True)
    stem = subject_access.file_stem(found)
    written = [write_document(out, f"{stem}.json", subject_access.to_json(found))]
    if pdf:
        written.append(write_document(out, f"{stem}.pdf", subject_access.to_pdf(found)))
    table(
        f"Subject access export for {found.person['email']}",
        ["records", "count"],
        [(heading, count) for heading, count in subject_access.summary(found)],
    )
    for path in written:
        say(f"wrote {path}")


@retention_app.command("show")
def show(
    ctx: typer.Context,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each kind of record, how long it is kept and what happens then; holds in force."""
    found = retention.show_policy(runtime(ctx))
    if json_:
        print_json(found)
        return
    table(
        "Retention periods",
        ["kind", "records", "kept", "then", "set by"],
        [
            (
                p.kind.value,
                p.label,
                f"{period_words(p.months)} {p.starts}",
                p.outcome,
                f"{p.set_by} on {when(p.set_at)}" if p.set_by and p.set_at else "default",
            )
            for p in found.periods
        ],
    )
    if found.holds:
        table(
            "Holds",
            ["on", "subject", "reason", "held by", "since"],
            [
                (h.subject_kind, h.subject, h.reason, h.held_by, when(h.held_at))
                for h in found.holds
            ],
        )


@retention_app.command("set")
def set_(
    ctx: typer.Context,
    kind: Annotated[RecordKind, typer.Argument(help="The kind of record.")],
    months: Annotated[int, typer.Argument(help="How many months to keep it.")],
) -> None:
    """Keep a kind of record for MONTHS in this database (a programme admin)."""
    p = retention.set_period(runtime(ctx), kind=kind, months=months)
    say(f"{p.label}: kept {period_words(p.months)} {p.starts}, then {p.outcome}")


@retention_app.command("hold")
def hold(
    ctx: typer.Context,
    on: Annotated[str, typer.Argument(help="person or cycle", metavar="person|cycle")],
    subject: Annotated[str, typer.Argument(help="The person's e-mail, or CLUSTER/YEAR.")],
    reason: Annotated[str, typer.Option(help="Why (a complaint, a claim...).")],
) -> None:
    """Keep a person's or a cycle's records past their period until released."""
    h = retention.hold(runtime(ctx), subject_kind=on, subject=subject, reason=reason)
    say(f"held the records of {h.subject_kind} {h.subject}: {h.reason}")


@retention_app.command("release")
def release(
    ctx: typer.Context,
    on: Annotated[str, typer.Argument(help="person or cycle", metavar="person|cycle")],
    subject: Annotated[str, typer.Argument(help="The person's e-mail, or CLUSTER/YEAR.")],
) -> None:
    """End a hold: the records are purged when next past their period."""
    h = retention.release(runtime(ctx), subject_kind=on, subject=subject)
    say(f"released the hold on {h.subject_kind} {h.subject}")


@retention_app.command("purge")
def purge(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; change nothing.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Anonymise, remove or delete what is past its period, unless held (a programme admin)."""
    report = retention.purge(runtime(ctx), dry_run=dry_run)
    if json_:
        print_json(report)
        return
    verb = "would purge" if dry_run else "purged"
    table(
        f"Retention purge{' (dry run: nothing changed)' if dry_run else ''}",
        ["kind", "records", "count"],
        [(s.kind.value, s.what, s.count) for s in report.steps if s.count],
    )
    held = f"; held: {report.held_people} people, {report.held_cycles} cycles"
    say(f"{verb} {report.total} records{held}")


@retention_app.command("log")
def log(
    ctx: typer.Context,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What past purges did, in counts (newest first)."""
    rows = retention.purge_log(runtime(ctx))
    if json_:
        print_json(rows)
        return
    table(
        "Purges",
        ["when", "by", "kind", "records", "count"],
        [(when(r.at), r.actor, r.kind, r.what, r.count) for r in rows],
    )
