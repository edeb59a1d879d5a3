"""`review ik`: Inside Knowledge, a national prospectus of host-school visits, with booking and
feedback. Programmes and topics, stakeholders and nominations, offers, the public prospectus,
bookings and the waiting list, the agenda, attendance, feedback, reflections, the quality
report, the host's visit pack and the reminders' tick."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from review_engine.core.knowledge import ProspectusQuery
from review_engine.documents import write_document
from review_engine.errors import InvalidInput
from review_engine.services.knowledge import (
    agenda,
    bookings,
    feedback,
    nominations,
    offers,
    programme,
    prospectus,
    reminders,
    report,
)
from review_engine.services.knowledge.views import (
    BookingView,
    OfferView,
    Practitioner,
    ProgrammeView,
)

from .context import runtime
from .output import print_json, say, table

app = typer.Typer(
    no_args_is_help=True,
    help="Inside Knowledge: a national prospectus of host-school visits, with booking.",
)
programme_app = typer.Typer(no_args_is_help=True, help="Programmes and their settings.")
topic_app = typer.Typer(no_args_is_help=True, help="A programme's topics.")
stakeholder_app = typer.Typer(no_args_is_help=True, help="Who may nominate host schools.")
offer_app = typer.Typer(no_args_is_help=True, help="Visit offers: make, publish, hold, close.")
agenda_app = typer.Typer(no_args_is_help=True, help="The outline agenda of a visit.")
app.add_typer(programme_app, name="programme")
app.add_typer(topic_app, name="topic")
app.add_typer(stakeholder_app, name="stakeholder")
app.add_typer(offer_app, name="offer")
app.add_typer(agenda_app, name="agenda")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProgrammeOpt = Annotated[
    str | None, typer.Option("--programme", help="NAME/YEAR or number; the newest if not given.")
]
ProgrammeArg = Annotated[str, typer.Argument(help="The programme: NAME/YEAR or its number.")]
OfferArg = Annotated[int, typer.Argument(help="The offer's number.")]
BookingArg = Annotated[int, typer.Argument(help="The booking's number.")]
SchoolOpt = Annotated[
    int | None, typer.Option("--school", help="Act for this school (URN; a programme admin).")
]
_PRACTITIONER = re.compile(r"^\s*(?P<name>[^<]+?)\s*(?:<(?P<email>[^>]*)>)?\s*$")


def _day(text: str, what: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"{what} {text!r} should look like 2027-03-10") from None


def _e(text: object) -> str:
    return escape(str(text))


def _programme_lines(p: ProgrammeView) -> None:
    say(f"[bold]{_e(p.title)}[/bold] (programme {p.id}, workflow {_e(p.workflow)})")
    say(
        f"{_e(p.region_rule_words.capitalize())}; reflections due {p.reflection_weeks} weeks "
        f"after a visit; reminders {p.reminder_days} days before it."
    )
    if p.topics:
        table(
            "Topics",
            ["code", "topic", "suits"],
            [(t.code, t.title, t.phases_words) for t in p.topics],
        )
    if p.stakeholders:
        table(
            "Stakeholders",
            ["name", "e-mail", "organisation"],
            [(s.name, s.email, s.organisation) for s in p.stakeholders],
        )


@programme_app.command("create")
def programme_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The programme's name, e.g. Inside Knowledge.")],
    year: Annotated[str, typer.Argument(help="Its academic year, e.g. 2026-27.")],
    first_round_topics: Annotated[
        bool, typer.Option(help="Add the five topics of the first round.")
    ] = False,
    region_rule: Annotated[
        str, typer.Option(help="own_region (schools book in their region) or anywhere.")
    ] = "own_region",
    reflection_weeks: Annotated[int, typer.Option(help="Reflection due after weeks.")] = 8,
    reminder_days: Annotated[int, typer.Option(help="Visit reminder days before.")] = 7,
    json_: JsonOpt = False,
) -> None:
    """Create a programme (a programme admin)."""
    made = programme.create_programme(
        runtime(ctx),
        name=name,
        year=year,
        first_round_topics=first_round_topics,
        region_rule=region_rule,
        reflection_weeks=reflection_weeks,
        reminder_days=reminder_days,
    )
    if json_:
        print_json(made)
        return
    say(f"created programme {_e(made.title)} ({len(made.topics)} topics)")


@programme_app.command("show")
def programme_show(
    ctx: typer.Context,
    which: Annotated[str | None, typer.Argument(help="NAME/YEAR or number.")] = None,
    json_: JsonOpt = False,
) -> None:
    """A programme, its settings and topics."""
    found = programme.get_programme(runtime(ctx), programme=which)
    if json_:
        print_json(found)
        return
    _programme_lines(found)


@programme_app.command("list")
def programme_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Every programme, newest first."""
    found = programme.list_programmes(runtime(ctx))
    if json_:
        print_json(found)
        return
    table(
        "Programmes",
        ["number", "programme", "topics", "rule"],
        [(p.id, p.title, len(p.topics), p.region_rule_words) for p in found],
    )


