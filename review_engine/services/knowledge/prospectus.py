"""The public prospectus: search offers by topic, region, phase, dates, free text and
distance from a school. No sign-in needed; a fixed number of set-based statements per page
(the page, its count, the reader's school, topics, hosts and waiting lists), each narrowed by
an index on the offer (programme, state, date; region; topic; National Grid point)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Float, and_, cast, func, or_
from sqlmodel import Session, col, select

from review_engine.core.knowledge import (
    REGIONS,
    OfferState,
    Page,
    PhaseKey,
    ProspectusQuery,
    bounding_box,
    distance_km,
    normalise_postcode,
    parse_phases,
    search_terms,
)
from review_engine.errors import InvalidInput, NotFound
from review_engine.runtime import Runtime
from review_engine.services.knowledge._load import (
    find_programme,
    now_and_today,
    offer_views,
    phase_choices,
    programme_title,
    topic_view,
    topics_of,
)
from review_engine.services.knowledge.views import FilterChoices, ProspectusPage
from review_engine.store.knowledge_tables import IkOffer, IkProgramme
from review_engine.store.models import School


def _near_school(session: Session, near: str) -> School:
    """The reader's school by URN or postcode (an open school at that postcode first)."""
    text = near.strip()
    if text.isdigit():
        found = session.get(School, int(text)) if int(text) < 2**31 else None
    else:
        postcode = normalise_postcode(text)
        if postcode is None:
            raise InvalidInput(f"{text!r} is neither a school's URN nor a postcode")
        found = session.exec(
            select(School)
            .where(School.postcode == postcode)
            .order_by(col(School.is_closed), col(School.urn))
            .limit(1)
        ).first()
    if found is None:
        raise NotFound("school", text, "give a school's URN or the postcode of a known school")
    if found.easting is None or found.northing is None:
        raise InvalidInput(f"{found.name} has no map reference in GIAS; search without distance")
    return found


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phase_condition(phase: str) -> Any:
    key = parse_phases(phase)[0]
    wanted = {key}
    if key is PhaseKey.ALL_THROUGH:
        wanted |= {PhaseKey.PRIMARY, PhaseKey.SECONDARY}
    padded = "," + col(IkOffer.phases) + ","
    return or_(col(IkOffer.phases) == "", *(padded.like(f"%,{k.value},%") for k in wanted))


def _choices(session: Session, programme: IkProgramme | None) -> FilterChoices:
    topics = topics_of(session, programme.id) if programme and programme.id else []
    return FilterChoices(tuple(topic_view(t) for t in topics), REGIONS, phase_choices())


def search(rt: Runtime, query: ProspectusQuery) -> ProspectusPage:
    """One page of listed offers (published or full) matching the query, soonest first, or
    nearest first when `near` names a school. InvalidInput for a bad filter; NotFound for an
    unknown school in `near` or an unknown topic."""
    q = query.checked()
    _, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        try:
            programme = find_programme(session, q.programme)
        except NotFound:
            if q.programme is not None:
                raise
            return ProspectusPage((), 0, 1, q.per_page, 1, None, "", None, _choices(session, None))
        assert programme.id is not None
        choices = _choices(session, programme)
        states = [OfferState.PUBLISHED] + ([OfferState.FULL] if q.include_full else [])
        conditions: list[Any] = [
            IkOffer.programme_id == programme.id,
            col(IkOffer.state).in_(states),
            col(IkOffer.visit_date) >= max(today, q.date_from or today),
        ]
        if q.date_to is not None:
            conditions.append(col(IkOffer.visit_date) <= q.date_to)
        if q.topic:
            topic = next((t for t in choices.topics if t.code == q.topic.strip()), None)
            if topic is None:
                codes = ", ".join(t.code for t in choices.topics)
                raise NotFound("topic", q.topic, f"the programme's topics: {codes or 'none yet'}")
            conditions.append(IkOffer.topic_id == topic.id)
        if q.region:
            conditions.append(IkOffer.region == q.region)
        if q.phase:
            conditions.append(_phase_condition(q.phase))
        for term in search_terms(q.text):
            conditions.append(col(IkOffer.search_text).like(_like(term), escape="\\"))
        near = _near_school(session, q.near) if q.near else None
        distance: Any = None
        if near is not None:
            assert near.easting is not None and near.northing is not None
            de = cast(col(IkOffer.easting) - near.easting, Float)
            dn = cast(col(IkOffer.northing) - near.northing, Float)
            distance = de * de + dn * dn
            if q.within_km is not None:
                e_min, e_max, n_min, n_max = bounding_box(near.easting, near.northing, q.within_km)
                conditions += [
                    col(IkOffer.easting).between(e_min, e_max),
                    col(IkOffer.northing).between(n_min, n_max),
                    distance <= (q.within_km * 1000) ** 2,
                ]
        where = and_(*conditions)
        total = session.exec(select(func.count()).select_from(IkOffer).where(where)).one()
        page = Page(q.page, q.per_page, total)
        order: list[Any] = [col(IkOffer.visit_date), col(IkOffer.id)]
        if distance is not None:
            order = [col(IkOffer.easting).is_(None), distance, *order]
        rows = list(
            session.exec(
                select(IkOffer)
                .where(where)
                .order_by(*order)
                .offset(page.offset)
                .limit(page.per_page)
            ).all()
        )
        views = offer_views(session, rows, today)
        if near is not None:
            assert near.easting is not None and near.northing is not None
            views = [
                _with_distance(v, o, near.easting, near.northing)
                for v, o in zip(views, rows, strict=True)
            ]
        return ProspectusPage(
            offers=tuple(views),
            total=total,
            page=page.page,
            per_page=page.per_page,
            pages=page.pages,
            programme_id=programme.id,
            programme_title=programme_title(programme),
            near_name=near.name if near is not None else None,
            choices=choices,
        )


def _with_distance(view: Any, offer: IkOffer, easting: int, northing: int) -> Any:
    from dataclasses import replace

    if offer.easting is None or offer.northing is None:
        return view
    return replace(
        view, distance_km=round(distance_km(easting, northing, offer.easting, offer.northing), 1)
    )


def choices(rt: Runtime, *, programme: str | None = None) -> FilterChoices:
    """The topics, regions and phases a search form offers."""
    with rt.db.transaction() as session:
        try:
            found = find_programme(session, programme)
        except NotFound:
            if programme is not None:
                raise
            found = None
        return _choices(session, found)


_ = date
