"""Self-evaluation (SEF): the template a head fills in, submission with every version kept,
and the facilitator's accept or return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, delete, select

from review_engine.core.frameworks import get_framework
from review_engine.core.phases import Part, SelfReviewState, SelfReviewTrigger
from review_engine.core.safe_text import NAME_MAX, check_int, check_text, check_urn
from review_engine.core.sef_file import SefFormat, parse, template
from review_engine.errors import InvalidInput, NotFound
from review_engine.runtime import Runtime
from review_engine.services._context import CycleContext, open_cycle
from review_engine.store.phase_tables import SelfEvaluation
from review_engine.store.web_tables import Draft


@dataclass(frozen=True)
class SefAreaView:
    key: str
    title: str
    grade: str
    grade_label: str
    strengths: str
    areas_for_development: str
    evidence: str


@dataclass(frozen=True)
class SefView:
    cycle: str
    urn: int
    school: str
    framework: str
    version: int
    versions: int
    state: str
    enquiry_question: str
    submitted_by: str
    submitted_at: datetime
    areas: list[SefAreaView]


def sef_template(rt: Runtime, *, cycle: str, urn: int, fmt: SefFormat) -> str:
    """A blank SEF for one school of a cycle, in the cluster's framework."""
    check_urn(urn)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SELF_REVIEW)
        ctx.review(urn)
        school = ctx.school(urn)
        return template(get_framework(ctx.cluster.framework), school=school.name, urn=urn, fmt=fmt)


def submit_sef(
    rt: Runtime, *, cycle: str, urn: int, text: str, fmt: SefFormat, source: str = ""
) -> SefView:
    """Validate and store a new SEF version, and move self-review to submitted."""
    check_urn(urn)
    check_text(source, "file name", max_len=NAME_MAX, multiline=False)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_actor_of(
            Part.SELF_REVIEW,
            SelfReviewTrigger.SUBMIT,
            urn,
            f"submit the self-evaluation of school {urn}",
        )
        state = ctx.state(urn, Part.SELF_REVIEW)
        if state in (SelfReviewState.SUBMITTED, SelfReviewState.ACCEPTED):
            raise InvalidInput(
                f"{ctx.label} school {urn}: self-evaluation is already {state}; "
                + (
                    "wait for the facilitator to accept or return it"
                    if state == SelfReviewState.SUBMITTED
                    else "it cannot be changed now"
                )
            )
        framework = get_framework(ctx.cluster.framework)
        content = parse(text, framework, fmt=fmt, source=source)
        if state == SelfReviewState.NOT_STARTED:
            ctx.fire(Part.SELF_REVIEW, SelfReviewTrigger.START, urn)
        elif state == SelfReviewState.RETURNED:
            ctx.fire(Part.SELF_REVIEW, SelfReviewTrigger.REDRAFT, urn)
        review = ctx.review(urn)
        assert review.id is not None
        session.add(
            SelfEvaluation(
                review_id=review.id,
                version=ctx.records.note_sef_version(review),
                framework=framework.name,
                enquiry_question=content.enquiry_question,
                areas=[vars(a) for a in content.areas],
                submitted_by=ctx.actor.name,
                submitted_at=ctx.now,
            )
        )
        session.flush()
        ctx.fire(Part.SELF_REVIEW, SelfReviewTrigger.SUBMIT, urn)
        if state != SelfReviewState.NOT_STARTED:  # saving a draft starts the self-review
            session.exec(
                delete(Draft).where(col(Draft.review_id) == review.id, col(Draft.kind) == "sef")
            )
        return _view(ctx, urn, None)


def decide_sef(rt: Runtime, *, cycle: str, urn: int, accept: bool, reason: str | None) -> SefView:
    """The facilitator accepts the submitted SEF, or returns it with a reason."""
    check_urn(urn)
    if reason is not None:
        check_text(reason, "reason")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        trigger = SelfReviewTrigger.ACCEPT if accept else SelfReviewTrigger.RETURN
        ctx.fire(Part.SELF_REVIEW, trigger, urn, reason=reason)
        return _view(ctx, urn, None)


def show_sef(rt: Runtime, *, cycle: str, urn: int, version: int | None = None) -> SefView:
    """A SEF as submitted (latest version unless asked), if the actor may see it."""
    check_urn(urn)
    if version is not None:
        check_int(version, "version")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SELF_REVIEW)
        ctx.require_visible(urn, "the self-evaluation")
        return _view(ctx, urn, version)


def _view(ctx: CycleContext, urn: int, version: int | None) -> SefView:
    review = ctx.review(urn)
    versions = ctx.session.exec(
        select(SelfEvaluation)
        .where(SelfEvaluation.review_id == review.id)
        .order_by(col(SelfEvaluation.version))
    ).all()
    if not versions:
        raise NotFound("self-evaluation", f"of school {urn}", "none submitted yet")
    chosen = (
        versions[-1]
        if version is None
        else next((v for v in versions if v.version == version), None)
    )
    if chosen is None:
        raise NotFound("self-evaluation version", version, f"school {urn} has 1-{len(versions)}")
    framework = get_framework(chosen.framework)
    areas = []
    for entry in chosen.areas:
        area = framework.area(entry["key"])
        title = area.title if area else entry["key"]
        label = area.grade_label(entry["grade"]) if area else entry["grade"]
        areas.append(
            SefAreaView(
                key=entry["key"],
                title=title,
                grade=entry["grade"],
                grade_label=label,
                strengths=entry["strengths"],
                areas_for_development=entry["areas_for_development"],
                evidence=entry["evidence"],
            )
        )
    return SefView(
        cycle=ctx.label,
        urn=urn,
        school=ctx.school(urn).name,
        framework=chosen.framework,
        version=chosen.version,
        versions=len(versions),
        state=ctx.state(urn, Part.SELF_REVIEW),
        enquiry_question=chosen.enquiry_question,
        submitted_by=chosen.submitted_by,
        submitted_at=chosen.submitted_at,
        areas=areas,
    )
