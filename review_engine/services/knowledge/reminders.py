"""Reminders through the outbox: the visit (the programme's days before), feedback (the day
after) and the reflection (the programme's weeks after); each goes once (dedupe keys). Also
closes offers whose visit day has passed. Idempotent: run it from the tick or `review ik tick`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from review_engine.core.domain import NoticeKind
from review_engine.core.knowledge import (
    BookingState,
    BookingTrigger,
    OfferState,
    OfferTrigger,
    ProgrammeActor,
)
from review_engine.rules.knowledge_policy import require_runs_the_tick, viewer
from review_engine.rules.policy import Actor
from review_engine.runtime import Runtime
from review_engine.services.knowledge import _engine, _mail
from review_engine.services.knowledge._load import now_and_today, programme_title, schools
from review_engine.services.knowledge.feedback import REFLECTION, owed
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme


@dataclass(frozen=True)
class TickResult:
    closed: int  # offers closed because their day passed
    queued: int  # reminders queued


def tick(rt: Runtime) -> TickResult:
    """Close past offers and queue due reminders (the scheduler, an admin or the operator), in
    a transaction of its own (`review ik tick`); the scheduler's tick calls `reconcile` in
    its own transaction instead."""
    with rt.db.transaction() as session:
        actor = require_runs_the_tick(viewer(session, rt.actor))
        return reconcile(session, actor, rt.clock.now(), base_url=rt.settings.public_url)


def reconcile(session: Session, actor: Actor, at: datetime, *, base_url: str | None) -> TickResult:
    """The tick's work in the caller's transaction, as of `at`: the caller has checked that
    `actor` runs the tick."""
    now, today = now_and_today(at)
    programmes = {p.id: p for p in session.exec(select(IkProgramme)).all()}
    # Offers whose visit day has passed: closed (fired as the system, one write).
    past = list(
        session.exec(
            select(IkOffer)
            .where(
                col(IkOffer.visit_date) < today,
                col(IkOffer.state).in_((OfferState.PUBLISHED, OfferState.FULL, OfferState.HELD)),
            )
            .order_by(col(IkOffer.id))  # one order for every locker: no deadlock
            .with_for_update()
        ).all()
    )
    hosts = schools(session, {o.host_urn for o in past})
    by_programme: dict[int, list[_engine.Change]] = {}
    for o in past:
        change = _engine.fire_offer(
            session,
            programmes[o.programme_id],
            o,
            OfferTrigger.CLOSE,
            host_name=hosts[o.host_urn].name,
            have={ProgrammeActor.SYSTEM},
            actor=actor,
            today=today,
        )
        by_programme.setdefault(o.programme_id, []).append(change)
    for programme_id, changes in by_programme.items():
        _engine.write(
            session,
            programme_id,
            changes,
            actor=actor.name,
            at=now,
            reason="the visit day has passed",
            records=past,
        )
    _lapse_waiting(session, programmes, past, actor=actor, today=today, at=now)
    mails: list[_mail.Mail] = []
    # Visits coming up within each programme's reminder days.
    soon = session.exec(
        select(IkBooking, IkOffer)
        .join(IkOffer, IkOffer.id == IkBooking.offer_id)  # type: ignore[arg-type]
        .join(IkProgramme, IkProgramme.id == IkOffer.programme_id)  # type: ignore[arg-type]
        .where(
            IkBooking.state == BookingState.CONFIRMED,
            col(IkOffer.visit_date) >= today,
            col(IkOffer.visit_date) <= today + timedelta(days=60),
            col(IkOffer.state).in_((OfferState.PUBLISHED, OfferState.FULL)),
        )
    ).all()
    soon = [
        (b, o)
        for b, o in soon
        if o.visit_date - timedelta(days=programmes[o.programme_id].reminder_days) <= today
    ]
    due = owed(session, None, today)
    due = [d for d in due if d.due <= today]
    offers = {o.id: o for _, o in soon}
    missing = {d.offer_id for d in due} - set(offers)
    if missing:
        offers.update(
            {o.id: o for o in session.exec(select(IkOffer).where(col(IkOffer.id).in_(missing)))}
        )
    urns = {b.school_urn for b, _ in soon} | {d.school_urn for d in due}
    names = schools(session, urns | {o.host_urn for o in offers.values()})
    visit_takers = _mail.school_takers(session, urns, NoticeKind.VISITS)
    feedback_takers = _mail.school_takers(session, urns, NoticeKind.FEEDBACK)
    for b, o in soon:
        mails.append(
            _mail.Mail(
                event="ik_reminder",
                record=f"booking:{b.id}",
                to=_mail.booking_people(b, visit_takers.get(b.school_urn, ())),
                facts={
                    **_mail.offer_facts(
                        o, names[o.host_urn], programme_title(programmes[o.programme_id])
                    ),
                    "school": names[b.school_urn].name,
                    "path": f"/inside-knowledge/bookings/{b.id}",
                },
                extra={"agenda": o.agenda},
                school_urn=b.school_urn,
            )
        )
    bookings: dict[tuple[int, int], IkBooking] = {}
    if due:
        bookings = {
            (b.offer_id, b.school_urn): b
            for b in session.exec(
                select(IkBooking).where(
                    col(IkBooking.offer_id).in_({d.offer_id for d in due}),
                    col(IkBooking.state).in_((BookingState.CONFIRMED, BookingState.ATTENDED)),
                )
            ).all()
        }
    for d in due:
        o = offers[d.offer_id]
        booking = bookings.get((d.offer_id, d.school_urn))
        takers = feedback_takers.get(d.school_urn, [])
        people = _mail.booking_people(booking, takers) if booking is not None else tuple(takers)
        if booking is None and _mail.is_email(o.created_by):
            people = (*people, (o.created_by, o.created_by))
        mails.append(
            _mail.Mail(
                event="ik_reflection_due" if d.kind == REFLECTION else "ik_feedback_due",
                record=f"offer:{o.id}:{d.school_urn}:{d.kind}",
                to=people,
                facts={
                    **_mail.offer_facts(
                        o,
                        names[o.host_urn],
                        programme_title(programmes[o.programme_id]),
                    ),
                    "school": d.school_name,
                    "path": f"/inside-knowledge/offers/{o.id}",
                },
                extra={
                    "as_host": d.kind == "host",
                    "weeks": programmes[o.programme_id].reflection_weeks,
                },
                school_urn=d.school_urn,
            )
        )
    queued = _mail.queue(session, mails, at=now, base_url=base_url)
    return TickResult(closed=len(past), queued=queued)


def _lapse_waiting(
    session: Session,
    programmes: dict[int | None, IkProgramme],
    closed: list[IkOffer],
    *,
    actor: Actor,
    today: date,
    at: datetime,
) -> None:
    """Schools still waiting when an offer closes come off its list (fired as the system)."""
    if not closed:
        return
    waiting = list(
        session.exec(
            select(IkBooking).where(
                col(IkBooking.offer_id).in_({o.id for o in closed}),
                IkBooking.state == BookingState.WAITLISTED,
            )
        ).all()
    )
    offers = {o.id: o for o in closed}
    names = schools(session, {b.school_urn for b in waiting})
    by_programme: dict[int, list[_engine.Change]] = {}
    for b in waiting:
        offer = offers[b.offer_id]
        by_programme.setdefault(offer.programme_id, []).append(
            _engine.fire_booking(
                session,
                programmes[offer.programme_id],
                offer,
                b,
                BookingTrigger.LAPSE,
                school=names[b.school_urn],
                have={ProgrammeActor.SYSTEM},
                actor=actor,
                today=today,
            )
        )
    for programme_id, changes in by_programme.items():
        _engine.write(
            session,
            programme_id,
            changes,
            actor=actor.name,
            at=at,
            reason="the offer closed before a place came free",
            records=waiting,
        )
