"""Feedback on visits: immediate (visitors and host, 1-5 usefulness and a comment) and a
later reflection from each visiting school on what it changed in its own practice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select

from review_engine.core.phases import Part, VisitState
from review_engine.core.relations import Relation
from review_engine.core.safe_text import NAME_MAX, check_text, check_urn
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._context import CycleContext, open_cycle
from review_engine.store.models import Review, ReviewState
from review_engine.store.phase_tables import Feedback, TriadPlace, VisitPlan

REFLECTION_WEEKS = 6


@dataclass(frozen=True)
class FeedbackView:
    host: int
    host_name: str
    from_urn: int
    from_name: str
    kind: str
    usefulness: int | None
    comment: str
    changed_practice: str | None


@dataclass(frozen=True)
class MissingFeedback:
    host: int
    from_urn: int
    kind: str
    due: date


def give(
    rt: Runtime,
    *,
    cycle: str,
    host: int,
    kind: str,
    usefulness: int | None = None,
    comment: str = "",
    changed_practice: str | None = None,
) -> FeedbackView:
    """Record the acting school's feedback on the visit to `host`."""
    check_urn(host)
    check_text(kind, "feedback kind", max_len=NAME_MAX, multiline=False)
    check_text(comment, "comment")
    if changed_practice is not None:
        check_text(changed_practice, "what changed")
    if kind not in ("immediate", "reflection"):
        raise InvalidInput("feedback kind is immediate or reflection")
    if kind == "immediate" and (usefulness is None or not 1 <= usefulness <= 5):
        raise InvalidInput("immediate feedback needs --usefulness from 1 (not useful) to 5")
    if kind == "reflection" and not (changed_practice and changed_practice.strip()):
        raise InvalidInput("a reflection says what your school changed (--changed TEXT)")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        have = ctx.relations(host)
        school = ctx.actor.school_urn
        if school is None or not have & {Relation.SCHOOL, Relation.REVIEWER}:
            raise NotPermitted(
                ctx.actor.name,
                f"give feedback on the visit to {host}",
                "only the host and its visiting schools give feedback",
            )
        if kind == "reflection" and Relation.REVIEWER not in have:
            raise NotPermitted(
                ctx.actor.name, "give a reflection", "reflections come from the visiting schools"
            )
        if ctx.state(host, Part.PEER_VISIT) != VisitState.VISITED:
            raise InvalidInput(f"the visit to {host} has not happened yet")
        review = ctx.review(host)
        taken = session.exec(
            select(Feedback).where(
                Feedback.review_id == review.id, Feedback.from_urn == school, Feedback.kind == kind
            )
        ).first()
        if taken is not None:
            raise AlreadyExists(f"{kind} feedback", f"from {school} on the visit to {host}")
        assert review.id is not None
        row = Feedback(
            review_id=review.id,
            from_urn=school,
            kind=kind,
            usefulness=usefulness,
            comment=comment.strip(),
            changed_practice=changed_practice,
            actor=ctx.actor.name,
            at=ctx.now,
        )
        session.add(row)
        session.flush()
        return _views(ctx, [row])[0]


