"""Programmes, their topics and stakeholders (who may nominate)."""

from __future__ import annotations

from sqlmodel import col, select

from review_engine.core.knowledge import (
    FIRST_ROUND_TOPICS,
    RegionRule,
    check_code,
    check_reflection_weeks,
    parse_phases,
    phases_text,
)
from review_engine.core.safe_text import NAME_MAX, check_name, check_text
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, WorkflowError
from review_engine.rules.knowledge_policy import require_admin, viewer
from review_engine.runtime import Runtime
from review_engine.services._lookup import check_year
from review_engine.services.knowledge import _engine
from review_engine.services.knowledge._load import (
    find_programme,
    programme_view,
    topic_view,
    topics_of,
)
from review_engine.services.knowledge.views import ProgrammeView, StakeholderView, TopicView
from review_engine.store.knowledge_tables import IkProgramme, IkStakeholder, IkTopic
from review_engine.store.models import Person, WorkflowSnapshot


def _region_rule(text: str) -> RegionRule:
    try:
        return RegionRule(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInput(
            f"region rule {text!r}: own_region (schools book in their own region) or anywhere"
        ) from None


def _reminder_days(days: int) -> int:
    if not 1 <= days <= 60:
        raise InvalidInput(f"reminder {days} days before the visit: between 1 and 60")
    return days


def create_programme(
    rt: Runtime,
    *,
    name: str,
    year: str,
    first_round_topics: bool = False,
    region_rule: str = "own_region",
    reflection_weeks: int = 8,
    reminder_days: int = 7,
    workflow: str = "inside-knowledge",
) -> ProgrammeView:
    """A new programme (admin only); with the five first-round topics if asked."""
    name = check_name(name, "programme name", max_len=NAME_MAX).strip()
    if "/" in name:
        raise InvalidInput(f"programme name {name!r} must not contain '/'")
    check_year(year)
    rule = _region_rule(region_rule)
    check_reflection_weeks(reflection_weeks)
    _reminder_days(reminder_days)
    definition = rt.catalog.get(workflow)
    if not definition.is_programme:
        raise WorkflowError(
            definition.name, "is a cycle workflow; a programme needs a programme workflow"
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        actor = require_admin(viewer(session, rt.actor), "create an Inside Knowledge programme")
        taken = session.exec(
            select(IkProgramme.id).where(IkProgramme.name == name, IkProgramme.year == year)
        ).first()
        if taken is not None:
            raise AlreadyExists("programme", f"{name}/{year}")
        if session.get(WorkflowSnapshot, definition.hash) is None:
            session.add(
                WorkflowSnapshot(
                    hash=definition.hash,
                    name=definition.name,
                    version=definition.version,
                    source=definition.source,
                    created_at=now,
                )
            )
            session.flush()
        programme = IkProgramme(
            name=name,
            year=year,
            workflow_name=definition.name,
            workflow_hash=definition.hash,
            region_rule=rule.value,
            reflection_weeks=reflection_weeks,
            reminder_days=reminder_days,
            created_at=now,
            created_by=actor.name,
        )
        session.add(programme)
        session.flush()
        assert programme.id is not None
        topics = []
        if first_round_topics:
            topics = [
                IkTopic(
                    programme_id=programme.id,
                    code=t.code,
                    title=t.title,
                    description=t.description,
                    phases=phases_text(t.phases),
                )
                for t in FIRST_ROUND_TOPICS
            ]
            session.add_all(topics)
            session.flush()
        _engine.remember(definition)
        return programme_view(programme, topics)


def update_settings(
    rt: Runtime,
    *,
    programme: str,
    region_rule: str | None = None,
    reflection_weeks: int | None = None,
    reminder_days: int | None = None,
) -> ProgrammeView:
    """Change a programme's rule for regions, reflection weeks or reminder days (admin)."""
    with rt.db.transaction() as session:
        require_admin(viewer(session, rt.actor), "change an Inside Knowledge programme")
        found = find_programme(session, programme)
        if region_rule is not None:
            found.region_rule = _region_rule(region_rule).value
        if reflection_weeks is not None:
            found.reflection_weeks = check_reflection_weeks(reflection_weeks)
        if reminder_days is not None:
            found.reminder_days = _reminder_days(reminder_days)
        session.add(found)
        session.flush()
        assert found.id is not None
        return programme_view(found, topics_of(session, found.id))


def add_topic(
    rt: Runtime,
    *,
    programme: str,
    code: str,
    title: str,
    phases: str = "",
    description: str = "",
) -> TopicView:
    """A topic (admin only); `phases` limits the offers and visitors it suits."""
    code = check_code(code)
    title = check_name(title, "topic title").strip()
    check_text(description, "topic description")
    keys = parse_phases(phases)
    with rt.db.transaction() as session:
        require_admin(viewer(session, rt.actor), "add a topic")
        found = find_programme(session, programme)
        assert found.id is not None
        exists = session.exec(
            select(IkTopic.id).where(IkTopic.programme_id == found.id, IkTopic.code == code)
        ).first()
        if exists is not None:
            raise AlreadyExists("topic", code)
        topic = IkTopic(
            programme_id=found.id,
            code=code,
            title=title,
            description=description.strip(),
            phases=phases_text(keys),
        )
        session.add(topic)
        session.flush()
        return topic_view(topic)


def add_stakeholder(
    rt: Runtime, *, programme: str, email: str, organisation: str
) -> StakeholderView:
    """Let a registered person nominate schools for the programme (admin only)."""
    organisation = check_name(organisation, "organisation").strip()
    with rt.db.transaction() as session:
        actor = require_admin(viewer(session, rt.actor), "add a stakeholder")
        found = find_programme(session, programme)
        assert found.id is not None
        person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
        if person is None or not person.active:
            raise NotFound("person", email, "register them first with `review people add`")
        assert person.id is not None
        exists = session.exec(
            select(IkStakeholder.id).where(
                IkStakeholder.programme_id == found.id, IkStakeholder.person_id == person.id
            )
        ).first()
        if exists is not None:
            raise AlreadyExists("stakeholder", person.email)
        session.add(
            IkStakeholder(
                programme_id=found.id,
                person_id=person.id,
                organisation=organisation,
                added_by=actor.name,
                added_at=rt.clock.now(),
            )
        )
        return StakeholderView(person.email, person.name, organisation)


def get_programme(rt: Runtime, *, programme: str | None = None) -> ProgrammeView:
    """A programme with its topics (anyone, signed in or not); its stakeholders for an admin.
    None: the newest."""
    with rt.db.transaction() as session:
        found = find_programme(session, programme)
        assert found.id is not None
        reader = viewer(session, rt.actor)
        stakeholders: tuple[StakeholderView, ...] = ()
        if reader is not None and reader.admin:
            stakeholders = tuple(
                StakeholderView(p.email, p.name, s.organisation)
                for s, p in session.exec(
                    select(IkStakeholder, Person)
                    .join(Person, Person.id == IkStakeholder.person_id)  # type: ignore[arg-type]
                    .where(IkStakeholder.programme_id == found.id)
                    .order_by(col(Person.name))
                ).all()
            )
        return programme_view(found, topics_of(session, found.id), stakeholders)


def list_programmes(rt: Runtime) -> list[ProgrammeView]:
    """Every programme, newest first (anyone)."""
    with rt.db.transaction() as session:
        rows = list(session.exec(select(IkProgramme).order_by(col(IkProgramme.id).desc())).all())
        topics = list(
            session.exec(
                select(IkTopic)
                .where(col(IkTopic.programme_id).in_({p.id for p in rows}))
                .order_by(col(IkTopic.id))
            ).all()
        )
        return [programme_view(p, [t for t in topics if t.programme_id == p.id]) for p in rows]
