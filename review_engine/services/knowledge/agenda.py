"""The outline agenda: visiting schools propose questions, the host publishes the agenda,
each confirmed school acknowledges it."""

from __future__ import annotations

from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    ACTIVE_BOOKING_STATES,
    BookingState,
    OfferState,
    offer_state_words,
)
from review_engine.core.safe_text import check_int, check_text
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules.knowledge_policy import (
    may_manage_offer,
    require_booking_visible,
    require_signed_in,
    viewer,
)
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge import _mail
from review_engine.services.knowledge._load import (
    booking_views,
    get_booking,
    get_offer,
    get_school,
    lock_offer,
    now_and_today,
    programme_title,
    schools,
)
from review_engine.services.knowledge.views import AgendaView, BookingView, QuestionView
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme, IkQuestion

QUESTION_MAX = 2_000
AGENDA_MAX = 10_000
_OPEN_OFFER = (OfferState.PUBLISHED, OfferState.FULL, OfferState.HELD)


def agenda_view(session: Session, offer: IkOffer, *, with_acks: bool = True) -> AgendaView:
    """The agenda with its questions and who acknowledged it (two queries)."""
    assert offer.id is not None
    rows = session.exec(
        select(IkQuestion, IkBooking.school_urn)
        .join(IkBooking, IkBooking.id == IkQuestion.booking_id)  # type: ignore[arg-type]
        .where(IkQuestion.offer_id == offer.id)
        .order_by(col(IkQuestion.id))
    ).all()
    confirmed = (
        list(
            session.exec(
                select(IkBooking)
                .where(IkBooking.offer_id == offer.id, IkBooking.state == BookingState.CONFIRMED)
                .order_by(col(IkBooking.id))
            ).all()
        )
        if with_acks
        else []
    )
    names = schools(session, {u for _, u in rows} | {b.school_urn for b in confirmed})
    return AgendaView(
        offer_id=offer.id,
        text=offer.agenda,
        version=offer.agenda_version,
        published_at=offer.agenda_published_at,
        questions=tuple(
            QuestionView(q.id or 0, urn, names[urn].name, q.text, q.asked_at) for q, urn in rows
        ),
        acknowledged=tuple(
            (
                names[b.school_urn].name,
                offer.agenda_version > 0 and b.agenda_ack_version == offer.agenda_version,
            )
            for b in confirmed
        ),
    )


def _booking_for_school(
    session: Session, rt: Runtime, booking: int, action: str
) -> tuple[Actor, IkBooking, IkOffer]:
    """A booking its own school (or an admin) acts on; NotFound for anyone who may not see it,
    NotPermitted for the host (who sees it but does not act for the visiting school)."""
    check_int(booking, "booking")
    reader = viewer(session, rt.actor)
    row = get_booking(session, booking)
    if row is None:
        raise NotFound("booking", booking)
    offer = get_offer(session, row.offer_id)
    assert offer is not None
    require_booking_visible(
        reader, booking_id=booking, host_urn=offer.host_urn, booking_urn=row.school_urn
    )
    actor = require_signed_in(reader, action)
    if not (actor.admin or actor.school_urn == row.school_urn):
        from review_engine.errors import NotPermitted

        raise NotPermitted(actor.name, action, "only the visiting school or an admin may")
    return actor, row, offer


def propose(rt: Runtime, *, booking: int, text: str) -> QuestionView:
    """A question or item for the agenda from a booked school (its staff, or an admin)."""
    text = check_text(text, "question", max_len=QUESTION_MAX).strip()
    if not text:
        raise InvalidInput("the question is empty")
    with rt.db.transaction() as session:
        actor, row, offer = _booking_for_school(session, rt, booking, "propose agenda questions")
        if row.state not in ACTIVE_BOOKING_STATES:
            raise InvalidInput(
                f"booking {booking} is {row.state.replace('_', ' ')}; it takes no questions"
            )
        question = IkQuestion(
            offer_id=offer.id or 0,
            booking_id=row.id or 0,
            text=text,
            asked_by=actor.name,
            asked_at=rt.clock.now(),
        )
        session.add(question)
        session.flush()
        school = get_school(session, row.school_urn)
        return QuestionView(question.id or 0, school.urn, school.name, text, question.asked_at)


