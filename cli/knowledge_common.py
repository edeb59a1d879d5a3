"""What `review ik`'s commands share: their arguments and options, dates, and how offers and
bookings are printed (escaped: names and titles are users' text)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

import typer
from rich.markup import escape

from review_engine.errors import InvalidInput
from review_engine.services.knowledge.views import BookingView, OfferView, Practitioner

from .output import table

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


def day(text: str, what: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"{what} {text!r} should look like 2027-03-10") from None


def e(text: object) -> str:
    return escape(str(text))


def offer_line(o: OfferView) -> str:
    places = f"{o.places_left} of {o.schools_max} places left"
    if o.waiting:
        places += f", {o.waiting} waiting"
    return (
        f"offer {o.id}: {e(o.title)} at {e(o.host_name)}, {o.visit_date:%a %d %b %Y} "
        f"{o.slot}: {e(o.state_words)} ({places})"
    )


def offers_table(title: str, found: list[OfferView] | tuple[OfferView, ...]) -> None:
    """Offers, one a row; the distance shown when they were found near a school."""
    near = any(o.distance_km is not None for o in found)
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
        optional=("region", "topic", "suits") + (() if near else ("km",)),
    )


def practitioners(given: list[str]) -> list[Practitioner]:
    found = []
    for text in given:
        match = _PRACTITIONER.match(text)
        if match is None:
            raise InvalidInput(f"practitioner {text!r}: give 'Name <email>' or a name")
        found.append(Practitioner(match["name"], (match["email"] or "").strip()))
    return found


def booking_line(b: BookingView) -> str:
    where = f" (number {b.waitlist_position} on the waiting list)" if b.waitlist_position else ""
    return (
        f"booking {b.id}: {e(b.school_name)} at {e(b.host_name)} on "
        f"{b.visit_date:%a %d %b %Y}: {e(b.state_words)}{where}"
    )


def bookings_table(title: str, found: list[BookingView] | tuple[BookingView, ...]) -> None:
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