def list_feedback(rt: Runtime, *, cycle: str) -> list[FeedbackView]:
    """The facilitator sees all; a school sees what it gave and immediate feedback on its visit."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        rows = session.exec(
            select(Feedback)
            .join(Review, col(Review.id) == Feedback.review_id)
            .where(Review.cycle_id == ctx.cycle_id)
            .order_by(col(Feedback.id))
        ).all()
        views = _views(ctx, list(rows))
        if not policy.is_facilitator(ctx.actor, ctx.cluster.id or 0):
            mine = ctx.actor.school_urn
            views = [
                v for v in views if v.from_urn == mine or (v.host == mine and v.kind == "immediate")
            ]
        return views


def _views(ctx: CycleContext, rows: list[Feedback]) -> list[FeedbackView]:
    hosts = (
        dict(
            ctx.session.exec(
                select(Review.id, Review.school_urn).where(
                    col(Review.id).in_({r.review_id for r in rows})
                )
            ).all()
        )
        if rows
        else {}
    )
    names = ctx.records.school_names({*hosts.values(), *(r.from_urn for r in rows)})
    return [
        FeedbackView(
            host=hosts[r.review_id],
            host_name=names.get(hosts[r.review_id], ""),
            from_urn=r.from_urn,
            from_name=names.get(r.from_urn, ""),
            kind=r.kind,
            usefulness=r.usefulness,
            comment=r.comment,
            changed_practice=r.changed_practice,
        )
        for r in rows
    ]


def missing(ctx: CycleContext, *, today: date) -> list[MissingFeedback]:
    """Feedback owed for visits that happened: immediate now, reflections once due; only on
    visits whose host the actor may see (a line names the visitor, the host and the date)."""
    session = ctx.session
    peer_visit = ctx.definition.parts.get(Part.PEER_VISIT)
    if peer_visit is None:  # a workflow without visits owes no feedback on them
        return []
    hosts = policy.visible_schools(session, ctx.actor, ctx.cycle)
    visited = session.exec(
        select(
            col(Review.id), Review.school_urn, col(VisitPlan.visited_on), col(VisitPlan.visit_date)
        )
        .join(ReviewState, col(ReviewState.review_id) == Review.id)
        .outerjoin(VisitPlan, col(VisitPlan.review_id) == Review.id)
        .where(
            Review.cycle_id == ctx.cycle_id,
            ReviewState.machine == peer_visit.name,
            ReviewState.state == VisitState.VISITED,
        )
    ).all()
    if not visited:
        return []
    given = {
        (r.review_id, r.from_urn, r.kind)
        for r in session.exec(
            select(Feedback).where(col(Feedback.review_id).in_([v[0] for v in visited]))
        )
    }
    visitors: dict[int, list[int]] = {}
    for t in session.exec(select(TriadPlace).where(TriadPlace.cycle_id == ctx.cycle_id)):
        visitors.setdefault(t.host_urn, []).append(t.visitor_urn)
    owed = []
    for review_id, host, visited_on, planned in visited:
        if hosts is not None and host not in hosts:
            continue
        day = visited_on or planned or today
        for urn in [host, *sorted(visitors.get(host, []))]:
            if (review_id, urn, "immediate") not in given:
                owed.append(MissingFeedback(host, urn, "immediate", day))
        due = day + timedelta(weeks=REFLECTION_WEEKS)
        if due <= today:
            owed += [
                MissingFeedback(host, urn, "reflection", due)
                for urn in sorted(visitors.get(host, []))
                if (review_id, urn, "reflection") not in given
            ]
    return owed


# --- for the web pages: one school's feedback on one visit ------------------------------------


@dataclass(frozen=True)
class FeedbackPage:
    cycle: str
    host: int
    host_name: str
    as_host: bool  # the acting school hosted the visit (else it visited)
    visited: bool
    visit_day: date | None
    immediate: FeedbackView | None  # what the acting school gave on the day
    reflection: FeedbackView | None  # and later
    may_give: bool
    may_reflect: bool
    reflection_due: date | None
    received: list[FeedbackView]  # feedback on this visit the actor may read (not their own)


def feedback_page(rt: Runtime, *, cycle: str, host: int) -> FeedbackPage:
    """The visit's feedback for its host, its visiting schools and the facilitator; anyone
    else gets NotFound, as for a visit that does not exist."""
    check_urn(host)
    hidden = NotFound("visit", f"to school {host}", "there is no such visit")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        try:
            review = ctx.review(host)
        except NotFound:
            raise hidden from None
        have = ctx.relations(host)
        if not have & {Relation.SCHOOL, Relation.REVIEWER, Relation.FACILITATOR}:
            raise hidden
        mine = ctx.actor.school_urn
        visited = ctx.state(host, Part.PEER_VISIT) == VisitState.VISITED
        plan = ctx.records.visit_plan(review)
        day = (plan.visited_on or plan.visit_date) if plan else None
        rows = list(
            session.exec(
                select(Feedback).where(Feedback.review_id == review.id).order_by(col(Feedback.id))
            )
        )
        views = _views(ctx, rows)
        own = {v.kind: v for v in views if mine is not None and v.from_urn == mine}
        facilitator = Relation.FACILITATOR in have
        # As list_feedback: the facilitator reads all; the host the immediate feedback on its
        # visit; a visiting school only its own.
        received = [
            v
            for v in views
            if v.from_urn != mine
            and (facilitator or (Relation.SCHOOL in have and v.kind == "immediate"))
        ]
        gives = mine is not None and bool(have & {Relation.SCHOOL, Relation.REVIEWER})
        return FeedbackPage(
            cycle=ctx.label,
            host=host,
            host_name=ctx.records.school_names({host}).get(host, str(host)),
            as_host=Relation.SCHOOL in have,
            visited=visited,
            visit_day=day,
            immediate=own.get("immediate"),
            reflection=own.get("reflection"),
            may_give=gives and visited,
            may_reflect=gives and visited and Relation.REVIEWER in have,
            reflection_due=day + timedelta(weeks=REFLECTION_WEEKS) if day else None,
            received=received,
        )