@programme_app.command("set")
def programme_set(
    ctx: typer.Context,
    which: ProgrammeArg,
    region_rule: Annotated[str | None, typer.Option(help="own_region or anywhere.")] = None,
    reflection_weeks: Annotated[int | None, typer.Option(help="Reflection weeks.")] = None,
    reminder_days: Annotated[int | None, typer.Option(help="Reminder days.")] = None,
) -> None:
    """Change a programme's settings (a programme admin)."""
    _programme_lines(
        programme.update_settings(
            runtime(ctx),
            programme=which,
            region_rule=region_rule,
            reflection_weeks=reflection_weeks,
            reminder_days=reminder_days,
        )
    )


@topic_app.command("add")
def topic_add(
    ctx: typer.Context,
    which: ProgrammeArg,
    code: Annotated[str, typer.Argument(help="A short code, e.g. ks2-writing.")],
    title: Annotated[str, typer.Argument(help="The topic's title.")],
    phases: Annotated[str, typer.Option(help="Phases it suits, e.g. primary.")] = "",
    description: Annotated[str, typer.Option(help="A line about it.")] = "",
) -> None:
    """Add a topic (a programme admin)."""
    t = programme.add_topic(
        runtime(ctx),
        programme=which,
        code=code,
        title=title,
        phases=phases,
        description=description,
    )
    say(f"added topic {_e(t.code)}: {_e(t.title)} ({_e(t.phases_words)})")


@stakeholder_app.command("add")
def stakeholder_add(
    ctx: typer.Context,
    which: ProgrammeArg,
    email: Annotated[str, typer.Argument(help="A registered person's e-mail.")],
    organisation: Annotated[str, typer.Option(help="Their organisation, e.g. an LA.")],
) -> None:
    """Let a registered person nominate schools (a programme admin)."""
    s = programme.add_stakeholder(
        runtime(ctx), programme=which, email=email, organisation=organisation
    )
    say(f"{_e(s.name)} ({_e(s.organisation)}) may now nominate schools")


@app.command("nominate")
def nominate(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option(help="The topic's code.")],
    school: Annotated[int, typer.Option(help="URN of the school nominated.")],
    reason: Annotated[str, typer.Option(help="Why it excels in the topic.")],
    programme_: ProgrammeOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Nominate a school as a host for a topic (a stakeholder or an admin)."""
    n = nominations.nominate(
        runtime(ctx), programme=programme_, topic=topic, school=school, reason=reason
    )
    if json_:
        print_json(n)
        return
    say(f"nomination {n.id}: {_e(n.school_name)} for {_e(n.topic_title)} ({n.status_words})")


@app.command("nominations")
def list_nominations(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, approved or declined.")] = None,
    programme_: ProgrammeOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Nominations you may see (an admin all; a stakeholder theirs; a school its own)."""
    found = nominations.list_nominations(runtime(ctx), programme=programme_, status=status)
    if json_:
        print_json(found)
        return
    table(
        "Nominations",
        ["number", "school", "region", "topic", "by", "reason", "status"],
        [
            (
                n.id,
                n.school_name,
                n.region or "",
                n.topic_title,
                f"{n.nominated_by} ({n.organisation})" if n.organisation else n.nominated_by,
                n.reason,
                n.status_words,
            )
            for n in found
        ],
        optional=("reason",),
    )


