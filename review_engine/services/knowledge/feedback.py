"""Feedback on the day (visiting schools and the host) and the visitor's later reflection
on what it changed in its practice."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    BookingState,
    OfferState,
    check_rating,
    reflection_due,
)
from review_engine.core.safe_text import check_int, check_text
from review_engine.errors import AlreadyExists, InvalidInput, NotFound
from review_engine.rules.knowledge_policy import (
    acting_school,
    may_manage_offer,
    may_see_booking,
    viewer,
)
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge._load import get_offer, now_and_today, schools
from review_engine.services.knowledge.views import FeedbackDue, FeedbackView
from review_engine.store.knowledge_tables import IkBooking, IkFeedback, IkOffer, IkProgramme

VISITOR, HOST, REFLECTION = "visitor", "host", "reflection"
#: Bookings whose school visited (or was due to, and attendance is not yet recorded).
VISITED = (BookingState.ATTENDED, BookingState.CONFIRMED)
_DONE_OFFERS = (OfferState.PUBLISHED, OfferState.FULL, OfferState.HELD, OfferState.CLOSED)


def _view(row: IkFeedback, name: str) -> FeedbackView:
    assert row.id is not None
    return FeedbackView(
        row.id,
        row.offer_id,
        row.school_urn,
        name,
        row.kind,
        row.rating,
        row.comment,
        row.changed_practice,
        row.what_changed,
        row.given_at,
    )


def _visited(session: Session, offer: IkOffer, urn: int) -> bool:
    return (
        session.exec(
            select(IkBooking.id).where(
                IkBooking.offer_id == offer.id,
                IkBooking.school_urn == urn,
                col(IkBooking.state).in_(VISITED),
            )
        ).first()
        is not None
    )


def _record(
    session: Session,
    rt: Runtime,
    offer_id: int,
    school: int | None,
    *,
    reflection: bool,
) -> tuple[Actor, IkOffer, int, str]:
    """The offer, the school giving feedback and the kind; refusals in one line."""
    check_int(offer_id, "offer")
    reader = viewer(session, rt.actor)
    offer = get_offer(session, offer_id)
    if offer is None:
        raise NotFound("offer", offer_id)
    actor, urn = acting_school(reader, school, "give feedback on visits")
    host = urn == offer.host_urn
    if not host and not _visited(session, offer, urn):
        if may_manage_offer(reader, host_urn=offer.host_urn) or offer.state in _DONE_OFFERS:
            raise InvalidInput(
                f"school {urn} has no place on offer {offer_id}; only its visitors give feedback"
            )
        raise NotFound("offer", offer_id)
    if reflection and host:
        raise InvalidInput("reflections come from visiting schools, on what they changed")
    _, today = now_and_today(rt.clock.now())
    if offer.state not in _DONE_OFFERS:
        raise InvalidInput(f"offer {offer_id} is {offer.state}; there was no visit")
    if today < offer.visit_date:
        raise InvalidInput(f"the visit is on {offer.visit_date:%d %b %Y}; feedback comes after it")
    kind = REFLECTION if reflection else (HOST if host else VISITOR)
    return actor, offer, urn, kind


def _save(session: Session, rt: Runtime, row: IkFeedback) -> FeedbackView:
    exists = session.exec(
        select(IkFeedback.id).where(
            IkFeedback.offer_id == row.offer_id,
            IkFeedback.school_urn == row.school_urn,
            IkFeedback.kind == row.kind,
        )
    ).first()
    names = schools(session, {row.school_urn})
    if exists is not None:
        what = "reflection" if row.kind == REFLECTION else "feedback"
        raise AlreadyExists(what, f"from {names[row.school_urn].name} on offer {row.offer_id}")
    session.add(row)
    session.flush()
    return _view(row, names[row.school_urn].name)


def give(
    rt: Runtime,
    *,
    offer: int,
    rating: int,
    comment: str = "",
    school: int | None = None,
) -> FeedbackView:
    """Feedback on the day: from an attending school (kind visitor) or the host (kind host)."""
    check_rating(rating)
    comment = check_text(comment, "comment").strip()
    with rt.db.transaction() as session:
        actor, row, urn, kind = _record(session, rt, offer, school, reflection=False)
        return _save(
            session,
            rt,
            IkFeedback(
                offer_id=row.id or 0,
                school_urn=urn,
                kind=kind,
                rating=rating,
                comment=comment,
                given_by=actor.name,
                given_at=rt.clock.now(),
            ),
        )


def reflect(
    rt: Runtime,
    *,
    offer: int,
    changed_practice: bool,
    what_changed: str = "",
    comment: str = "",
    school: int | None = None,
) -> FeedbackView:
    """An attending school's reflection on what it changed in its practice: due the
    programme's reflection weeks after the visit (taken any time after the visit)."""
    what_changed = check_text(what_changed, "what changed").strip()
    comment = check_text(comment, "comment").strip()
    if changed_practice and not what_changed:
        raise InvalidInput("say what your school changed in its practice (--what)")
    with rt.db.transaction() as session:
        actor, row, urn, kind = _record(session, rt, offer, school, reflection=True)
        return _save(
            session,
            rt,
            IkFeedback(
                offer_id=row.id or 0,
                school_urn=urn,
                kind=kind,
                comment=comment,
                changed_practice=changed_practice,
                what_changed=what_changed,
                given_by=actor.name,
                given_at=rt.clock.now(),
            ),
        )


