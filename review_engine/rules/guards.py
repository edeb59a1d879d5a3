"""Guards named by workflow files (`review_engine.core.phases.GuardName`), one function each.

A guard looks at the record a trigger is fired on and returns None to allow the transition,
or a sentence saying why not (which becomes a GuardRejected error). Guards read through the
transaction's `CycleRecords`, so a row a service has just loaded is not read again, and find
the machine of another part through the workflow (the visit machine need not be called
`peer_visit`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from review_engine.clock import to_london
from review_engine.core.domain import Rag
from review_engine.core.phases import GuardName, Part, SelfReviewTrigger, VisitState
from review_engine.core.relations import Relation
from review_engine.core.workflow import WorkflowDef
from review_engine.store.models import Review
from review_engine.store.records import CycleRecords


@dataclass
class GuardContext:
    """What a guard may look at: the cycle's records, the school's review and its states,
    who is acting and how they stand to the school, and what they gave."""

    records: CycleRecords
    definition: WorkflowDef
    review: Review | None
    states: Mapping[str, str]
    actor: str
    relations: frozenset[Relation]
    now: datetime
    reason: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def school_review(self) -> Review:
        assert self.review is not None, "a school's guard runs on a school's review"
        return self.review


Guard = Callable[[GuardContext], str | None]
GUARDS: dict[str, Guard] = {}


def guard(name: GuardName) -> Callable[[Guard], Guard]:
    """Register a guard under the name workflow files use."""

    def register(fn: Guard) -> Guard:
        GUARDS[name.value] = fn
        return fn

    return register


@guard(GuardName.VISIT_HAPPENED)
def _visit_happened(ctx: GuardContext) -> str | None:
    state = ctx.states.get(ctx.definition.phase(Part.PEER_VISIT).name)
    if state != VisitState.VISITED:
        return f"the visit has not happened yet (peer visit is {state})"
    return None


@guard(GuardName.SEF_COMPLETE)
def _sef_complete(ctx: GuardContext) -> str | None:
    review = ctx.school_review
    versions = ctx.records.sef_versions(review)
    if not versions:
        return "no self-evaluation has been submitted (use `review sef submit`)"
    machine = ctx.definition.phase(Part.SELF_REVIEW).name
    returns = ctx.records.times_fired(review.school_urn, machine, SelfReviewTrigger.RETURN)
    if versions <= returns:
        return "the returned self-evaluation needs a new version (use `review sef submit`)"
    return None


@guard(GuardName.TRIAD_FORMED)
def _triad_formed(ctx: GuardContext) -> str | None:
    places = ctx.records.places(ctx.school_review.school_urn)
    if not places:
        return "no visitors are allocated (use `review triads propose` or `review triads set`)"
    if sum(1 for p in places if p.is_lead) != 1:
        return "the triad needs exactly one lead reviewer"
    return None


@guard(GuardName.FOCUS_SET)
def _focus_set(ctx: GuardContext) -> str | None:
    plan = ctx.records.visit_plan(ctx.school_review)
    if plan is None or not plan.focus or not plan.enquiry_question:
        return "the host has not set the focus and enquiry question (use `review visit focus`)"
    return None


@guard(GuardName.VISIT_DATED)
def _visit_dated(ctx: GuardContext) -> str | None:
    plan = ctx.records.visit_plan(ctx.school_review)
    if plan is None or plan.visit_date is None or plan.slot is None:
        return "the visit has no date and slot (use `review visit schedule`)"
    return None


@guard(GuardName.VISIT_DAY_REACHED)
def _visit_day_reached(ctx: GuardContext) -> str | None:
    plan = ctx.records.visit_plan(ctx.school_review)
    day = plan and (plan.visited_on or plan.visit_date)
    if not day:
        return "the visit has no date (use `review visit schedule`)"
    if day > to_london(ctx.now).date():
        return (
            f"the visit is dated {day:%a %d %b %Y}, which has not come yet; "
            "record it on the day or after"
        )
    return None


@guard(GuardName.DRAFT_WRITTEN)
def _draft_written(ctx: GuardContext) -> str | None:
    writeup = ctx.records.writeup(ctx.school_review)
    if writeup is None:
        return "no draft has been written (use `review writeup draft`)"
    kinds = {item.get("kind") for item in writeup.items}
    if not {"www", "ebi"} <= kinds:
        return "a write-up needs at least one What Went Well and one Even Better If"
    return None


def _agreed(ctx: GuardContext, role: str) -> set[int] | None:
    writeup = ctx.records.writeup(ctx.school_review)
    if writeup is None:
        return None
    return {
        d.school_urn
        for d in ctx.records.decisions(writeup)
        if d.role == role and d.decision == "agreed"
    }


@guard(GuardName.REVIEWERS_AGREED)
def _reviewers_agreed(ctx: GuardContext) -> str | None:
    agreed = _agreed(ctx, "reviewer")
    if agreed is None:
        return "there is no write-up to agree"
    places = ctx.records.places(ctx.school_review.school_urn)
    waiting = sorted({p.visitor_urn for p in places if not p.is_lead} - agreed)
    if waiting:
        return f"co-reviewers have not agreed yet: {', '.join(map(str, waiting))}"
    return None


@guard(GuardName.HOST_AGREED)
def _host_agreed(ctx: GuardContext) -> str | None:
    agreed = _agreed(ctx, "host")
    if agreed is None:
        return "there is no write-up to agree"
    if ctx.school_review.school_urn not in agreed:
        return "the host has not agreed this draft (the host agrees with `review writeup agree`)"
    return None


@guard(GuardName.SHARING_CHOSEN)
def _sharing_chosen(ctx: GuardContext) -> str | None:
    writeup = ctx.records.writeup(ctx.school_review)
    if writeup is None or writeup.sharing is None:
        return "the host has not chosen how to share it (reviewers, cluster or named schools)"
    return None


@guard(GuardName.ACTIONS_CLOSED)
def _actions_closed(ctx: GuardContext) -> str | None:
    open_actions = ctx.records.open_actions(ctx.school_review, Rag.COMPLETE)
    if not open_actions:
        return None
    listed = ", ".join(f"#{n}" for n in open_actions)
    if not ctx.options.get("override"):
        return (
            f"support actions are still open ({listed}); complete them, or the facilitator "
            "may override with --override and a reason"
        )
    if Relation.FACILITATOR not in ctx.relations:
        return f"support actions are still open ({listed}); only the facilitator may override"
    if not (ctx.reason and ctx.reason.strip()):
        return "an override needs a reason (--reason)"
    return None
