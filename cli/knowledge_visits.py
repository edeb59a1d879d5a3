"""`review ik` for visits: booking places (and the waiting list), cancelling, the agenda,
attendance, feedback and reflections, the quality report, the host's visit pack and the tick.
`register` adds them to the `review ik` group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.documents import write_document
from review_engine.errors import InvalidInput
from review_engine.services.knowledge import agenda, bookings, feedback, reminders, report

from .context import runtime
from .knowledge_common import (
    BookingArg,
    JsonOpt,
    OfferArg,
    ProgrammeOpt,
    SchoolOpt,
    booking_line,
    bookings_table,
    e,
    practitioners,
)
from .output import print_json, say, table

app = typer.Typer()
agenda_app = typer.Typer()


@app.command("book")
def book(
    ctx: typer.Context,
    offer: OfferArg,
    practitioner: Annotated[
        list[str], typer.Option(help="'Name <email>' of one who comes; repeat for each.")
    ],
    question: Annotated[str, typer.Option(help="A question for the agenda.")] = "",
    school: SchoolOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Book your school's places on an offer (waiting list when it is full)."""
    b = bookings.book(
        runtime(ctx),
        offer=offer,
        practitioners=practitioners(practitioner),
        questions=question,
        school=school,
    )
    if json_:
        print_json(b)
        return
    say(booking_line(b))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    booking: BookingArg,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Cancel a booking; a freed place goes to the first school waiting."""
    say(booking_line(bookings.cancel(runtime(ctx), booking=booking, reason=reason)))


@app.command("bookings")
def list_bookings(
    ctx: typer.Context,
    school: SchoolOpt = None,
    offer: Annotated[int | None, typer.Option(help="Every booking on this offer (host).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Your school's bookings, or (a host) every booking on an offer."""
    rt = runtime(ctx)
    found = (
        bookings.offer_bookings(rt, offer=offer)
        if offer is not None
        else bookings.school_bookings(rt, school=school)
    )
    if json_:
        print_json(found)
        return
    bookings_table("Bookings", found)


@app.command("attend")
def attend(ctx: typer.Context, booking: BookingArg) -> None:
    """Record that a confirmed school came (the host, on or after the day)."""
    say(booking_line(bookings.mark(runtime(ctx), booking=booking, attended=True)))


@app.command("no-show")
def no_show(ctx: typer.Context, booking: BookingArg) -> None:
    """Record that a confirmed school did not come (the host, on or after the day)."""
    say(booking_line(bookings.mark(runtime(ctx), booking=booking, attended=False)))


@agenda_app.command("propose")
def agenda_propose(
    ctx: typer.Context,
    booking: BookingArg,
    text: Annotated[str, typer.Argument(help="The question or item.")],
) -> None:
    """Propose a question for the agenda (a booked school)."""
    q = agenda.propose(runtime(ctx), booking=booking, text=text)
    say(f"question {q.id} from {e(q.school_name)} added")


@agenda_app.command("publish")
def agenda_publish(
    ctx: typer.Context,
    offer: OfferArg,
    text: Annotated[str | None, typer.Option(help="The agenda.")] = None,
    file: Annotated[Path | None, typer.Option(help="A text file with the agenda.")] = None,
) -> None:
    """Publish the outline agenda; confirmed schools are told (the host)."""
    if (text is None) == (file is None):
        raise InvalidInput("give the agenda with --text or --file")
    if file is not None:
        from review_engine.core.safe_text import decode_text, read_bounded

        body = decode_text(read_bounded(file, 64 * 1024, what="an agenda"), source=str(file))
    else:
        body = text or ""
    a = agenda.publish_agenda(runtime(ctx), offer=offer, text=body)
    say(f"agenda version {a.version} published for offer {a.offer_id}")


@agenda_app.command("ack")
def agenda_ack(ctx: typer.Context, booking: BookingArg) -> None:
    """Acknowledge the agenda (a confirmed school)."""
    b = agenda.acknowledge(runtime(ctx), booking=booking)
    say(f"{e(b.school_name)} acknowledged the agenda for {e(b.offer_title)}")


