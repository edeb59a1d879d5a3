"""Nominations of host schools for a topic, and the admin's approval or decline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from review_engine.core.knowledge import fits_phases, split_phases
from review_engine.core.safe_text import check_int, check_text, check_urn
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.rules.knowledge_policy import (
    is_stakeholder,
    require_admin,
    require_nominator,
    require_signed_in,
    viewer,
)
from review_engine.runtime import Runtime
from review_engine.services.knowledge._load import find_programme, get_school, get_topic, schools
from review_engine.services.knowledge.views import NominationView
from review_engine.store.knowledge_tables import IkNomination, IkStakeholder, IkTopic
from review_engine.store.models import Person

PENDING, APPROVED, DECLINED = "pending", "approved", "declined"
STATUS_WORDS = {
    PENDING: "Waiting for a decision",
    APPROVED: "Approved host",
    DECLINED: "Declined",
}


def _views(session: Session, rows: Sequence[IkNomination]) -> list[NominationView]:
    """Views of nominations: topics, schools and nominators' names in three queries."""
    if not rows:
        return []
    topics = {
        t.id: t
        for t in session.exec(
            select(IkTopic).where(col(IkTopic.id).in_({r.topic_id for r in rows}))
        ).all()
    }
    names = schools(session, {r.school_urn for r in rows})
    people = dict(
        session.exec(
            select(Person.email, Person.name).where(
                col(Person.email).in_(
                    {r.nominated_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
                )
            )
        ).all()
    )
    views = []
    for r in rows:
        assert r.id is not None
        t = topics[r.topic_id]
        views.append(
            NominationView(
                id=r.id,
                programme_id=r.programme_id,
                topic_code=t.code,
                topic_title=t.title,
                school_urn=r.school_urn,
                school_name=names[r.school_urn].name,
                region=names[r.school_urn].region,
                nominated_by=people.get(r.nominated_by, r.nominated_by),
                organisation=r.organisation,
                reason=r.reason,
                status=r.status,
                status_words=STATUS_WORDS.get(r.status, r.status),
                decided_by=people.get(r.decided_by, r.decided_by) if r.decided_by else None,
                decided_at=r.decided_at,
                decision_note=r.decision_note,
                created_at=r.created_at,
            )
        )
    return views


def nominate(
    rt: Runtime, *, programme: str | None, topic: str, school: int, reason: str
) -> NominationView:
    """Nominate a school for a topic (a stakeholder of the programme or an admin)."""
    check_urn(school)
    reason = check_text(reason, "reason").strip()
    if not reason:
        raise InvalidInput("say why the school excels in the topic (--reason)")
    with rt.db.transaction() as session:
        found = find_programme(session, programme)
        assert found.id is not None
        actor = require_nominator(session, viewer(session, rt.actor), found.id)
        chosen = get_topic(session, found.id, topic)
        host = get_school(session, school)
        if host.is_closed:
            raise InvalidInput(f"{host.name} is closed; only open schools can host")
        phases = split_phases(chosen.phases)
        if not fits_phases(host.phase, phases):
            raise InvalidInput(
                f"{chosen.title} is for {', '.join(phases)} schools; "
                f"{host.name} is {host.phase or 'of no known phase'}"
            )
        exists = session.exec(
            select(IkNomination).where(
                IkNomination.topic_id == chosen.id, IkNomination.school_urn == school
            )
        ).first()
        if exists is not None:
            raise AlreadyExists(
                "nomination",
                f"of {host.name} for {chosen.title} ({STATUS_WORDS[exists.status].lower()})",
            )
        organisation = ""
        if not actor.admin or actor.role is not None:
            organisation = (
                session.exec(
                    select(IkStakeholder.organisation)
                    .join(Person, Person.id == IkStakeholder.person_id)  # type: ignore[arg-type]
                    .where(IkStakeholder.programme_id == found.id, Person.email == actor.name)
                ).first()
                or ""
            )
        assert chosen.id is not None
        row = IkNomination(
            programme_id=found.id,
            topic_id=chosen.id,
            school_urn=school,
            nominated_by=actor.name,
            organisation=organisation or ("Programme admin" if actor.admin else ""),
            reason=reason,
            created_at=rt.clock.now(),
        )
        session.add(row)
        session.flush()
        return _views(session, [row])[0]


def _decide(rt: Runtime, nomination: int, status: str, note: str) -> NominationView:
    check_int(nomination, "nomination")
    note = check_text(note, "note").strip()
    with rt.db.transaction() as session:
        actor = require_admin(viewer(session, rt.actor), "decide nominations")
        row = session.exec(
            select(IkNomination).where(IkNomination.id == nomination).with_for_update()
        ).first()
        if row is None:
            raise NotFound("nomination", nomination)
        if row.status != PENDING:
            raise InvalidInput(
                f"nomination {nomination} was already {row.status} on {row.decided_at:%d %b %Y}"
                if row.decided_at
                else f"nomination {nomination} was already {row.status}"
            )
        row.status = status
        row.decided_by = actor.name
        row.decided_at = rt.clock.now()
        row.decision_note = note
        session.add(row)
        session.flush()
        return _views(session, [row])[0]


def approve(rt: Runtime, *, nomination: int, note: str = "") -> NominationView:
    """Approve a pending nomination: the school may then offer visits in the topic (admin)."""
    return _decide(rt, nomination, APPROVED, note)


def decline(rt: Runtime, *, nomination: int, note: str) -> NominationView:
    """Decline a pending nomination, saying why (admin)."""
    if not note.strip():
        raise InvalidInput("say why the nomination is declined (--note)")
    return _decide(rt, nomination, DECLINED, note)


def list_nominations(
    rt: Runtime, *, programme: str | None = None, status: str | None = None
) -> list[NominationView]:
    """Nominations the actor may see: an admin all; a stakeholder theirs; a school its own."""
    if status is not None and status not in STATUS_WORDS:
        raise InvalidInput(f"status {status!r}: one of {', '.join(STATUS_WORDS)}")
    with rt.db.transaction() as session:
        found = find_programme(session, programme)
        assert found.id is not None
        actor = require_signed_in(viewer(session, rt.actor), "see nominations")
        query = select(IkNomination).where(IkNomination.programme_id == found.id)
        if status:
            query = query.where(IkNomination.status == status)
        if not actor.admin:
            mine = is_stakeholder(session, actor, found.id)
            if not mine and actor.school_urn is None:
                raise NotPermitted(
                    actor.name, "see nominations", "only admins, stakeholders and schools may"
                )
            conditions: list[Any] = []
            if mine:
                conditions.append(IkNomination.nominated_by == actor.name)
            if actor.school_urn is not None:
                conditions.append(IkNomination.school_urn == actor.school_urn)
            query = query.where(or_(*conditions))
        rows = list(session.exec(query.order_by(col(IkNomination.id))).all())
        return _views(session, rows)


def approved_topic_ids(session: Session, programme_id: int, school: int) -> set[int]:
    """Topics a school is an approved host for (one query)."""
    return set(
        session.exec(
            select(IkNomination.topic_id).where(
                IkNomination.programme_id == programme_id,
                IkNomination.school_urn == school,
                IkNomination.status == APPROVED,
            )
        ).all()
    )
