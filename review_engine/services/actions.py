"""Support follow-up: actions agreed from the EBIs, each with an owner, a supporting school,
success criteria, a due date or half-term and a RAG status with dated updates; an impact
review closes the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select

from review_engine.clock import as_utc
from review_engine.core.domain import HalfTerm, Rag
from review_engine.core.phases import Part, SupportState, SupportTrigger, WriteUpState
from review_engine.core.safe_text import NAME_MAX, check_day, check_int, check_text, check_urn
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import notices
from review_engine.services._context import CycleContext, open_cycle
from review_engine.services.calendars import calendars_for
from review_engine.store.models import Person, Review, School, TransitionLog
from review_engine.store.phase_tables import ActionUpdate, SupportAction


@dataclass(frozen=True)
class ActionView:
    cycle: str
    urn: int
    school: str
    number: int
    ebi: str
    title: str
    owner: str
    supporting_urn: int | None
    supporting_school: str | None
    success_criteria: str
    due: date | None
    due_label: str
    rag: str
    latest_update: str
    updated_at: datetime | None
    overdue: bool


def add_action(
    rt: Runtime,
    *,
    cycle: str,
    urn: int,
    ebi: int,
    title: str,
    owner: str,
    success_criteria: str,
    due: date | None = None,
    due_half_term: HalfTerm | None = None,
    supporting_urn: int | None = None,
    rag: Rag = Rag.AMBER,
) -> ActionView:
    """Turn the school's EBI number `ebi` (1-based, from its published write-up) into an action."""
    check_urn(urn)
    if supporting_urn is not None:
        check_urn(supporting_urn, "supporting school")
    check_int(ebi, "--ebi")
    check_text(title, "title", max_len=NAME_MAX, multiline=False)
    check_text(owner, "owner", max_len=NAME_MAX, multiline=False)
    check_text(success_criteria, "success criteria")
    if due is not None:
        check_day(due, "due date")
    if (due is None) == (due_half_term is None):
        raise InvalidInput("give a due date (--due YYYY-MM-DD) or a half-term (--by 'Spring 2')")
    if not title.strip() or not success_criteria.strip() or not owner.strip():
        raise InvalidInput("an action needs a title, an owner and success criteria")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_actor_of(
            Part.SUPPORT, SupportTrigger.AGREE_PLAN, urn, f"add support actions for school {urn}"
        )
        review = ctx.review(urn)
        if ctx.state(urn, Part.WRITE_UP) != WriteUpState.PUBLISHED:
            raise InvalidInput(
                f"school {urn}'s write-up is not published yet; actions come from its EBIs"
            )
        writeup = ctx.records.writeup(review)
        ebis = [i["text"] for i in (writeup.items if writeup else []) if i["kind"] == "ebi"]
        if not 1 <= ebi <= len(ebis):
            raise InvalidInput(
                f"school {urn} has {len(ebis)} EBIs in its write-up; --ebi must be 1-{len(ebis)}"
            )
        if supporting_urn is not None:
            members = policy.current_members(session, ctx.cluster.id or 0)
            if supporting_urn not in members or supporting_urn == urn:
                raise InvalidInput(
                    f"supporting school {supporting_urn} must be another member "
                    f"of {ctx.cluster.name}"
                )
        number = (
            session.exec(
                select(func.max(SupportAction.number)).where(SupportAction.review_id == review.id)
            ).one()
            or 0
        ) + 1
        assert review.id is not None
        action = SupportAction(
            review_id=review.id,
            number=number,
            ebi=ebis[ebi - 1],
            title=title.strip(),
            owner=owner.strip(),
            supporting_urn=supporting_urn,
            success_criteria=success_criteria.strip(),
            due_date=due,
            due_half_term=due_half_term.value if due_half_term else None,
            rag=rag.value,
            created_at=ctx.now,
        )
        session.add(action)
        session.flush()
        notices.action_assigned(ctx, urn, action)  # the supporting school hears of it
        return _views(ctx, [urn], number=number)[0]


def update_action(
    rt: Runtime, *, cycle: str, urn: int, number: int, rag: Rag, note: str
) -> ActionView:
    """A dated RAG update; complete closes the action."""
    check_urn(urn)
    check_int(number, "action number")
    check_text(note, "note")
    if not note.strip():
        raise InvalidInput("an update needs a note saying what changed")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_actor_of(
            Part.SUPPORT, SupportTrigger.START, urn, f"update support actions of school {urn}"
        )
        review = ctx.review(urn)
        action = session.exec(
            select(SupportAction).where(
                SupportAction.review_id == review.id, SupportAction.number == number
            )
        ).first()
        if action is None:
            raise NotFound("action", f"#{number}", f"school {urn} has no such action")
        action.rag = rag.value
        action.closed_at = ctx.now if rag is Rag.COMPLETE else None
        session.add(action)
        assert action.id is not None
        update = ActionUpdate(
            action_id=action.id, rag=rag.value, note=note.strip(), actor=ctx.actor.name, at=ctx.now
        )
        session.add(update)
        session.flush()
        notices.action_updated(ctx, urn, action, update)  # to the school supporting it
        return _views(ctx, [urn], number=number)[0]


