"""What a signed-in person has to do in Inside Knowledge (a page's "my visits")."""

from __future__ import annotations

from sqlmodel import col, select

from review_engine.core.knowledge import OfferState
from review_engine.rules.knowledge_policy import is_stakeholder, require_signed_in, viewer
from review_engine.runtime import Runtime
from review_engine.services.knowledge._load import (
    booking_views,
    find_programme,
    now_and_today,
    offer_views,
    topic_view,
)
from review_engine.services.knowledge.feedback import owed
from review_engine.services.knowledge.nominations import APPROVED, PENDING, _views
from review_engine.services.knowledge.views import MyInsideKnowledge
from review_engine.store.knowledge_tables import IkBooking, IkNomination, IkOffer, IkTopic
from review_engine.store.models import School


def my_inside_knowledge(rt: Runtime, *, programme: str | None = None) -> MyInsideKnowledge:
    """The acting person's school's offers and bookings, feedback it owes, the topics it may
    offer; for an admin, nominations to decide. NotPermitted for nobody (not signed in)."""
    _, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        actor = require_signed_in(viewer(session, rt.actor), "see their Inside Knowledge work")
        found = find_programme(session, programme)
        assert found.id is not None
        pending = (
            _views(
                session,
                list(
                    session.exec(
                        select(IkNomination)
                        .where(
                            IkNomination.programme_id == found.id, IkNomination.status == PENDING
                        )
                        .order_by(col(IkNomination.id))
                    ).all()
                ),
            )
            if actor.admin
            else []
        )
        urn = actor.school_urn
        if urn is None:
            return MyInsideKnowledge(
                None,
                None,
                pending_nominations=tuple(pending),
                is_admin=actor.admin,
                is_stakeholder=is_stakeholder(session, actor, found.id),
            )
        school = session.get(School, urn)
        offers = list(
            session.exec(
                select(IkOffer)
                .where(
                    IkOffer.host_urn == urn,
                    IkOffer.programme_id == found.id,
                    col(IkOffer.state) != OfferState.CANCELLED,
                )
                .order_by(col(IkOffer.visit_date))
            ).all()
        )
        rows = session.exec(
            select(IkBooking, IkOffer)
            .join(IkOffer, IkOffer.id == IkBooking.offer_id)  # type: ignore[arg-type]
            .where(IkBooking.school_urn == urn, IkOffer.programme_id == found.id)
            .order_by(col(IkOffer.visit_date), col(IkBooking.id))
        ).all()
        topics = session.exec(
            select(IkTopic)
            .join(IkNomination, IkNomination.topic_id == IkTopic.id)  # type: ignore[arg-type]
            .where(
                IkNomination.school_urn == urn,
                IkNomination.programme_id == found.id,
                IkNomination.status == APPROVED,
            )
            .order_by(col(IkTopic.id))
        ).all()
        return MyInsideKnowledge(
            school_urn=urn,
            school_name=school.name if school else None,
            offers=tuple(offer_views(session, offers, today)),
            bookings=tuple(
                booking_views(
                    session,
                    [b for b, _ in rows],
                    offers={o.id or 0: o for _, o in rows},
                    reflection_weeks={found.id: found.reflection_weeks},
                )
            ),
            pending_nominations=tuple(pending),
            approved_topics=tuple(topic_view(t) for t in topics),
            feedback_due=tuple(owed(session, {urn}, today)),
            is_admin=actor.admin,
            is_stakeholder=is_stakeholder(session, actor, found.id),
        )