def list_feedback(rt: Runtime, *, offer: int) -> list[FeedbackView]:
    """Feedback on an offer (host, admin; a school that booked a place sees its own, none
    before the visit: the policy's rule for its own booking, whatever the booking's state)."""
    check_int(offer, "offer")
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = get_offer(session, offer)
        if row is None:
            raise NotFound("offer", offer)
        query = select(IkFeedback).where(IkFeedback.offer_id == offer)
        if not may_manage_offer(reader, host_urn=row.host_urn):
            own = reader.school_urn if reader is not None else None
            if own is None or not _booked(session, reader, row, own):
                raise NotFound("offer", offer)
            query = query.where(IkFeedback.school_urn == own)
        rows = list(session.exec(query.order_by(col(IkFeedback.id))).all())
        names = schools(session, {r.school_urn for r in rows})
        return [_view(r, names[r.school_urn].name) for r in rows]


def _booked(session: Session, reader: Actor | None, offer: IkOffer, urn: int) -> bool:
    """The school has a booking on the offer (confirmed, waiting, attended or not) that the
    reader may see as its own."""
    booked = session.exec(
        select(IkBooking.school_urn).where(
            IkBooking.offer_id == offer.id, IkBooking.school_urn == urn
        )
    ).first()
    return booked is not None and may_see_booking(reader, host_urn=offer.host_urn, booking_urn=urn)


def owed(session: Session, urns: set[int] | None, today) -> list[FeedbackDue]:  # type: ignore[no-untyped-def]
    """Feedback and reflections owed (by these schools, or by all: None), due by today or
    later, in a fixed number of queries."""
    visits = session.exec(
        select(IkBooking, IkOffer, IkProgramme.reflection_weeks)
        .join(IkOffer, IkOffer.id == IkBooking.offer_id)  # type: ignore[arg-type]
        .join(IkProgramme, IkProgramme.id == IkOffer.programme_id)  # type: ignore[arg-type]
        .where(
            col(IkBooking.state).in_(VISITED),
            col(IkOffer.visit_date) <= today,
            col(IkOffer.state).in_(_DONE_OFFERS),
            *([col(IkBooking.school_urn).in_(urns)] if urns is not None else []),
        )
    ).all()
    hosted = session.exec(
        select(IkOffer).where(
            col(IkOffer.visit_date) <= today,
            col(IkOffer.state).in_(_DONE_OFFERS),
            col(IkOffer.places_taken) > 0,
            *([col(IkOffer.host_urn).in_(urns)] if urns is not None else []),
        )
    ).all()
    offer_ids = {o.id for _, o, _ in visits} | {o.id for o in hosted}
    given = (
        set(
            session.exec(
                select(IkFeedback.offer_id, IkFeedback.school_urn, IkFeedback.kind).where(
                    col(IkFeedback.offer_id).in_(offer_ids)
                )
            ).all()
        )
        if offer_ids
        else set()
    )
    names = schools(session, {b.school_urn for b, _, _ in visits} | {o.host_urn for o in hosted})
    due: list[FeedbackDue] = []
    for b, o, weeks in visits:
        assert o.id is not None
        if (o.id, b.school_urn, VISITOR) not in given:
            due.append(
                FeedbackDue(
                    o.id,
                    o.title,
                    b.school_urn,
                    names[b.school_urn].name,
                    VISITOR,
                    o.visit_date + timedelta(days=1),
                )
            )
        if (o.id, b.school_urn, REFLECTION) not in given:
            due.append(
                FeedbackDue(
                    o.id,
                    o.title,
                    b.school_urn,
                    names[b.school_urn].name,
                    REFLECTION,
                    reflection_due(o.visit_date, weeks),
                )
            )
    for o in hosted:
        assert o.id is not None
        if (o.id, o.host_urn, HOST) not in given:
            due.append(
                FeedbackDue(
                    o.id,
                    o.title,
                    o.host_urn,
                    names[o.host_urn].name,
                    HOST,
                    o.visit_date + timedelta(days=1),
                )
            )
    return sorted(due, key=lambda d: (d.due, d.offer_id, d.school_urn, d.kind))


def due(rt: Runtime, *, school: int | None = None) -> list[FeedbackDue]:
    """Feedback and reflections a school owes (its staff, or an admin naming `school`)."""
    _, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        _, urn = acting_school(viewer(session, rt.actor), school, "see feedback owed")
        return owed(session, {urn}, today)
