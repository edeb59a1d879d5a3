"""Bookings: a school books places for named practitioners; capacity is never oversold; a
cancellation offers the freed place to the first school on the waiting list.

Every booking and cancellation first locks its offer's row (PostgreSQL `FOR UPDATE`; on
SQLite the transaction's BEGIN IMMEDIATE already makes writers take turns), so the places
taken are read and changed by one writer at a time: the last places go to exactly as many
schools as fit and the rest join the waiting list in the order they came. A freed place is
given to the first school waiting at once (it is confirmed and told, with the invite).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    ACTIVE_BOOKING_STATES,
    BookingState,
    BookingTrigger,
    ProgrammeActor,
    RecordScope,
    booking_state_words,
)
from review_engine.core.safe_text import EMAIL_MAX, NAME_MAX, check_int, check_text
from review_engine.errors import GuardRejected, InvalidInput, NotFound
from review_engine.rules.knowledge_policy import (
    acting_school,
    may_manage_offer,
    relations,
    require_booking_visible,
    require_offer_visible,
    require_signed_in,
    viewer,
)
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge import _engine, _mail, _places
from review_engine.services.knowledge._load import (
    booking_views,
    get_booking,
    get_school,
    lock_offer,
    now_and_today,
)
from review_engine.services.knowledge.agenda import QUESTION_MAX
from review_engine.services.knowledge.views import BookingView, Practitioner
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme, IkQuestion


def _practitioners(given: Sequence[Practitioner]) -> list[Practitioner]:
    if not given:
        raise InvalidInput("name at least one practitioner who will come (--practitioner)")
    seen: set[str] = set()
    found = []
    for p in given:
        name = check_text(p.name, "practitioner's name", max_len=NAME_MAX, multiline=False).strip()
        email = check_text(p.email, "practitioner's e-mail", max_len=EMAIL_MAX, multiline=False)
        email = email.strip().lower()
        role = check_text(p.role, "practitioner's role", max_len=NAME_MAX, multiline=False)
        if not name:
            raise InvalidInput("a practitioner has no name")
        if email and not _mail.is_email(email):
            raise InvalidInput(f"{name}'s e-mail {email!r} is not an e-mail address")
        key = email or name.casefold()
        if key in seen:
            raise InvalidInput(f"{name} is named twice")
        seen.add(key)
        found.append(Practitioner(name, email, role.strip()))
    return found


def book(
    rt: Runtime,
    *,
    offer: int,
    practitioners: Sequence[Practitioner],
    questions: str = "",
    school: int | None = None,
) -> BookingView:
    """Book the acting person's school (or, for an admin, `school`) on an offer: confirmed
    while places last, else on the waiting list, in order."""
    check_int(offer, "offer")
    people = _practitioners(practitioners)
    questions = check_text(questions, "questions", max_len=QUESTION_MAX).strip()
    now, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = lock_offer(session, offer)
        if row is None:
            raise NotFound("offer", offer)
        require_offer_visible(reader, offer_id=offer, state=row.state, host_urn=row.host_urn)
        actor, urn = acting_school(reader, school, "book visits")
        visiting = get_school(session, urn)
        programme = session.get(IkProgramme, row.programme_id)
        assert programme is not None and programme.id is not None and row.id is not None
        if len(people) > row.practitioners_per_school:
            raise InvalidInput(
                f"this visit takes {row.practitioners_per_school} practitioner"
                f"{'s' if row.practitioners_per_school != 1 else ''} per school; "
                f"{len(people)} named"
            )
        existing = session.exec(
            select(IkBooking.state).where(
                IkBooking.offer_id == row.id,
                IkBooking.school_urn == urn,
                col(IkBooking.state).in_(ACTIVE_BOOKING_STATES),
            )
        ).first()
        if existing is not None:
            raise InvalidInput(
                f"{visiting.name} has already booked this visit "
                f"({booking_state_words(existing).lower()})"
            )
        booking = IkBooking(
            offer_id=row.id,
            school_urn=urn,
            practitioners=[dataclasses.asdict(p) for p in people],
            requested_by=actor.name,
            requested_at=now,
        )
        session.add(booking)
        session.flush()
        assert booking.id is not None
        trigger = (
            BookingTrigger.CONFIRM
            if row.places_taken < row.schools_max
            else BookingTrigger.WAITLIST
        )
        try:
            change = _engine.fire_booking(
                session,
                programme,
                row,
                booking,
                trigger,
                school=visiting,
                have=relations(actor, host_urn=row.host_urn, booking_urn=urn),
                actor=actor,
                today=today,
            )
        except GuardRejected as exc:
            exc.message = f"{visiting.name} cannot book offer {row.id} ({row.title}): {exc.why}"
            exc.args = (exc.message,)
            raise
        first = _engine.Change(
            RecordScope.BOOKING, booking.id, row.id, _engine.NO_STATE, booking.state, "request", 0
        )
        _engine.log(session, programme.id, [first], actor=actor.name, at=now)
        _engine.write(session, programme.id, [change], actor=actor.name, at=now, records=[booking])
        host = get_school(session, row.host_urn)
        if booking.state == BookingState.CONFIRMED:
            _places.change_places(session, row, +1)
            _places.fill_if_full(session, programme, row, host, actor=actor, today=today, at=now)
        if questions:
            session.add(
                IkQuestion(
                    offer_id=row.id,
                    booking_id=booking.id,
                    text=questions,
                    asked_by=actor.name,
                    asked_at=now,
                )
            )
            session.flush()
        _places.tell(session, rt, programme, row, host, booking, visiting, at=now)
        _places.tell_host(session, rt, programme, row, host, booking, visiting, at=now)
        return booking_views(
            session,
            [booking],
            offers={row.id: row},
            with_questions=True,
            reflection_weeks={programme.id: programme.reflection_weeks},
        )[0]


def _locked_booking(
    session: Session, rt: Runtime, booking: int
) -> tuple[Actor, IkProgramme, IkOffer, IkBooking]:
    """A booking and its offer (locked), for someone who may see it (NotFound for others)."""
    check_int(booking, "booking")
    reader = viewer(session, rt.actor)
    first = get_booking(session, booking)
    if first is None:
        raise NotFound("booking", booking)
    offer = lock_offer(session, first.offer_id)
    assert offer is not None
    row = session.exec(
        select(IkBooking).where(IkBooking.id == booking).execution_options(populate_existing=True)
    ).one()
    require_booking_visible(
        reader, booking_id=booking, host_urn=offer.host_urn, booking_urn=row.school_urn
    )
    actor = require_signed_in(reader, "change bookings")
    programme = session.get(IkProgramme, offer.programme_id)
    assert programme is not None
    return actor, programme, offer, row


def cancel(rt: Runtime, *, booking: int, reason: str = "") -> BookingView:
    """Cancel a booking (its school, the host or an admin); a freed place goes to the first
    school on the waiting list, which is confirmed and told."""
    reason = check_text(reason, "reason").strip()
    now, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        actor, programme, offer, row = _locked_booking(session, rt, booking)
        assert programme.id is not None and offer.id is not None
        school = get_school(session, row.school_urn)
        have = relations(actor, host_urn=offer.host_urn, booking_urn=row.school_urn)
        held_place = row.state == BookingState.CONFIRMED
        change = _engine.fire_booking(
            session,
            programme,
            offer,
            row,
            BookingTrigger.CANCEL,
            school=school,
            have=have,
            actor=actor,
            today=today,
            reason=reason or None,
        )
        _engine.write(
            session,
            programme.id,
            [change],
            actor=actor.name,
            at=now,
            reason=reason or None,
            records=[row],
        )
        host = get_school(session, offer.host_urn)
        by_host = ProgrammeActor.VISITOR not in have
        _places.tell(
            session,
            rt,
            programme,
            offer,
            host,
            row,
            school,
            at=now,
            extra={"reason": reason, "by_host": by_host},
        )
        if ProgrammeActor.HOST not in have:
            _places.tell_host(session, rt, programme, offer, host, row, school, at=now)
        if held_place:
            _places.change_places(session, offer, -1)
            _places.place_freed(
                session,
                rt,
                programme,
                offer,
                host,
                actor=actor,
                today=today,
                at=now,
                after=school.name,
            )
        return booking_views(
            session,
            [row],
            offers={offer.id: offer},
            reflection_weeks={programme.id: programme.reflection_weeks},
        )[0]


def mark(rt: Runtime, *, booking: int, attended: bool) -> BookingView:
    """Record on or after the visit day whether a confirmed school came (host or admin)."""
    now, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        actor, programme, offer, row = _locked_booking(session, rt, booking)
        assert programme.id is not None and offer.id is not None
        change = _engine.fire_booking(
            session,
            programme,
            offer,
            row,
            BookingTrigger.ATTEND if attended else BookingTrigger.NO_SHOW,
            school=get_school(session, row.school_urn),
            have=relations(actor, host_urn=offer.host_urn, booking_urn=row.school_urn),
            actor=actor,
            today=today,
        )
        _engine.write(session, programme.id, [change], actor=actor.name, at=now, records=[row])
        return booking_views(
            session,
            [row],
            offers={offer.id: offer},
            reflection_weeks={programme.id: programme.reflection_weeks},
        )[0]


def show_booking(rt: Runtime, *, booking: int) -> BookingView:
    """One booking (its school, the host, an admin; NotFound for anyone else)."""
    check_int(booking, "booking")
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = get_booking(session, booking)
        if row is None:
            raise NotFound("booking", booking)
        offer = session.get(IkOffer, row.offer_id)
        assert offer is not None and offer.id is not None
        require_booking_visible(
            reader, booking_id=booking, host_urn=offer.host_urn, booking_urn=row.school_urn
        )
        programme = session.get(IkProgramme, offer.programme_id)
        assert programme is not None and programme.id is not None
        return booking_views(
            session,
            [row],
            offers={offer.id: offer},
            with_questions=True,
            reflection_weeks={programme.id: programme.reflection_weeks},
        )[0]


def school_bookings(rt: Runtime, *, school: int | None = None) -> list[BookingView]:
    """A school's bookings, soonest visit first (its staff, or an admin naming `school`)."""
    with rt.db.transaction() as session:
        _, urn = acting_school(viewer(session, rt.actor), school, "see a school's bookings")
        rows = session.exec(
            select(IkBooking, IkOffer)
            .join(IkOffer, IkOffer.id == IkBooking.offer_id)  # type: ignore[arg-type]
            .where(IkBooking.school_urn == urn)
            .order_by(col(IkOffer.visit_date), col(IkBooking.id))
        ).all()
        weeks = dict(session.exec(select(IkProgramme.id, IkProgramme.reflection_weeks)).all())
        return booking_views(
            session,
            [b for b, _ in rows],
            offers={o.id or 0: o for _, o in rows},
            with_questions=True,
            reflection_weeks={k: v for k, v in weeks.items() if k is not None},
        )


def offer_bookings(rt: Runtime, *, offer: int) -> list[BookingView]:
    """Every booking on an offer, confirmed then waiting in order (host or admin)."""
    check_int(offer, "offer")
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = session.get(IkOffer, offer)
        if row is None or not may_manage_offer(reader, host_urn=row.host_urn):
            raise NotFound("offer", offer)
        programme = session.get(IkProgramme, row.programme_id)
        assert programme is not None and programme.id is not None
        rows = list(
            session.exec(
                select(IkBooking).where(IkBooking.offer_id == offer).order_by(col(IkBooking.id))
            ).all()
        )
        views = booking_views(
            session,
            rows,
            offers={offer: row},
            with_questions=True,
            reflection_weeks={programme.id: programme.reflection_weeks},
        )
        rank: dict[str, int] = {
            BookingState.CONFIRMED: 0,
            BookingState.ATTENDED: 0,
            BookingState.NO_SHOW: 0,
            BookingState.WAITLISTED: 1,
        }
        return sorted(views, key=lambda b: (rank.get(b.state, 2), b.waitlist_position or 0, b.id))