@app.command("approve")
def approve(
    ctx: typer.Context,
    nomination: Annotated[int, typer.Argument(help="The nomination's number.")],
    note: Annotated[str, typer.Option(help="A note.")] = "",
) -> None:
    """Approve a nomination: the school may offer visits in the topic (a programme admin)."""
    n = nominations.approve(runtime(ctx), nomination=nomination, note=note)
    say(f"approved: {_e(n.school_name)} hosts visits in {_e(n.topic_title)}")


@app.command("decline")
def decline(
    ctx: typer.Context,
    nomination: Annotated[int, typer.Argument(help="The nomination's number.")],
    note: Annotated[str, typer.Option(help="Why it is declined.")],
) -> None:
    """Decline a nomination, saying why (a programme admin)."""
    n = nominations.decline(runtime(ctx), nomination=nomination, note=note)
    say(f"declined: {_e(n.school_name)} for {_e(n.topic_title)}")


def _offer_line(o: OfferView) -> str:
    places = f"{o.places_left} of {o.schools_max} places left"
    if o.waiting:
        places += f", {o.waiting} waiting"
    return (
        f"offer {o.id}: {_e(o.title)} at {_e(o.host_name)}, {o.visit_date:%a %d %b %Y} "
        f"{o.slot}: {_e(o.state_words)} ({places})"
    )


def _offers_table(title: str, found: list[OfferView] | tuple[OfferView, ...]) -> None:
    table(
        title,
        ["number", "visit", "host", "region", "topic", "date", "suits", "places", "km", "status"],
        [
            (
                o.id,
                o.title,
                o.host_name,
                o.region or "",
                o.topic_title,
                f"{o.visit_date:%d %b %Y} {o.slot}",
                o.phases_words,
                f"{o.places_left}/{o.schools_max}"
                + (f" +{o.waiting} waiting" if o.waiting else ""),
                "" if o.distance_km is None else f"{o.distance_km:.1f}",
                o.state_words,
            )
            for o in found
        ],
        optional=("region", "topic", "suits", "km"),
    )


