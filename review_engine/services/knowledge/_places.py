"""The places of an offer: taken and freed under the offer's lock, the offer filled and
reopened, a freed place given to the first school waiting, and each school told of its
booking's new state (with the calendar invite when it holds a place), and the host too.
Used inside the booking and offer services' transactions; the consequences are fired as the
system."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    BookingState,
    BookingTrigger,
    OfferState,
    OfferTrigger,
    ProgrammeActor,
)
from review_engine.errors import Conflict
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge import _engine, _mail
from review_engine.services.knowledge._load import get_school, programme_title
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme
from review_engine.store.models import School


def change_places(session: Session, offer: IkOffer, by: int) -> None:
    """Places taken +1 or -1 under the offer's lock; a conditional UPDATE so even a writer
    without the lock could never pass the offer's size."""
    guard = (
        col(IkOffer.places_taken) < col(IkOffer.schools_max)
        if by > 0
        else col(IkOffer.places_taken) > 0
    )
    result = session.execute(
        update(IkOffer)
        .where(col(IkOffer.id) == offer.id, guard)
        .values(places_taken=IkOffer.places_taken + by)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"offer {offer.id}", "its places changed")
    set_committed_value(offer, "places_taken", offer.places_taken + by)


def fill_if_full(
    session: Session,
    programme: IkProgramme,
    offer: IkOffer,
    host: School,
    *,
    actor: Actor,
    today: date,
    at: datetime,
) -> None:
    """The consequence of taking the last place: the offer is full (fired as the system)."""
    assert programme.id is not None
    if offer.state != OfferState.PUBLISHED or offer.places_taken < offer.schools_max:
        return
    _offer_as_system(
        session,
        programme,
        offer,
        OfferTrigger.FILL,
        host,
        actor=actor,
        today=today,
        at=at,
        reason="the last place was taken",
    )


def _offer_as_system(
    session: Session,
    programme: IkProgramme,
    offer: IkOffer,
    trigger: OfferTrigger,
    host: School,
    *,
    actor: Actor,
    today: date,
    at: datetime,
    reason: str,
) -> None:
    """Fire a consequence on the offer as the system, the acting person named in its log."""
    assert programme.id is not None
    change = _engine.fire_offer(
        session,
        programme,
        offer,
        trigger,
        host_name=host.name,
        have={ProgrammeActor.SYSTEM},
        actor=actor,
        today=today,
    )
    _engine.write(
        session, programme.id, [change], actor=actor.name, at=at, reason=reason, records=[offer]
    )


def place_freed(
    session: Session,
    rt: Runtime,
    programme: IkProgramme,
    offer: IkOffer,
    host: School,
    *,
    actor: Actor,
    today: date,
    at: datetime,
    after: str,
) -> None:
    """Give the freed place to the first school waiting (confirmed at once, and told); with
    nobody waiting, a full offer opens again. Both fired as the system."""
    assert programme.id is not None
    first = session.exec(
        select(IkBooking)
        .where(IkBooking.offer_id == offer.id, IkBooking.state == BookingState.WAITLISTED)
        .order_by(col(IkBooking.id))
        .limit(1)
    ).first()
    if first is None:
        if offer.state == OfferState.FULL:
            _offer_as_system(
                session,
                programme,
                offer,
                OfferTrigger.REOPEN,
                host,
                actor=actor,
                today=today,
                at=at,
                reason=f"a place came free when {after} cancelled",
            )
        return
    school = get_school(session, first.school_urn)
    change = _engine.fire_booking(
        session,
        programme,
        offer,
        first,
        BookingTrigger.OFFER_PLACE,
        school=school,
        have={ProgrammeActor.SYSTEM},
        actor=actor,
        today=today,
    )
    _engine.write(
        session,
        programme.id,
        [change],
        actor=actor.name,
        at=at,
        reason=f"first on the waiting list when {after} cancelled",
        records=[first],
    )
    change_places(session, offer, +1)
    tell(session, rt, programme, offer, host, first, school, at=at, event="ik_place_offered")
    tell_host(session, rt, programme, offer, host, first, school, at=at)


def tell(
    session: Session,
    rt: Runtime,
    programme: IkProgramme,
    offer: IkOffer,
    host: School,
    booking: IkBooking,
    school: School,
    *,
    at: datetime,
    event: str | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    """Queue the notice of a booking's new state to its school's people (with the invite when
    it holds a place)."""
    events: dict[str, str] = {
        BookingState.CONFIRMED: "ik_confirmed",
        BookingState.WAITLISTED: "ik_waitlisted",
        BookingState.CANCELLED: "ik_cancelled",
    }
    event = event or events.get(booking.state)
    if event is None:
        return
    takers = _mail.school_takers(session, {school.urn})
    people = _mail.booking_people(booking, takers.get(school.urn, ()))
    position = None
    if booking.state == BookingState.WAITLISTED:
        position = session.exec(
            select(IkBooking.id).where(
                IkBooking.offer_id == offer.id,
                IkBooking.state == BookingState.WAITLISTED,
                col(IkBooking.id) <= booking.id,
            )
        ).all()
    holds_place = booking.state == BookingState.CONFIRMED
    mail = _mail.Mail(
        event=event,
        record=f"booking:{booking.id}",
        to=people,
        facts={
            **_mail.offer_facts(offer, host, programme_title(programme)),
            "school": school.name,
            "path": f"/inside-knowledge/bookings/{booking.id}",
        },
        extra={
            "position": len(position) if position is not None else None,
            "practitioners": [p.get("name", "") for p in booking.practitioners or []],
            "reason": "",
            "by_host": False,
            **(extra or {}),
        },
        school_urn=school.urn,
        invite=_mail.invite(offer, host, people, at=at)
        if holds_place
        else (
            _mail.invite(offer, host, people, at=at, cancelled=True, sequence=1)
            if event == "ik_cancelled"
            else None
        ),
    )
    _mail.queue(session, [mail], at=at, base_url=rt.settings.public_url)


_HOST_WORDS: dict[str, str] = {
    BookingState.CONFIRMED: "has a place on",
    BookingState.WAITLISTED: "joined the waiting list for",
    BookingState.CANCELLED: "cancelled its booking on",
}


def tell_host(
    session: Session,
    rt: Runtime,
    programme: IkProgramme,
    offer: IkOffer,
    host: School,
    booking: IkBooking,
    school: School,
    *,
    at: datetime,
) -> None:
    """Queue the host's notice of a booking's new state (to whoever made the offer and the
    host's people who take visit notices), with the places left and the schools waiting."""
    what = _HOST_WORDS.get(booking.state)
    if what is None:
        return
    takers = _mail.school_takers(session, {host.urn}).get(host.urn, [])
    to = [(offer.created_by, offer.created_by), *takers]
    waiting = session.exec(
        select(func.count())
        .select_from(IkBooking)
        .where(IkBooking.offer_id == offer.id, IkBooking.state == BookingState.WAITLISTED)
    ).one()
    mail = _mail.Mail(
        event="ik_host_booking",
        record=f"booking:{booking.id}:{booking.state}",
        to=tuple(to),
        facts={
            **_mail.offer_facts(offer, host, programme_title(programme)),
            "school": school.name,
            "path": f"/inside-knowledge/offers/{offer.id}",
        },
        extra={
            "what": what,
            "places_left": max(0, offer.schools_max - offer.places_taken),
            "waiting": waiting,
        },
        school_urn=host.urn,
    )
    _mail.queue(session, [mail], at=at, base_url=rt.settings.public_url)
