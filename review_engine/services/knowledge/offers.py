"""Visit offers: a host makes them, publishes, holds, resumes, closes or cancels them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    ACTIVE_BOOKING_STATES,
    BookingTrigger,
    OfferTrigger,
    ProgrammeActor,
    RecordScope,
    check_offer_dates,
    check_places,
    parse_phases,
    parse_slot,
    phases_text,
    phases_words,
    search_text,
    split_phases,
)
from review_engine.core.safe_text import NAME_MAX, check_day, check_int, check_name, check_text
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.rules.knowledge_policy import (
    acting_school,
    relations,
    require_offer_visible,
    require_signed_in,
    viewer,
)
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge import _engine, _mail, _places
from review_engine.services.knowledge._load import (
    find_programme,
    get_school,
    get_topic,
    lock_offer,
    now_and_today,
    offer_views,
    programme_title,
    schools,
)
from review_engine.services.knowledge.nominations import approved_topic_ids
from review_engine.services.knowledge.offer_page import show_offer
from review_engine.services.knowledge.views import OfferView
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme
from review_engine.store.models import School

SUMMARY_MAX = 4_000
__all__ = [
    "cancel",
    "close",
    "create_offer",
    "hold",
    "host_offers",
    "publish",
    "resume",
    "show_offer",  # the offer's page, from offer_page
]


def create_offer(
    rt: Runtime,
    *,
    programme: str | None,
    topic: str,
    title: str,
    summary: str,
    visit_date: date,
    slot: str,
    schools: int,
    practitioners: int,
    booking_deadline: date,
    phases: str = "",
    host: int | None = None,
) -> OfferView:
    """A draft offer by an approved host for a topic (host staff, or an admin naming `host`)."""
    title = check_name(title, "title", max_len=NAME_MAX).strip()
    summary = check_text(summary, "what visitors will see", max_len=SUMMARY_MAX).strip()
    if not summary:
        raise InvalidInput("say what visitors will see (--summary)")
    chosen_slot = parse_slot(slot)
    check_places(schools, practitioners)
    check_day(visit_date, "visit date")
    check_day(booking_deadline, "booking deadline")
    keys = parse_phases(phases)
    now, today = now_and_today(rt.clock.now())
    check_offer_dates(visit_date=visit_date, deadline=booking_deadline, today=today)
    with rt.db.transaction() as session:
        found = find_programme(session, programme)
        assert found.id is not None
        actor, urn = acting_school(viewer(session, rt.actor), host, "make visit offers")
        school = get_school(session, urn)
        chosen = get_topic(session, found.id, topic)
        assert chosen.id is not None
        if chosen.id not in approved_topic_ids(session, found.id, urn):
            raise NotPermitted(
                actor.name,
                f"offer visits in {chosen.title}",
                f"{school.name} is not an approved host for it",
            )
        allowed = split_phases(chosen.phases)
        if allowed and not keys:
            keys = allowed
        if allowed and set(keys) - set(allowed):
            raise InvalidInput(
                f"{chosen.title} is for {phases_words(allowed)} schools; the offer cannot suit "
                f"{phases_words(set(keys) - set(allowed))}"
            )
        offer = IkOffer(
            programme_id=found.id,
            topic_id=chosen.id,
            host_urn=urn,
            title=title,
            summary=summary,
            visit_date=visit_date,
            slot=chosen_slot.value,
            phases=phases_text(keys),
            schools_max=schools,
            practitioners_per_school=practitioners,
            booking_deadline=booking_deadline,
            region=school.region,
            easting=school.easting,
            northing=school.northing,
            search_text=search_text(title, summary, school.name, school.town, chosen.title),
            created_by=actor.name,
            created_at=now,
        )
        session.add(offer)
        session.flush()
        assert offer.id is not None
        _engine.log(
            session,
            found.id,
            [
                _engine.Change(
                    RecordScope.OFFER,
                    offer.id,
                    offer.id,
                    _engine.NO_STATE,
                    offer.state,
                    "create",
                    0,
                )
            ],
            actor=actor.name,
            at=now,
        )
        return offer_views(session, [offer], today)[0]


def _managed(
    session: Session, rt: Runtime, offer_id: int
) -> tuple[Actor, IkProgramme, IkOffer, School]:
    """The offer, locked, for someone who may manage it (NotFound for anyone else)."""
    check_int(offer_id, "offer")
    reader = viewer(session, rt.actor)
    offer = lock_offer(session, offer_id)
    if offer is None:
        raise NotFound("offer", offer_id)
    require_offer_visible(reader, offer_id=offer_id, state=offer.state, host_urn=offer.host_urn)
    actor = require_signed_in(reader, "manage visit offers")
    programme = session.get(IkProgramme, offer.programme_id)
    assert programme is not None
    return actor, programme, offer, get_school(session, offer.host_urn)


def _fire_offer(
    rt: Runtime, offer_id: int, trigger: OfferTrigger, reason: str | None = None
) -> OfferView:
    now, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        actor, programme, offer, host = _managed(session, rt, offer_id)
        assert programme.id is not None
        have = relations(actor, host_urn=offer.host_urn)
        approved = trigger is OfferTrigger.PUBLISH and offer.topic_id in approved_topic_ids(
            session, programme.id, offer.host_urn
        )
        change = _engine.fire_offer(
            session,
            programme,
            offer,
            trigger,
            host_name=host.name,
            have=have,
            actor=actor,
            today=today,
            host_approved=approved,
            reason=reason,
        )
        _engine.write(
            session,
            programme.id,
            [change],
            actor=actor.name,
            at=now,
            reason=reason,
            records=[offer],
        )
        if trigger is OfferTrigger.RESUME and offer.places_taken >= offer.schools_max:
            _places.fill_if_full(session, programme, offer, host, actor=actor, today=today, at=now)
        if trigger is OfferTrigger.CANCEL:
            _cancel_bookings(
                session, rt, programme, offer, host, actor=actor, today=today, reason=reason or ""
            )
        return offer_views(session, [offer], today)[0]


def _cancel_bookings(
    session: Session,
    rt: Runtime,
    programme: IkProgramme,
    offer: IkOffer,
    host: School,
    *,
    actor: Actor,
    today: date,
    reason: str,
) -> None:
    """Cancel every active booking of a cancelled offer (as the system) and tell each school."""
    assert programme.id is not None
    rows = list(
        session.exec(
            select(IkBooking).where(
                IkBooking.offer_id == offer.id, col(IkBooking.state).in_(ACTIVE_BOOKING_STATES)
            )
        ).all()
    )
    if not rows:
        return
    names = schools(session, {b.school_urn for b in rows})
    changes = [
        _engine.fire_booking(
            session,
            programme,
            offer,
            b,
            BookingTrigger.CANCEL,
            school=names[b.school_urn],
            have={ProgrammeActor.SYSTEM},
            actor=actor,
            today=today,
        )
        for b in rows
    ]
    now = rt.clock.now()
    _engine.write(
        session,
        programme.id,
        changes,
        actor=actor.name,
        at=now,
        reason=f"the offer was cancelled: {reason}",
        records=rows,
    )
    takers = _mail.school_takers(session, {b.school_urn for b in rows})
    facts = _mail.offer_facts(offer, host, programme_title(programme))
    mails = []
    for b in rows:
        people = _mail.booking_people(b, takers.get(b.school_urn, ()))
        mails.append(
            _mail.Mail(
                event="ik_cancelled",
                record=f"booking:{b.id}",
                to=people,
                facts={
                    **facts,
                    "school": names[b.school_urn].name,
                    "path": f"/inside-knowledge/bookings/{b.id}",
                },
                extra={"reason": f"The host cancelled the visit: {reason}", "by_host": True},
                school_urn=b.school_urn,
                invite=_mail.invite(offer, host, people, at=now, cancelled=True, sequence=1),
            )
        )
    _mail.queue(session, mails, at=now, base_url=rt.settings.public_url)


def publish(rt: Runtime, *, offer: int) -> OfferView:
    """Put a draft offer in the prospectus (host or admin)."""
    return _fire_offer(rt, offer, OfferTrigger.PUBLISH)


def hold(rt: Runtime, *, offer: int, reason: str = "") -> OfferView:
    """Take an offer out of the prospectus for now (host or admin); bookings stay."""
    reason = check_text(reason, "reason").strip()
    return _fire_offer(rt, offer, OfferTrigger.HOLD, reason or None)


def resume(rt: Runtime, *, offer: int) -> OfferView:
    """Put a held offer back (full again at once if every place is taken)."""
    return _fire_offer(rt, offer, OfferTrigger.RESUME)


def close(rt: Runtime, *, offer: int) -> OfferView:
    """Close an offer once its visit day has come (host, admin, or the reminders' tick)."""
    return _fire_offer(rt, offer, OfferTrigger.CLOSE)


def cancel(rt: Runtime, *, offer: int, reason: str) -> OfferView:
    """Cancel an offer before its day; every booking on it is cancelled and told (host, admin)."""
    reason = check_text(reason, "reason").strip()
    return _fire_offer(rt, offer, OfferTrigger.CANCEL, reason)


def host_offers(rt: Runtime, *, school: int | None = None) -> list[OfferView]:
    """Every offer a host school made, soonest first (its staff, or an admin naming `school`)."""
    _, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        _, urn = acting_school(viewer(session, rt.actor), school, "see a host's offers")
        rows = list(
            session.exec(
                select(IkOffer)
                .where(IkOffer.host_urn == urn)
                .order_by(col(IkOffer.visit_date), col(IkOffer.id))
            ).all()
        )
        return offer_views(session, rows, today)
