"""Self-evaluation (SEF): the template a head fills in, submission with every version kept,
and the facilitator's accept or return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import yaml
from sqlmodel import col, delete, select

from review_engine.core.frameworks import Framework, get_framework
from review_engine.core.phases import Part, SelfReviewState, SelfReviewTrigger
from review_engine.core.relations import Relation
from review_engine.core.safe_text import (
    KB,
    NAME_MAX,
    check_int,
    check_text,
    check_urn,
    decode_text,
    size_text,
)
from review_engine.core.sef_file import SefFormat, parse, parse_form, template
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import access_log
from review_engine.services._context import CycleContext, open_cycle
from review_engine.store.models import Person, Review, TransitionLog
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


def show_sef(
    rt: Runtime,
    *,
    cycle: str,
    urn: int,
    version: int | None = None,
    record_access: bool = True,
) -> SefView:
    """A SEF as submitted (latest version unless asked), if the actor may see it; the reading
    goes in the access log (documents built from it record their own reading instead)."""
    check_urn(urn)
    if version is not None:
        check_int(version, "version")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SELF_REVIEW)
        ctx.require_visible(urn, "the self-evaluation")
        view = _view(ctx, urn, version)
        if record_access:
            _note_read(ctx, rt, view)
        return view


def _note_read(ctx: CycleContext, rt: Runtime, view: SefView) -> None:
    access_log.note(
        ctx.session,
        rt,
        actor=ctx.actor.name,
        cycle_id=ctx.cycle_id,
        action=access_log.Action.VIEWED,
        read=access_log.Read(view.urn, access_log.Record.SEF, f"version {view.version}"),
    )


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


# --- the web pages ----------------------------------------------------------------------------

SEF_UPLOAD_LIMIT = 256 * KB
UPLOAD_FORMATS = {
    ".md": SefFormat.MD,
    ".markdown": SefFormat.MD,
    ".txt": SefFormat.MD,
    ".yaml": SefFormat.YAML,
    ".yml": SefFormat.YAML,
}
_BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"{\\rtf")  # docx, doc, pdf, rtf


@dataclass(frozen=True)
class SefVersionRow:
    version: int
    submitted_by: str  # the person's name where known, else how history names them
    submitted_at: datetime


@dataclass(frozen=True)
class SefDraftView:
    content: dict[str, Any]
    saved_by: str
    saved_at: datetime


@dataclass(frozen=True)
class SefPage:
    """Everything the self-evaluation page shows to one person, read in one transaction."""

    cycle: str
    urn: int
    school: str
    framework: Framework
    state: str
    may_edit: bool  # the school's own staff, while it is theirs to write
    may_decide: bool  # the facilitator, while a version waits for a decision
    is_facilitator: bool
    draft: SefDraftView | None
    shown: SefView | None  # the version asked for, else the latest (None: none submitted)
    versions: list[SefVersionRow]
    returned_reason: str | None  # why it came back, while the school redrafts
    returned_at: datetime | None


def sef_page(rt: Runtime, *, cycle: str, urn: int, version: int | None = None) -> SefPage:
    """The SEF page of a school: for its staff, its reviewers and the facilitator; anyone
    else (or a version that does not exist) is told it was not found."""
    check_urn(urn)
    if version is not None:
        check_int(version, "version")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SELF_REVIEW)
        review = _require_seen(ctx, urn)
        state = ctx.state(urn, Part.SELF_REVIEW)
        relations = ctx.relations(urn)
        machine = ctx.phase(Part.SELF_REVIEW)
        submitters = {
            a
            for t in machine.transitions
            if t.trigger == SelfReviewTrigger.SUBMIT
            for a in t.actors
        }
        deciders = {
            a
            for t in machine.transitions
            if t.trigger == SelfReviewTrigger.ACCEPT
            for a in t.actors
        }
        open_states = (
            SelfReviewState.NOT_STARTED,
            SelfReviewState.DRAFTING,
            SelfReviewState.RETURNED,
        )
        may_edit = (
            Relation.SCHOOL in relations
            and policy.allows(relations, submitters)
            and state in open_states
        )
        may_decide = policy.allows(relations, deciders) and state == SelfReviewState.SUBMITTED
        rows = session.exec(
            select(SelfEvaluation.version, SelfEvaluation.submitted_by, SelfEvaluation.submitted_at)
            .where(SelfEvaluation.review_id == review.id)
            .order_by(col(SelfEvaluation.version))
        ).all()
        names = dict(
            session.exec(
                select(Person.email, Person.name).where(
                    col(Person.email).in_({by for _, by, _ in rows} or {""})
                )
            ).all()
        )
        shown = None
        if rows:
            if version is not None and version not in {v for v, _, _ in rows}:
                raise NotFound("self-evaluation version", version, f"school {urn}")
            shown = _view(ctx, urn, version)
            _note_read(ctx, rt, shown)
        elif version is not None:
            raise NotFound("self-evaluation version", version, f"school {urn}")
        draft = None
        if may_edit:
            row = session.exec(
                select(Draft).where(Draft.review_id == review.id, Draft.kind == "sef")
            ).first()
            if row is not None:
                draft = SefDraftView(
                    dict(row.content), names.get(row.saved_by, row.saved_by), row.saved_at
                )
        reason, returned_at = None, None
        if state == SelfReviewState.RETURNED or (state == SelfReviewState.DRAFTING and rows):
            found = session.exec(
                select(TransitionLog.reason, TransitionLog.at)
                .where(
                    TransitionLog.cycle_id == ctx.cycle_id,
                    TransitionLog.school_urn == urn,
                    TransitionLog.machine == machine.name,
                    TransitionLog.trigger == SelfReviewTrigger.RETURN,
                )
                .order_by(col(TransitionLog.id).desc())
                .limit(1)
            ).first()
            if found is not None:
                reason, returned_at = found
        return SefPage(
            cycle=ctx.label,
            urn=urn,
            school=ctx.school(urn).name,
            framework=get_framework(ctx.cluster.framework),
            state=state,
            may_edit=may_edit,
            may_decide=may_decide,
            is_facilitator=Relation.FACILITATOR in relations,
            draft=draft,
            shown=shown,
            versions=[SefVersionRow(v, names.get(by, by), at) for v, by, at in rows],
            returned_reason=reason,
            returned_at=returned_at,
        )


def submit_sef_form(
    rt: Runtime,
    *,
    cycle: str,
    urn: int,
    enquiry_question: str,
    areas: list[dict[str, str]],
) -> SefView:
    """Submit the SEF typed into the web form: each area a dict of key, grade, strengths,
    areas_for_development and evidence. Checked by the file's rules; any problem raises
    FormRejected keyed by field (``enquiry_question``, ``area.<key>.grade``...) and nothing
    is stored. A valid form goes in as the YAML file a head could have uploaded."""
    check_urn(urn)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SELF_REVIEW)
        _require_seen(ctx, urn)
        ctx.require_actor_of(
            Part.SELF_REVIEW,
            SelfReviewTrigger.SUBMIT,
            urn,
            f"submit the self-evaluation of school {urn}",
        )
        framework = get_framework(ctx.cluster.framework)
    by_key = {str(a.get("key", "")): a for a in areas}
    content = parse_form(enquiry_question, by_key, framework)
    document = {
        "school": urn,
        "framework": framework.name,
        "enquiry_question": content.enquiry_question,
        "areas": {
            a.key: {
                "grade": a.grade,
                "strengths": a.strengths,
                "areas_for_development": a.areas_for_development,
                "evidence": a.evidence,
            }
            for a in content.areas
        },
    }
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)
    return submit_sef(rt, cycle=cycle, urn=urn, text=text, fmt=SefFormat.YAML, source="the form")


def submit_sef_upload(rt: Runtime, *, cycle: str, urn: int, filename: str, data: bytes) -> SefView:
    """Submit an uploaded SEF file (Markdown or YAML text, at most 256 KB): the same result
    as `review sef submit`. A Word document, a PDF or any binary file is refused in one line."""
    check_urn(urn)
    with rt.db.transaction() as session:  # an outsider learns nothing about their file
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.SELF_REVIEW)
        _require_seen(ctx, urn)
    name = PurePosixPath(filename.replace("\\", "/")).name.strip() or "upload"
    name = name[:NAME_MAX]
    fmt = UPLOAD_FORMATS.get(PurePosixPath(name).suffix.lower())
    if not data:
        raise InvalidInput("choose a file to upload: the self-evaluation as Markdown (.md) or YAML")
    if data.startswith(_BINARY_SIGNATURES) or b"\x00" in data[:8192] or fmt is None:
        raise InvalidInput(
            f"{check_file_name(name)} is not a Markdown or YAML text file; upload the SEF as .md "
            "or .yaml (a Word document or PDF cannot be read), or fill in the form"
        )
    if len(data) > SEF_UPLOAD_LIMIT:
        raise InvalidInput(
            f"{check_file_name(name)} is larger than the {size_text(SEF_UPLOAD_LIMIT)} limit "
            "for an uploaded self-evaluation"
        )
    text = decode_text(data, source=name, windows_1252=True)
    return submit_sef(rt, cycle=cycle, urn=urn, text=text, fmt=fmt, source=name)


def check_file_name(name: str) -> str:
    """A file name fit to show in a message: printable, one line."""
    return "".join(c for c in name if c.isprintable()) or "the file"


def _require_seen(ctx: CycleContext, urn: int) -> Review:
    """The school's review, if the actor may see it; else exactly what a school that is not
    in the cycle answers (a hidden record must look like one that does not exist)."""
    review = ctx.review(urn)
    try:
        ctx.require_visible(urn, "the self-evaluation")
    except NotPermitted:
        raise NotFound("school", urn, f"it is not part of cycle {ctx.label}") from None
    return review