def publish_agenda(rt: Runtime, *, offer: int, text: str) -> AgendaView:
    """Publish (or republish) the outline agenda; confirmed schools are told (host, admin)."""
    check_int(offer, "offer")
    text = check_text(text, "agenda", max_len=AGENDA_MAX).strip()
    if not text:
        raise InvalidInput("the agenda is empty")
    now, _ = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = lock_offer(session, offer)
        if row is None or not may_manage_offer(reader, host_urn=row.host_urn):
            raise NotFound("offer", offer)
        if row.state not in _OPEN_OFFER:
            raise InvalidInput(
                f"offer {offer} is {offer_state_words(row.state).lower()}; "
                "an agenda is published for an offer in the prospectus"
            )
        row.agenda = text
        row.agenda_version += 1
        row.agenda_published_at = now
        session.add(row)
        session.flush()
        programme = session.get(IkProgramme, row.programme_id)
        assert programme is not None
        host = get_school(session, row.host_urn)
        confirmed = list(
            session.exec(
                select(IkBooking).where(
                    IkBooking.offer_id == row.id, IkBooking.state == BookingState.CONFIRMED
                )
            ).all()
        )
        takers = _mail.school_takers(session, {b.school_urn for b in confirmed})
        names = schools(session, {b.school_urn for b in confirmed})
        facts = _mail.offer_facts(row, host, programme_title(programme))
        _mail.queue(
            session,
            [
                _mail.Mail(
                    event="ik_agenda",
                    record=f"booking:{b.id}",
                    occasion=f"v{row.agenda_version}",
                    to=_mail.booking_people(b, takers.get(b.school_urn, ())),
                    facts={
                        **facts,
                        "school": names[b.school_urn].name,
                        "path": f"/inside-knowledge/bookings/{b.id}",
                    },
                    extra={"agenda": text, "version": row.agenda_version},
                    school_urn=b.school_urn,
                )
                for b in confirmed
            ],
            at=now,
            base_url=rt.settings.public_url,
        )
        return agenda_view(session, row)


def acknowledge(rt: Runtime, *, booking: int) -> BookingView:
    """A confirmed school acknowledges the agenda as now published (its staff, an admin)."""
    with rt.db.transaction() as session:
        actor, row, offer = _booking_for_school(session, rt, booking, "acknowledge the agenda")
        if row.state != BookingState.CONFIRMED:
            raise InvalidInput(
                f"booking {booking} is not confirmed; only confirmed schools acknowledge the agenda"
            )
        if offer.agenda_version == 0:
            raise InvalidInput("the host has not published the agenda yet")
        row.agenda_ack_version = offer.agenda_version
        row.agenda_ack_by = actor.name
        row.agenda_ack_at = rt.clock.now()
        session.add(row)
        session.flush()
        return booking_views(session, [row], offers={offer.id or 0: offer})[0]


def show_agenda(rt: Runtime, *, offer: int) -> AgendaView:
    """The agenda with its proposed questions (host, admin, booked schools; NotFound else)."""
    check_int(offer, "offer")
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = get_offer(session, offer)
        if row is None:
            raise NotFound("offer", offer)
        manage = may_manage_offer(reader, host_urn=row.host_urn)
        if not manage:
            own = reader.school_urn if reader is not None else None
            booked = (
                own is not None
                and session.exec(
                    select(IkBooking.id).where(
                        IkBooking.offer_id == offer,
                        IkBooking.school_urn == own,
                        col(IkBooking.state).in_(
                            (*ACTIVE_BOOKING_STATES, BookingState.ATTENDED, BookingState.NO_SHOW)
                        ),
                    )
                ).first()
            )
            if not booked:
                raise NotFound("offer", offer)
        return agenda_view(session, row, with_acks=manage)
