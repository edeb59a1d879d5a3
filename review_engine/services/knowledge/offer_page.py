"""One offer as its page shows it to each reader: what anyone may read, the bookings, agenda
and history its host and admins see, the reader's own booking, whether the reader's school may
book it now (and why not), and what the reader may do to it now."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    ACTIVE_BOOKING_STATES,
    BookingState,
    RecordScope,
    booking_state_words,
    offer_state_words,
)
from review_engine.core.safe_text import check_int
from review_engine.errors import NotFound
from review_engine.rules.knowledge_guards import KNOWLEDGE_GUARDS, KnowledgeGuardInput
from review_engine.rules.knowledge_policy import (
    may_manage_offer,
    relations,
    require_offer_visible,
    viewer,
)
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge import _engine
from review_engine.services.knowledge._load import (
    booking_views,
    get_offer,
    get_school,
    now_and_today,
    offer_views,
    programme_title,
)
from review_engine.services.knowledge.agenda import agenda_view
from review_engine.services.knowledge.nominations import approved_topic_ids
from review_engine.services.knowledge.views import OfferDetail, TransitionView
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme, IkTransition
from review_engine.store.models import School


def why_not_book(
    reader: Actor | None,
    programme: IkProgramme,
    offer: IkOffer,
    school: School | None,
    *,
    today: date,
    booked: bool,
) -> str:
    """Why the reader's school may not book this offer now, in words ('' when it may)."""
    if reader is None:
        return "sign in to book"
    if school is None:
        return "only staff of a school book visits"
    if booked:
        return "your school has already booked this visit"
    guard_input = KnowledgeGuardInput(programme=programme, offer=offer, today=today, school=school)
    for name in ("booking_open", "school_eligible"):
        why = KNOWLEDGE_GUARDS[name](guard_input)
        if why:
            return why
    return ""


def show_offer(rt: Runtime, *, offer: int) -> OfferDetail:
    """One offer as the actor may see it (anyone for a listed or closed offer; a draft, held or
    cancelled offer only for its host and admins: NotFound for others)."""
    check_int(offer, "offer")
    _, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = get_offer(session, offer)
        if row is None:
            raise NotFound("offer", offer)
        require_offer_visible(reader, offer_id=offer, state=row.state, host_urn=row.host_urn)
        programme = session.get(IkProgramme, row.programme_id)
        assert programme is not None and programme.id is not None
        view = offer_views(session, [row], today)[0]
        manage = may_manage_offer(reader, host_urn=row.host_urn)
        query = select(IkBooking).where(IkBooking.offer_id == row.id)
        own_urn = reader.school_urn if reader is not None else None
        if not manage:
            query = query.where(IkBooking.school_urn == (own_urn or -1))
        rows = list(session.exec(query.order_by(col(IkBooking.id))).all())
        weeks = {programme.id: programme.reflection_weeks}
        bookings = booking_views(
            session, rows, offers={offer: row}, with_questions=manage, reflection_weeks=weeks
        )
        order: dict[str, int] = {
            BookingState.CONFIRMED: 0,
            BookingState.ATTENDED: 0,
            BookingState.NO_SHOW: 0,
        }
        bookings.sort(key=lambda b: (order.get(b.state, 1), b.waitlist_position or 0, b.id))
        active = [
            b for b in bookings if b.school_urn == own_urn and b.state in ACTIVE_BOOKING_STATES
        ]
        yours = (
            active[0] if active else next((b for b in bookings if b.school_urn == own_urn), None)
        )
        sees_agenda = manage or bool(active)
        own_school = session.get(School, own_urn) if own_urn is not None else None
        why = why_not_book(reader, programme, row, own_school, today=today, booked=bool(active))
        have = relations(reader, host_urn=row.host_urn)
        machine = _engine.compiled(session, programme).definition.record_machine(RecordScope.OFFER)
        guard_input = KnowledgeGuardInput(
            programme=programme,
            offer=row,
            today=today,
            host_approved=manage
            and row.topic_id in approved_topic_ids(session, programme.id, row.host_urn),
        )
        # What the reader may do now: their relation is among the transition's actors and
        # its guards pass (a reason, where needed, is asked for when they do it).
        allowed = tuple(
            t
            for t in machine.allowed(row.state)
            if {h.value for h in have} & set(machine.by_state[row.state][t].actors)
            and not any(
                KNOWLEDGE_GUARDS[g](guard_input) for g in machine.by_state[row.state][t].guards
            )
        )
        history: tuple[TransitionView, ...] = ()
        if manage:
            history = _history(session, row.id or 0, {b.id: b.school_name for b in bookings})
        return OfferDetail(
            offer=view,
            programme_title=programme_title(programme),
            host_postcode=get_school(session, row.host_urn).postcode,
            agenda=agenda_view(session, row, with_acks=manage) if sees_agenda else None,
            bookings=tuple(bookings),
            your_booking=yours,
            may_book=not why,
            why_not=why,
            may_manage=manage,
            allowed=allowed,
            history=history,
        )


def _history(session: Session, offer_id: int, names: dict[int, str]) -> tuple[TransitionView, ...]:
    rows = session.exec(
        select(IkTransition).where(IkTransition.offer_id == offer_id).order_by(col(IkTransition.id))
    ).all()
    words = {"offer": offer_state_words, "booking": booking_state_words}
    return tuple(
        TransitionView(
            machine=r.machine,
            booking_id=r.booking_id,
            school_name=names.get(r.booking_id) if r.booking_id else None,
            from_words=words[r.machine](r.from_state) if r.from_state else "",
            to_words=words[r.machine](r.to_state),
            trigger=r.trigger,
            actor=r.actor,
            reason=r.reason,
            at=r.at,
        )
        for r in rows
    )
