"""Loading inside a knowledge service's transaction: the programme, an offer under its lock,
schools' names, and the views built from rows (no query per row)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from review_engine.core.domain import Slot
from review_engine.core.knowledge import (
    PHASE_WORDS,
    REGION_RULE_WORDS,
    SLOT_WORDS,
    BookingState,
    OfferState,
    RegionRule,
    booking_state_words,
    offer_state_words,
    phases_words,
    places_left,
    reflection_due,
    split_phases,
)
from review_engine.errors import NotFound
from review_engine.services.knowledge.views import (
    BookingView,
    OfferView,
    Practitioner,
    ProgrammeView,
    QuestionView,
    TopicView,
)
from review_engine.store.knowledge_tables import (
    IkBooking,
    IkOffer,
    IkProgramme,
    IkQuestion,
    IkTopic,
)
from review_engine.store.models import School

_KEY = re.compile(r"^(?P<name>.+)/(?P<year>\d{4}-\d{2})$")


def find_programme(session: Session, key: str | int | None) -> IkProgramme:
    """A programme by id, NAME/YEAR or name (the newest of that name); None: the newest."""
    query = select(IkProgramme).order_by(col(IkProgramme.id).desc())
    text = str(key).strip() if key is not None else ""
    if not text:
        found = session.exec(query.limit(1)).first()
        if found is None:
            raise NotFound("programme", "(none)", "create one with `review ik programme create`")
        return found
    if text.isdigit():
        by_id = session.get(IkProgramme, int(text)) if int(text) < 2**31 else None
        if by_id is None:
            raise NotFound("programme", text)
        return by_id
    match = _KEY.match(text)
    if match:
        query = query.where(IkProgramme.name == match["name"], IkProgramme.year == match["year"])
    else:
        query = query.where(IkProgramme.name == text)
    found = session.exec(query.limit(1)).first()
    if found is None:
        raise NotFound("programme", text)
    return found


def programme_title(p: IkProgramme) -> str:
    return f"{p.name} {p.year}"


def topic_view(t: IkTopic) -> TopicView:
    assert t.id is not None
    phases = split_phases(t.phases)
    return TopicView(t.id, t.code, t.title, t.description, tuple(phases), phases_words(phases))


def topics_of(session: Session, programme_id: int) -> list[IkTopic]:
    return list(
        session.exec(
            select(IkTopic).where(IkTopic.programme_id == programme_id).order_by(col(IkTopic.id))
        ).all()
    )


def programme_view(
    p: IkProgramme, topics: Iterable[IkTopic] = (), stakeholders: tuple = ()
) -> ProgrammeView:
    assert p.id is not None
    return ProgrammeView(
        id=p.id,
        name=p.name,
        year=p.year,
        title=programme_title(p),
        region_rule=p.region_rule,
        region_rule_words=REGION_RULE_WORDS[RegionRule(p.region_rule)],
        reflection_weeks=p.reflection_weeks,
        reminder_days=p.reminder_days,
        workflow=p.workflow_name,
        topics=tuple(topic_view(t) for t in topics),
        stakeholders=stakeholders,
    )


def get_topic(session: Session, programme_id: int, code: str) -> IkTopic:
    found = session.exec(
        select(IkTopic).where(IkTopic.programme_id == programme_id, IkTopic.code == code.strip())
    ).first()
    if found is None:
        codes = ", ".join(t.code for t in topics_of(session, programme_id))
        raise NotFound("topic", code, f"the programme's topics: {codes or 'none yet'}")
    return found


def get_school(session: Session, urn: int) -> School:
    found = session.get(School, urn)
    if found is None:
        raise NotFound("school", urn)
    return found


def schools(session: Session, urns: Collection[int]) -> dict[int, School]:
    if not urns:
        return {}
    return {
        s.urn: s for s in session.exec(select(School).where(col(School.urn).in_(set(urns)))).all()
    }


def lock_offer(session: Session, offer_id: int) -> IkOffer | None:
    """The offer row, locked until the transaction ends (PostgreSQL FOR UPDATE; SQLite's
    writers are already one at a time), read afresh."""
    if not 0 < offer_id < 2**31:
        return None
    return session.exec(
        select(IkOffer)
        .where(IkOffer.id == offer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def get_offer(session: Session, offer_id: int) -> IkOffer | None:
    if not 0 < offer_id < 2**31:
        return None
    return session.get(IkOffer, offer_id)


def get_booking(session: Session, booking_id: int) -> IkBooking | None:
    if not 0 < booking_id < 2**31:
        return None
    return session.get(IkBooking, booking_id)


def waiting_counts(session: Session, offer_ids: Collection[int]) -> dict[int, int]:
    """Schools on each offer's waiting list (one query)."""
    if not offer_ids:
        return {}
    rows = session.exec(
        select(IkBooking.offer_id, func.count())
        .where(
            col(IkBooking.offer_id).in_(set(offer_ids)),
            IkBooking.state == BookingState.WAITLISTED,
        )
        .group_by(col(IkBooking.offer_id))
    ).all()
    return {o: n for o, n in rows}


def bookable(offer: IkOffer, today: date) -> bool:
    return (
        offer.state in (OfferState.PUBLISHED, OfferState.FULL) and today <= offer.booking_deadline
    )


