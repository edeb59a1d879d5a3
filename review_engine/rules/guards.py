"""Guards named by workflow files, resolved from one registry.

A guard looks at the record a trigger is fired on and returns None to allow the transition,
or a sentence saying why not (which becomes a GuardRejected error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from review_engine.core.domain import Rag
from review_engine.store.models import Cycle, Review, TransitionLog
from review_engine.store.phase_tables import (
    SelfEvaluation,
    SupportAction,
    TriadPlace,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)


@dataclass
class GuardContext:
    """What a guard may look at: the cycle, the school's review and its phase states."""

    session: Session
    cycle: Cycle
    review: Review | None
    states: Mapping[str, str]
    actor: str
    reason: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


Guard = Callable[[GuardContext], str | None]
GUARDS: dict[str, Guard] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a guard under the name workflow files use."""

    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        return fn

    return register


@guard("visit_happened")
def _visit_happened(ctx: GuardContext) -> str | None:
    state = ctx.states.get("peer_visit")
    if state != "visited":
        return f"the visit has not happened yet (peer visit is {state})"
    return None


def _one(ctx: GuardContext, table: type[Any]) -> Any:
    assert ctx.review is not None
    return ctx.session.exec(select(table).where(table.review_id == ctx.review.id)).first()


@guard("sef_complete")
def _sef_complete(ctx: GuardContext) -> str | None:
    assert ctx.review is not None
    versions = ctx.session.exec(
        select(func.count()).where(SelfEvaluation.review_id == ctx.review.id)
    ).one()
    if not versions:
        return "no self-evaluation has been submitted (use `review sef submit`)"
    returns = ctx.session.exec(
        select(func.count()).where(
            TransitionLog.cycle_id == ctx.cycle.id,
            TransitionLog.school_urn == ctx.review.school_urn,
            TransitionLog.machine == "self_review",
            TransitionLog.trigger == "return",
        )
    ).one()
    if versions <= returns:
        return "the returned self-evaluation needs a new version (use `review sef submit`)"
    return None


@guard("triad_formed")
def _triad_formed(ctx: GuardContext) -> str | None:
    assert ctx.review is not None
    places = ctx.session.exec(
        select(TriadPlace.is_lead).where(
            TriadPlace.cycle_id == ctx.cycle.id, TriadPlace.host_urn == ctx.review.school_urn
        )
    ).all()
    if not places:
        return "no visitors are allocated (use `review triads propose` or `review triads set`)"
    if sum(1 for lead in places if lead) != 1:
        return "the triad needs exactly one lead reviewer"
    return None


@guard("focus_set")
def _focus_set(ctx: GuardContext) -> str | None:
    plan = _one(ctx, VisitPlan)
    if plan is None or not plan.focus or not plan.enquiry_question:
        return "the host has not set the focus and enquiry question (use `review visit focus`)"
    return None


@guard("visit_dated")
def _visit_dated(ctx: GuardContext) -> str | None:
    plan = _one(ctx, VisitPlan)
    if plan is None or plan.visit_date is None or plan.slot is None:
        return "the visit has no date and slot (use `review visit schedule`)"
    return None


@guard("draft_written")
def _draft_written(ctx: GuardContext) -> str | None:
    writeup = _one(ctx, WriteUp)
    if writeup is None:
        return "no draft has been written (use `review writeup draft`)"
    kinds = {item.get("kind") for item in writeup.items}
    if not {"www", "ebi"} <= kinds:
        return "a write-up needs at least one What Went Well and one Even Better If"
    return None


@guard("reviewers_agreed")
def _reviewers_agreed(ctx: GuardContext) -> str | None:
    assert ctx.review is not None
    writeup = _one(ctx, WriteUp)
    if writeup is None:
        return "there is no write-up to agree"
    co_reviewers = set(
        ctx.session.exec(
            select(TriadPlace.visitor_urn).where(
                TriadPlace.cycle_id == ctx.cycle.id,
                TriadPlace.host_urn == ctx.review.school_urn,
                col(TriadPlace.is_lead).is_(False),
            )
        ).all()
    )
    agreed = set(
        ctx.session.exec(
            select(WriteUpDecision.school_urn).where(
                WriteUpDecision.writeup_id == writeup.id,
                WriteUpDecision.version == writeup.version,
                WriteUpDecision.role == "reviewer",
                WriteUpDecision.decision == "agreed",
            )
        ).all()
    )
    waiting = sorted(co_reviewers - agreed)
    if waiting:
        return f"co-reviewers have not agreed yet: {', '.join(map(str, waiting))}"
    return None


@guard("sharing_chosen")
def _sharing_chosen(ctx: GuardContext) -> str | None:
    writeup = _one(ctx, WriteUp)
    if writeup is None or writeup.sharing is None:
        return "the host has not chosen how to share it (reviewers, cluster or named schools)"
    return None


@guard("actions_closed")
def _actions_closed(ctx: GuardContext) -> str | None:
    assert ctx.review is not None
    open_actions = ctx.session.exec(
        select(SupportAction.number).where(
            SupportAction.review_id == ctx.review.id, SupportAction.rag != Rag.COMPLETE
        )
    ).all()
    if open_actions and not ctx.options.get("override"):
        listed = ", ".join(f"#{n}" for n in sorted(open_actions))
        return (
            f"support actions are still open ({listed}); complete them, or the facilitator "
            "may override with --override and a reason"
        )
    if open_actions and not (ctx.reason and ctx.reason.strip()):
        return "an override needs a reason (--reason)"
    return None