@offer_app.command("create")
def offer_create(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option(help="The topic's code.")],
    title: Annotated[str, typer.Option(help="The visit's title.")],
    summary: Annotated[str, typer.Option(help="What visitors will see.")],
    on: Annotated[str, typer.Option("--date", help="The visit's date, YYYY-MM-DD.")],
    slot: Annotated[str, typer.Option(help="morning or afternoon.")],
    schools: Annotated[int, typer.Option(help="Visiting schools it takes (about 7).")],
    practitioners: Annotated[int, typer.Option(help="Practitioners per school (usually 2).")],
    deadline: Annotated[str, typer.Option(help="Booking deadline, YYYY-MM-DD.")],
    phases: Annotated[str, typer.Option(help="Phases it suits (the topic's if not given).")] = "",
    host: Annotated[int | None, typer.Option(help="Host URN (a programme admin).")] = None,
    programme_: ProgrammeOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Make a draft offer (an approved host's staff)."""
    made = offers.create_offer(
        runtime(ctx),
        programme=programme_,
        topic=topic,
        title=title,
        summary=summary,
        visit_date=_day(on, "visit date"),
        slot=slot,
        schools=schools,
        practitioners=practitioners,
        booking_deadline=_day(deadline, "booking deadline"),
        phases=phases,
        host=host,
    )
    if json_:
        print_json(made)
        return
    say(_offer_line(made))
    say(f"publish it with: review ik offer publish {made.id}")


ReasonOpt = Annotated[str, typer.Option(help="Why.")]


@offer_app.command("publish")
def offer_publish(ctx: typer.Context, offer: OfferArg) -> None:
    """Put a draft offer in the prospectus (its host or an admin)."""
    say(_offer_line(offers.publish(runtime(ctx), offer=offer)))


@offer_app.command("hold")
def offer_hold(ctx: typer.Context, offer: OfferArg, reason: ReasonOpt = "") -> None:
    """Take an offer out of the prospectus for now; bookings stay."""
    say(_offer_line(offers.hold(runtime(ctx), offer=offer, reason=reason)))


@offer_app.command("resume")
def offer_resume(ctx: typer.Context, offer: OfferArg) -> None:
    """Put a held offer back in the prospectus."""
    say(_offer_line(offers.resume(runtime(ctx), offer=offer)))


@offer_app.command("close")
def offer_close(ctx: typer.Context, offer: OfferArg) -> None:
    """Close an offer once its visit day has come."""
    say(_offer_line(offers.close(runtime(ctx), offer=offer)))


@offer_app.command("cancel")
def offer_cancel(
    ctx: typer.Context,
    offer: OfferArg,
    reason: Annotated[str, typer.Option(help="Why it is cancelled (told to the schools).")],
) -> None:
    """Cancel an offer; its bookings are cancelled and the schools told."""
    say(_offer_line(offers.cancel(runtime(ctx), offer=offer, reason=reason)))


@offer_app.command("show")
def offer_show(ctx: typer.Context, offer: OfferArg, json_: JsonOpt = False) -> None:
    """An offer, with its bookings, agenda and history as you may see them."""
    d = offers.show_offer(runtime(ctx), offer=offer)
    if json_:
        print_json(d)
        return
    o = d.offer
    say(_offer_line(o))
    say(f"{_e(o.topic_title)}; suits {_e(o.phases_words)}; book by {o.booking_deadline:%d %b %Y}")
    say(_e(o.summary))
    if d.bookings:
        _bookings_table("Bookings", d.bookings)
    if d.agenda is not None:
        say(
            f"agenda (version {d.agenda.version}): {_e(d.agenda.text)}"
            if d.agenda.version
            else "agenda: not published yet"
        )
        for q in d.agenda.questions:
            say(f"  question from {_e(q.school_name)}: {_e(q.text)}")
    if d.why_not and not d.may_manage:
        say(f"booking: {_e(d.why_not)}")
    for h in d.history:
        who = f" ({_e(h.school_name)})" if h.school_name else ""
        say(
            f"  {h.at:%d %b %Y %H:%M} {h.machine}{who}: {_e(h.from_words or 'new')} -> "
            f"{_e(h.to_words)} by {_e(h.actor)}" + (f": {_e(h.reason)}" if h.reason else "")
        )


@app.command("offers")
def list_offers(ctx: typer.Context, school: SchoolOpt = None, json_: JsonOpt = False) -> None:
    """Your school's offers as a host (an admin: --school)."""
    found = offers.host_offers(runtime(ctx), school=school)
    if json_:
        print_json(found)
        return
    _offers_table("Offers", found)


@app.command("search")
def search(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option(help="A topic's code.")] = None,
    region: Annotated[str | None, typer.Option(help="A region, e.g. 'North West'.")] = None,
    phase: Annotated[str | None, typer.Option(help="primary, secondary...")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="From YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="To YYYY-MM-DD.")] = None,
    text: Annotated[str | None, typer.Option(help="Words to find.")] = None,
    near: Annotated[str | None, typer.Option(help="Your school: URN or postcode.")] = None,
    within: Annotated[float | None, typer.Option(help="Within this many km of --near.")] = None,
    page: Annotated[int, typer.Option(help="Page number.")] = 1,
    programme_: ProgrammeOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Search the prospectus (anyone; no sign-in)."""
    found = prospectus.search(
        runtime(ctx),
        ProspectusQuery(
            programme=programme_,
            topic=topic,
            region=region,
            phase=phase,
            date_from=_day(date_from, "--from") if date_from else None,
            date_to=_day(date_to, "--to") if date_to else None,
            text=text,
            near=near,
            within_km=within,
            page=page,
        ),
    )
    if json_:
        print_json(found)
        return
    where = f", nearest to {_e(found.near_name)} first" if found.near_name else ""
    _offers_table(f"{found.programme_title}: prospectus", found.offers)
    say(f"{found.total} visits found{where}; page {found.page} of {found.pages}")


def _practitioners(given: list[str]) -> list[Practitioner]:
    found = []
    for text in given:
        match = _PRACTITIONER.match(text)
        if match is None:
            raise InvalidInput(f"practitioner {text!r}: give 'Name <email>' or a name")
        found.append(Practitioner(match["name"], (match["email"] or "").strip()))
    return found


def _booking_line(b: BookingView) -> str:
    where = f" (number {b.waitlist_position} on the waiting list)" if b.waitlist_position else ""
    return (
        f"booking {b.id}: {_e(b.school_name)} at {_e(b.host_name)} on "
        f"{b.visit_date:%a %d %b %Y}: {_e(b.state_words)}{where}"
    )


def _bookings_table(title: str, found: list[BookingView] | tuple[BookingView, ...]) -> None:
    table(
        title,
        ["number", "school", "visit", "host", "date", "practitioners", "status", "agenda"],
        [
            (
                b.id,
                b.school_name,
                b.offer_title,
                b.host_name,
                f"{b.visit_date:%d %b %Y}",
                ", ".join(p.name for p in b.practitioners),
                b.state_words + (f" (number {b.waitlist_position})" if b.waitlist_position else ""),
                "acknowledged" if b.agenda_acknowledged else "",
            )
            for b in found
        ],
        optional=("visit", "practitioners", "agenda"),
    )


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
        practitioners=_practitioners(practitioner),
        questions=question,
        school=school,
    )
    if json_:
        print_json(b)
        return
    say(_booking_line(b))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    booking: BookingArg,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Cancel a booking; a freed place goes to the first school waiting."""
    say(_booking_line(bookings.cancel(runtime(ctx), booking=booking, reason=reason)))


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
    _bookings_table("Bookings", found)


@app.command("attend")
def attend(ctx: typer.Context, booking: BookingArg) -> None:
    """Record that a confirmed school came (the host, on or after the day)."""
    say(_booking_line(bookings.mark(runtime(ctx), booking=booking, attended=True)))


@app.command("no-show")
def no_show(ctx: typer.Context, booking: BookingArg) -> None:
    """Record that a confirmed school did not come (the host, on or after the day)."""
    say(_booking_line(bookings.mark(runtime(ctx), booking=booking, attended=False)))


@agenda_app.command("propose")
def agenda_propose(
    ctx: typer.Context,
    booking: BookingArg,
    text: Annotated[str, typer.Argument(help="The question or item.")],
) -> None:
    """Propose a question for the agenda (a booked school)."""
    q = agenda.propose(runtime(ctx), booking=booking, text=text)
    say(f"question {q.id} from {_e(q.school_name)} added")


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
    say(f"{_e(b.school_name)} acknowledged the agenda for {_e(b.offer_title)}")


@agenda_app.command("show")
def agenda_show(ctx: typer.Context, offer: OfferArg, json_: JsonOpt = False) -> None:
    """The agenda and the questions proposed (host, admin, booked schools)."""
    a = agenda.show_agenda(runtime(ctx), offer=offer)
    if json_:
        print_json(a)
        return
    say(f"version {a.version}:\n{_e(a.text)}" if a.version else "not published yet")
    for q in a.questions:
        say(f"question from {_e(q.school_name)}: {_e(q.text)}")
    for name, done in a.acknowledged:
        say(f"{_e(name)}: {'acknowledged' if done else 'not yet acknowledged'}")


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
    say(f"feedback from {_e(f.school_name)} ({who}) recorded: {f.rating} of 5")


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
        f"reflection from {_e(f.school_name)} recorded"
        + (f": changed {_e(f.what_changed)}" if f.changed_practice else ": no change yet")
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