@agenda_app.command("show")
def agenda_show(ctx: typer.Context, offer: OfferArg, json_: JsonOpt = False) -> None:
    """The agenda and the questions proposed (host, admin, booked schools)."""
    a = agenda.show_agenda(runtime(ctx), offer=offer)
    if json_:
        print_json(a)
        return
    say(f"version {a.version}:\n{e(a.text)}" if a.version else "not published yet")
    for q in a.questions:
        say(f"question from {e(q.school_name)}: {e(q.text)}")
    for name, done in a.acknowledged:
        say(f"{e(name)}: {'acknowledged' if done else 'not yet acknowledged'}")


@app.command("feedback")
def give_feedback(
    ctx: typer.Context,
    offer: OfferArg,
    rating: Annotated[int, typer.Option(help="1 (not useful) to 5 (very useful).")],
    comment: Annotated[str, typer.Option(help="A comment.")] = "",
    school: SchoolOpt = None,
) -> None:
    """Feedback on the day, from a visiting school or the host."""
    f = feedback.give(runtime(ctx), offer=offer, rating=rating, comment=comment, school=school)
    who = "the host" if f.kind == "host" else "a visiting school"
    say(f"feedback from {e(f.school_name)} ({who}) recorded: {f.rating} of 5")


@app.command("reflection")
def reflection(
    ctx: typer.Context,
    offer: OfferArg,
    changed: Annotated[
        bool, typer.Option("--changed/--no-change", help="Did the visit change your practice?")
    ],
    what: Annotated[str, typer.Option(help="What you changed.")] = "",
    comment: Annotated[str, typer.Option(help="A comment.")] = "",
    school: SchoolOpt = None,
) -> None:
    """A visiting school's reflection on what it changed."""
    f = feedback.reflect(
        runtime(ctx),
        offer=offer,
        changed_practice=changed,
        what_changed=what,
        comment=comment,
        school=school,
    )
    say(
        f"reflection from {e(f.school_name)} recorded"
        + (f": changed {e(f.what_changed)}" if f.changed_practice else ": no change yet")
    )


@app.command("due")
def due(ctx: typer.Context, school: SchoolOpt = None, json_: JsonOpt = False) -> None:
    """Feedback and reflections your school owes."""
    found = feedback.due(runtime(ctx), school=school)
    if json_:
        print_json(found)
        return
    words = {
        "visitor": "feedback on the day",
        "host": "host's feedback",
        "reflection": "reflection",
    }
    table(
        "Owed",
        ["offer", "visit", "what", "due"],
        [(d.offer_id, d.offer_title, words[d.kind], f"{d.due:%d %b %Y}") for d in found],
    )


def _write(folder: Path, name: str, data: bytes) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return write_document(folder, name, data)
    except OSError as exc:
        raise InvalidInput(f"cannot write to {folder}: {exc.strerror or exc}") from None


@app.command("report")
def quality(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or csv.")] = "html",
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("documents"),
    programme_: ProgrammeOpt = None,
) -> None:
    """Write the programme's quality report (a programme admin)."""
    doc = report.quality_document(runtime(ctx), programme=programme_, fmt=fmt)
    say(f"quality report written to {_write(out, doc.filename, doc.content)}")


@app.command("pack")
def pack(
    ctx: typer.Context,
    offer: OfferArg,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("documents"),
) -> None:
    """Write the host's visit pack: visitors, questions, agenda (the host)."""
    doc = report.visit_pack_document(runtime(ctx), offer=offer, fmt=fmt)
    say(f"visit pack written to {_write(out, doc.filename, doc.content)}")


@app.command("tick")
def tick(ctx: typer.Context) -> None:
    """Close offers whose day has passed and queue due reminders (scheduler, admin)."""
    done = reminders.tick(runtime(ctx))
    say(f"{done.closed} offers closed; {done.queued} reminders queued")


def register(root: typer.Typer, agenda_root: typer.Typer) -> None:
    """Add this module's commands to `review ik` and `review ik agenda`."""
    root.registered_commands += app.registered_commands
    agenda_root.registered_commands += agenda_app.registered_commands