def list_actions(
    rt: Runtime, *, cycle: str, urn: int | None = None, overdue: bool = False
) -> list[ActionView]:
    """Actions the actor may see: the facilitator all; a school its own and those it supports."""
    if urn is not None:
        check_urn(urn)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SUPPORT)
        urns = list(
            session.exec(select(Review.school_urn).where(Review.cycle_id == ctx.cycle_id)).all()
        )
        if urn is not None:
            urns = [u for u in urns if u == urn]
        views = _views(ctx, urns)
        if not policy.is_facilitator(ctx.actor, ctx.cluster.id or 0):
            mine = ctx.actor.school_urn
            views = [v for v in views if mine is not None and mine in (v.urn, v.supporting_urn)]
        if overdue:
            views = [v for v in views if v.overdue]
        return views


def _views(ctx: CycleContext, urns: list[int], number: int | None = None) -> list[ActionView]:
    """Actions of these schools with their latest update (three queries in all)."""
    session = ctx.session
    query = (
        select(SupportAction, Review.school_urn, School.name)
        .join(Review, col(Review.id) == SupportAction.review_id)
        .join(School, col(School.urn) == Review.school_urn)
        .where(Review.cycle_id == ctx.cycle_id, col(Review.school_urn).in_(urns))
        .order_by(col(School.name), col(SupportAction.number))
    )
    if number is not None:
        query = query.where(SupportAction.number == number)
    rows = session.exec(query).all()
    ids = [a.id for a, _, _ in rows]
    latest: dict[int, ActionUpdate] = {}
    for upd in session.exec(
        select(ActionUpdate)
        .where(col(ActionUpdate.action_id).in_(ids))
        .order_by(col(ActionUpdate.id))
    ):
        latest[upd.action_id] = upd
    supporters = {a.supporting_urn for a, _, _ in rows if a.supporting_urn}
    names = (
        dict(
            session.exec(
                select(School.urn, School.name).where(col(School.urn).in_(supporters))
            ).all()
        )
        if supporters
        else {}
    )
    calendars = calendars_for(session, {u for _, u, _ in rows}, ctx.cycle.academic_year)
    today = ctx.now.date()
    views = []
    for a, u, school in rows:
        due = a.due_date
        if due is None and a.due_half_term and u in calendars:
            due = calendars[u].end_of(HalfTerm(a.due_half_term))
        update = latest.get(a.id or 0)
        views.append(
            ActionView(
                cycle=ctx.label,
                urn=u,
                school=school,
                number=a.number,
                ebi=a.ebi,
                title=a.title,
                owner=a.owner,
                supporting_urn=a.supporting_urn,
                supporting_school=names.get(a.supporting_urn) if a.supporting_urn else None,
                success_criteria=a.success_criteria,
                due=due,
                due_label=a.due_date.isoformat() if a.due_date else (a.due_half_term or ""),
                rag=a.rag,
                latest_update=update.note if update else "",
                updated_at=update.at if update else None,
                overdue=a.rag != Rag.COMPLETE and due is not None and due < today,
            )
        )
    return views


def impact_review(
    rt: Runtime, *, cycle: str, urn: int, override: bool = False, reason: str | None = None
) -> str:
    """Review the impact and close the plan; open actions need the facilitator's override."""
    check_urn(urn)
    if reason is not None:
        check_text(reason, "reason")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        if ctx.state(urn, Part.SUPPORT) == SupportState.IN_PROGRESS:
            ctx.fire(Part.SUPPORT, SupportTrigger.REVIEW_IMPACT, urn)
        # Open actions, and who may override them, are the `actions_closed` guard's to judge.
        options = {"override": override}
        ctx.fire(Part.SUPPORT, SupportTrigger.CLOSE, urn, reason=reason, options=options)
        return ctx.state(urn, Part.SUPPORT)


# --- for the web pages: a school's support, as one person may see it --------------------------


@dataclass(frozen=True)
class UpdateView:
    """One dated note on an action: a RAG update by the school, or a supporting school's note."""

    rag: str
    note: str
    by: str  # the person's name (their e-mail if no longer registered)
    school: str
    at: datetime
    by_supporter: bool


@dataclass(frozen=True)
class PlanStepView:
    """A step of the school's support plan from history (agreed, started, impact reviewed...)."""

    trigger: str
    by: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class SupportPage:
    cycle: str
    urn: int
    school: str
    state: str
    may_manage: bool  # the school (or the facilitator): add actions, RAG updates, the plan
    actions: list[ActionView]
    updates: dict[int, list[UpdateView]]  # by action number, oldest first
    supporting: list[int]  # numbers of the actions the actor's school supports
    ebis: list[str]  # the published write-up's EBIs, numbered from 1
    members: list[tuple[int, str]]  # other schools of the cluster, to support an action
    steps: list[PlanStepView]
    next_steps: list[str]  # plan triggers the actor may fire now


