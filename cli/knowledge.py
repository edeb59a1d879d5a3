"""`review ik`: Inside Knowledge, a national prospectus of host-school visits, with booking and
feedback. Programmes and topics, stakeholders and nominations, offers and the public prospectus
here; bookings and the waiting list, the agenda, attendance, feedback, reflections, the quality
report, the host's visit pack and the reminders' tick in `knowledge_visits`."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.core.knowledge import ProspectusQuery
from review_engine.services.knowledge import nominations, offers, programme, prospectus
from review_engine.services.knowledge.views import ProgrammeView

from . import knowledge_visits
from .context import runtime
from .knowledge_common import (
    JsonOpt,
    OfferArg,
    ProgrammeArg,
    ProgrammeOpt,
    SchoolOpt,
    bookings_table,
    day,
    e,
    offer_line,
    offers_table,
)
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


def _programme_lines(p: ProgrammeView) -> None:
    say(f"[bold]{e(p.title)}[/bold] (programme {p.id}, workflow {e(p.workflow)})")
    say(
        f"{e(p.region_rule_words.capitalize())}; reflections due {p.reflection_weeks} weeks "
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
    say(f"created programme {e(made.title)} ({len(made.topics)} topics)")


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
    say(f"added topic {e(t.code)}: {e(t.title)} ({e(t.phases_words)})")


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
    say(f"{e(s.name)} ({e(s.organisation)}) may now nominate schools")


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
    say(f"nomination {n.id}: {e(n.school_name)} for {e(n.topic_title)} ({n.status_words})")


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
    say(f"approved: {e(n.school_name)} hosts visits in {e(n.topic_title)}")


@app.command("decline")
def decline(
    ctx: typer.Context,
    nomination: Annotated[int, typer.Argument(help="The nomination's number.")],
    note: Annotated[str, typer.Option(help="Why it is declined.")],
) -> None:
    """Decline a nomination, saying why (a programme admin)."""
    n = nominations.decline(runtime(ctx), nomination=nomination, note=note)
    say(f"declined: {e(n.school_name)} for {e(n.topic_title)}")


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
        visit_date=day(on, "visit date"),
        slot=slot,
        schools=schools,
        practitioners=practitioners,
        booking_deadline=day(deadline, "booking deadline"),
        phases=phases,
        host=host,
    )
    if json_:
        print_json(made)
        return
    say(offer_line(made))
    say(f"publish it with: review ik offer publish {made.id}")


ReasonOpt = Annotated[str, typer.Option(help="Why.")]


@offer_app.command("publish")
def offer_publish(ctx: typer.Context, offer: OfferArg) -> None:
    """Put a draft offer in the prospectus (its host or an admin)."""
    say(offer_line(offers.publish(runtime(ctx), offer=offer)))


@offer_app.command("hold")
def offer_hold(ctx: typer.Context, offer: OfferArg, reason: ReasonOpt = "") -> None:
    """Take an offer out of the prospectus for now; bookings stay."""
    say(offer_line(offers.hold(runtime(ctx), offer=offer, reason=reason)))


@offer_app.command("resume")
def offer_resume(ctx: typer.Context, offer: OfferArg) -> None:
    """Put a held offer back in the prospectus."""
    say(offer_line(offers.resume(runtime(ctx), offer=offer)))


@offer_app.command("close")
def offer_close(ctx: typer.Context, offer: OfferArg) -> None:
    """Close an offer once its visit day has come."""
    say(offer_line(offers.close(runtime(ctx), offer=offer)))


@offer_app.command("cancel")
def offer_cancel(
    ctx: typer.Context,
    offer: OfferArg,
    reason: Annotated[str, typer.Option(help="Why it is cancelled (told to the schools).")],
) -> None:
    """Cancel an offer; its bookings are cancelled and the schools told."""
    say(offer_line(offers.cancel(runtime(ctx), offer=offer, reason=reason)))


@offer_app.command("show")
def offer_show(ctx: typer.Context, offer: OfferArg, json_: JsonOpt = False) -> None:
    """An offer, with its bookings, agenda and history as you may see them."""
    d = offers.show_offer(runtime(ctx), offer=offer)
    if json_:
        print_json(d)
        return
    o = d.offer
    say(offer_line(o))
    say(f"{e(o.topic_title)}; suits {e(o.phases_words)}; book by {o.booking_deadline:%d %b %Y}")
    say(e(o.summary))
    if d.bookings:
        bookings_table("Bookings", d.bookings)
    if d.agenda is not None:
        say(
            f"agenda (version {d.agenda.version}): {e(d.agenda.text)}"
            if d.agenda.version
            else "agenda: not published yet"
        )
        for q in d.agenda.questions:
            say(f"  question from {e(q.school_name)}: {e(q.text)}")
    if d.why_not and not d.may_manage:
        say(f"booking: {e(d.why_not)}")
    for h in d.history:
        who = f" ({e(h.school_name)})" if h.school_name else ""
        say(
            f"  {h.at:%d %b %Y %H:%M} {h.machine}{who}: {e(h.from_words or 'new')} -> "
            f"{e(h.to_words)} by {e(h.actor)}" + (f": {e(h.reason)}" if h.reason else "")
        )


@app.command("offers")
def list_offers(ctx: typer.Context, school: SchoolOpt = None, json_: JsonOpt = False) -> None:
    """Your school's offers as a host (an admin: --school)."""
    found = offers.host_offers(runtime(ctx), school=school)
    if json_:
        print_json(found)
        return
    offers_table("Offers", found)


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
            date_from=day(date_from, "--from") if date_from else None,
            date_to=day(date_to, "--to") if date_to else None,
            text=text,
            near=near,
            within_km=within,
            page=page,
        ),
    )
    if json_:
        print_json(found)
        return
    where = f", nearest to {e(found.near_name)} first" if found.near_name else ""
    offers_table(f"{found.programme_title}: prospectus", found.offers)
    visits = "visit" if found.total == 1 else "visits"
    say(f"{found.total} {visits} found{where}; page {found.page} of {found.pages}")


knowledge_visits.register(app, agenda_app)