def offer_view(
    o: IkOffer,
    topic: IkTopic,
    host: School,
    *,
    waiting: int,
    today: date,
    distance_km: float | None = None,
) -> OfferView:
    assert o.id is not None
    phases = split_phases(o.phases)
    return OfferView(
        id=o.id,
        programme_id=o.programme_id,
        topic_code=topic.code,
        topic_title=topic.title,
        title=o.title,
        summary=o.summary,
        host_urn=o.host_urn,
        host_name=host.name,
        host_town=host.town,
        region=o.region,
        visit_date=o.visit_date,
        slot=o.slot,
        slot_words=SLOT_WORDS.get(Slot(o.slot), o.slot),
        phases=tuple(phases),
        phases_words=phases_words(phases),
        schools_max=o.schools_max,
        practitioners_per_school=o.practitioners_per_school,
        places_left=places_left(o.schools_max, o.places_taken),
        waiting=waiting,
        booking_deadline=o.booking_deadline,
        state=o.state,
        state_words=offer_state_words(o.state),
        bookable=bookable(o, today),
        distance_km=round(distance_km, 1) if distance_km is not None else None,
    )


def offer_views(session: Session, offers: list[IkOffer], today: date) -> list[OfferView]:
    """Views of many offers: their topics, hosts and waiting lists in three queries."""
    if not offers:
        return []
    topics = {
        t.id: t
        for t in session.exec(
            select(IkTopic).where(col(IkTopic.id).in_({o.topic_id for o in offers}))
        ).all()
    }
    hosts = schools(session, {o.host_urn for o in offers})
    waiting = waiting_counts(session, {o.id for o in offers if o.id is not None})
    return [
        offer_view(
            o, topics[o.topic_id], hosts[o.host_urn], waiting=waiting.get(o.id or 0, 0), today=today
        )
        for o in offers
    ]


def practitioners_of(b: IkBooking) -> tuple[Practitioner, ...]:
    return tuple(
        Practitioner(p.get("name", ""), p.get("email", ""), p.get("role", ""))
        for p in (b.practitioners or [])
    )


def waitlist_positions(session: Session, offer_ids: Collection[int]) -> dict[int, int]:
    """Each waitlisted booking's place in its offer's queue (1 = next), one query."""
    if not offer_ids:
        return {}
    rows = session.exec(
        select(IkBooking.id, IkBooking.offer_id)
        .where(
            col(IkBooking.offer_id).in_(set(offer_ids)),
            IkBooking.state == BookingState.WAITLISTED,
        )
        .order_by(col(IkBooking.offer_id), col(IkBooking.id))
    ).all()
    positions: dict[int, int] = {}
    counter: dict[int, int] = {}
    for booking_id, offer_id in rows:
        counter[offer_id] = counter.get(offer_id, 0) + 1
        assert booking_id is not None
        positions[booking_id] = counter[offer_id]
    return positions


def booking_views(
    session: Session,
    bookings: list[IkBooking],
    *,
    offers: Mapping[int, IkOffer] | None = None,
    with_questions: bool = False,
    reflection_weeks: Mapping[int, int] | None = None,
) -> list[BookingView]:
    """Views of many bookings (their offers, schools, queue places and questions in a fixed
    number of queries)."""
    if not bookings:
        return []
    offer_rows = dict(offers or {})
    missing = {b.offer_id for b in bookings} - set(offer_rows)
    if missing:
        offer_rows.update(
            {
                o.id: o
                for o in session.exec(select(IkOffer).where(col(IkOffer.id).in_(missing))).all()
                if o.id is not None
            }
        )
    names = schools(
        session, {b.school_urn for b in bookings} | {o.host_urn for o in offer_rows.values()}
    )
    positions = waitlist_positions(
        session, {b.offer_id for b in bookings if b.state == BookingState.WAITLISTED}
    )
    questions: dict[int, list[QuestionView]] = {}
    if with_questions:
        for q in session.exec(
            select(IkQuestion)
            .where(col(IkQuestion.booking_id).in_({b.id for b in bookings}))
            .order_by(col(IkQuestion.id))
        ).all():
            assert q.id is not None
            school = next(b.school_urn for b in bookings if b.id == q.booking_id)
            questions.setdefault(q.booking_id, []).append(
                QuestionView(q.id, school, names[school].name, q.text, q.asked_at)
            )
    weeks = reflection_weeks or {}
    views = []
    for b in bookings:
        assert b.id is not None
        o = offer_rows[b.offer_id]
        views.append(
            BookingView(
                id=b.id,
                offer_id=b.offer_id,
                offer_title=o.title,
                host_urn=o.host_urn,
                host_name=names[o.host_urn].name,
                visit_date=o.visit_date,
                slot=o.slot,
                school_urn=b.school_urn,
                school_name=names[b.school_urn].name,
                state=b.state,
                state_words=booking_state_words(b.state),
                practitioners=practitioners_of(b),
                waitlist_position=positions.get(b.id),
                agenda_acknowledged=o.agenda_version > 0
                and b.agenda_ack_version == o.agenda_version,
                requested_by=b.requested_by,
                requested_at=b.requested_at,
                questions=tuple(questions.get(b.id, ())),
                reflection_due=reflection_due(o.visit_date, weeks[o.programme_id])
                if o.programme_id in weeks
                and b.state in (BookingState.CONFIRMED, BookingState.ATTENDED)
                else None,
            )
        )
    return views


def phase_choices() -> tuple[tuple[str, str], ...]:
    return tuple((k.value, w) for k, w in PHASE_WORDS.items())


def now_and_today(now: datetime) -> tuple[datetime, date]:
    from review_engine.clock import to_london

    return now, to_london(now).date()