def support_page(rt: Runtime, *, cycle: str, urn: int) -> SupportPage:
    """The school's support: for the school and the facilitator all of it; for a supporting
    school the actions it supports; anyone else gets NotFound, as for a school not in it."""
    check_urn(urn)
    hidden = NotFound("support plan", f"of school {urn}", "there is no such plan")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        machine = ctx.phase(Part.SUPPORT)
        try:
            review = ctx.review(urn)
        except NotFound:
            raise hidden from None
        have = ctx.relations(urn)
        manage = {
            a for t in machine.transitions if t.trigger == SupportTrigger.START for a in t.actors
        }
        may_manage = policy.allows(have, manage)
        views = _views(ctx, [urn])
        mine = ctx.actor.school_urn
        supporting = [v.number for v in views if mine is not None and v.supporting_urn == mine]
        if not may_manage:
            if not supporting:
                raise hidden
            views = [v for v in views if v.number in supporting]
        updates = _updates(ctx, review, [v.number for v in views], views)
        state = ctx.state(urn, Part.SUPPORT)
        writeup = ctx.records.writeup(review)
        published = ctx.state(urn, Part.WRITE_UP) == WriteUpState.PUBLISHED
        ebis = [
            i["text"]
            for i in (writeup.items if writeup and published else [])
            if i["kind"] == "ebi"
        ]
        members = [u for u in policy.current_members(session, ctx.cluster.id or 0) if u != urn]
        names = ctx.records.school_names({urn, *members})
        return SupportPage(
            cycle=ctx.label,
            urn=urn,
            school=names.get(urn, str(urn)),
            state=state,
            may_manage=may_manage,
            actions=views,
            updates=updates,
            supporting=supporting,
            ebis=ebis if may_manage else [],
            members=sorted(((u, names.get(u, str(u))) for u in members), key=lambda m: m[1]),
            steps=_plan_steps(ctx, urn) if may_manage else [],
            next_steps=[
                t.trigger
                for t in machine.transitions
                if state in t.sources and policy.allows(have, t.actors)
            ]
            if may_manage
            else [],
        )


def _updates(
    ctx: CycleContext, review: Review, numbers: list[int], views: list[ActionView]
) -> dict[int, list[UpdateView]]:
    """Every update of these actions with who wrote it (one query)."""
    if not numbers:
        return {}
    supporters = {v.number: v.supporting_urn for v in views}
    rows = ctx.session.exec(
        select(  # type: ignore[call-overload]
            ActionUpdate, SupportAction.number, Person.name, Person.school_urn, School.name
        )
        .join(SupportAction, col(SupportAction.id) == ActionUpdate.action_id)
        .outerjoin(Person, col(Person.email) == ActionUpdate.actor)
        .outerjoin(School, col(School.urn) == Person.school_urn)
        .where(SupportAction.review_id == review.id, col(SupportAction.number).in_(numbers))
        .order_by(col(ActionUpdate.id))
    ).all()
    found: dict[int, list[UpdateView]] = {n: [] for n in numbers}
    for update, number, person, school_urn, school in rows:
        found[number].append(
            UpdateView(
                rag=update.rag,
                note=update.note,
                by=person or update.actor,
                school=school or "",
                at=as_utc(update.at),
                by_supporter=school_urn is not None and school_urn == supporters.get(number),
            )
        )
    return found


def _plan_steps(ctx: CycleContext, urn: int) -> list[PlanStepView]:
    """The support plan's history for this school (one query)."""
    rows = ctx.session.exec(
        select(TransitionLog, Person.name)
        .outerjoin(Person, col(Person.email) == TransitionLog.actor)
        .where(
            TransitionLog.cycle_id == ctx.cycle_id,
            TransitionLog.school_urn == urn,
            TransitionLog.machine == ctx.phase(Part.SUPPORT).name,
        )
        .order_by(col(TransitionLog.id))
    ).all()
    return [
        PlanStepView(log.trigger, name or log.actor, as_utc(log.at), log.reason)
        for log, name in rows
    ]


def add_supporting_note(rt: Runtime, *, cycle: str, urn: int, number: int, note: str) -> ActionView:
    """A note on an action by the school supporting it (its RAG stays the school's to set).
    An action the actor's school does not support is not found."""
    check_urn(urn)
    check_int(number, "action number")
    check_text(note, "note")
    if not note.strip():
        raise InvalidInput("a note says what your school has seen or done")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        review = ctx.review(urn)
        action = session.exec(
            select(SupportAction).where(
                SupportAction.review_id == review.id, SupportAction.number == number
            )
        ).first()
        mine = ctx.actor.school_urn
        if action is None or mine is None or action.supporting_urn != mine:
            raise NotFound("action", f"#{number}", f"school {urn} has no such action")
        assert action.id is not None
        update = ActionUpdate(
            action_id=action.id, rag=action.rag, note=note.strip(), actor=ctx.actor.name, at=ctx.now
        )
        session.add(update)
        session.flush()
        notices.action_updated(ctx, urn, action, update)  # the school hears of its supporter's note
        return _views(ctx, [urn], number=number)[0]
