"""Documents from the database: build each typed context (as the acting person may see it),
render it (review_engine.documents.templating), and write the files safely.

Confidentiality is the core's: the contexts come from the same policy-checked reads as the
CLI's show commands, so a head cannot render another school's SEF, and a cluster report is
the facilitator's.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from functools import partial
from pathlib import Path
from typing import IO

from sqlmodel import Session, col, select

from review_engine import documents
from review_engine.core.domain import HalfTerm, Rag, SharingLevel, Slot, VisitFocus
from review_engine.core.phases import (
    Part,
    VisitState,
    WriteUpState,
    as_words,
    cycle_words,
    state_words,
)
from review_engine.documents import DocumentKind, Format, agenda, exporters, files, invites
from review_engine.documents import context as dc
from review_engine.errors import (
    InvalidInput,
    NotFound,
    NotPermitted,
    PhaseMissing,
    ReviewEngineError,
)
from review_engine.runtime import Runtime
from review_engine.services import (
    access_log,
    actions,
    cycles,
    feedback,
    practice,
    sef,
    triads,
    visits,
)
from review_engine.services import writeups as writeup_svc
from review_engine.services._context import open_cycle
from review_engine.services._due_work import OpenCycle, owed_work
from review_engine.store.models import Person, Review, ReviewState, School
from review_engine.store.phase_tables import TriadPlace, VisitPlan
from review_engine.store.schedule_tables import PlanStep

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Written:
    kind: str
    path: Path


def list_kinds() -> list[tuple[str, list[str]]]:
    """Every document kind and the formats it comes in."""
    return [(k.value, [f.value for f in documents.supported_formats(k)]) for k in DocumentKind]


def build_contexts(
    rt: Runtime,
    *,
    cycle: str,
    school: int | None = None,
    kinds: list[DocumentKind] | None = None,
) -> list[tuple[DocumentKind, dc.DocumentContext]]:
    """Every document of the cycle the actor may see (or of one school, or some kinds)."""
    wanted = kinds or list(DocumentKind)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        urns = list(
            session.exec(select(Review.school_urn).where(Review.cycle_id == ctx.cycle_id)).all()
        )
        is_facilitator = ctx.actor.system or ctx.cluster.id in ctx.actor.facilitates
        label, cluster = ctx.label, ctx.cluster.name
        schools = {s.urn: s for s in session.exec(select(School).where(col(School.urn).in_(urns)))}
        heads = {
            p.school_urn: p
            for p in session.exec(
                select(Person).where(col(Person.school_urn).in_(urns), Person.role == "head")
            )
        }
    if school is not None:
        if school not in schools:
            raise InvalidInput(f"school {school} is not part of cycle {label}")
        urns = [school]
    found: list[tuple[DocumentKind, dc.DocumentContext]] = []
    explicit = school is not None or kinds is not None

    def attempt(kind: DocumentKind, build: Callable[[], dc.DocumentContext | None]) -> None:
        try:
            made = build()
        except NotPermitted:
            if explicit:
                raise
            return
        except ReviewEngineError:
            return  # nothing to show yet (no SEF, no write-up...)
        if made is not None:
            found.append((kind, made))

    triad_rows = {r.host: r for r in triads.show(rt, cycle=cycle)}
    for urn in sorted(urns, key=lambda u: schools[u].name):
        here, row = schools[urn], triad_rows.get(urn)
        if DocumentKind.SEF_SUMMARY in wanted:
            attempt(DocumentKind.SEF_SUMMARY, partial(_sef, rt, cycle, here))
        if DocumentKind.VISIT_PACK in wanted:
            attempt(DocumentKind.VISIT_PACK, partial(_visit, rt, cycle, here, row, heads))
        if DocumentKind.WRITEUP_REPORT in wanted:
            attempt(DocumentKind.WRITEUP_REPORT, partial(_writeup, rt, cycle, here, row, heads))
        if DocumentKind.SUPPORT_PLAN in wanted:
            attempt(DocumentKind.SUPPORT_PLAN, partial(_support, rt, cycle, here))
    if school is None and DocumentKind.CLUSTER_REPORT in wanted:
        if is_facilitator:
            found.append((DocumentKind.CLUSTER_REPORT, _cluster_report(rt, cycle, cluster)))
        elif explicit:
            raise NotPermitted(
                rt.actor,
                "render the cluster report",
                "it shows every school's progress; only the facilitator may",
            )
    if school is None and DocumentKind.PRACTICE_DIRECTORY in wanted:
        entries = practice.list_practice(rt, cluster=cluster)
        found.append(
            (
                DocumentKind.PRACTICE_DIRECTORY,
                dc.PracticeDirectoryContext(
                    cluster=cluster,
                    as_of=rt.clock.now().date(),
                    cycle=label,
                    entries=tuple(
                        dc.GoodPractice(
                            p.area.replace("_", " ").capitalize(),
                            p.description,
                            p.contact,
                            p.school,
                        )
                        for p in entries
                    ),
                ),
            )
        )
    return found


def render_to_folder(
    rt: Runtime,
    *,
    cycle: str,
    out: Path,
    fmt: Format,
    school: int | None = None,
    kinds: list[DocumentKind] | None = None,
    progress: Progress | None = None,
    word_template: Path | None = None,
) -> list[Written]:
    """Render the documents in one format into a folder (atomic writes, safe names); Word
    documents take their styles from `word_template` when a facilitator gives one."""
    if word_template is not None and not word_template.is_file():
        raise InvalidInput(f"Word template {word_template} is not a file")
    items = build_contexts(rt, cycle=cycle, school=school, kinds=kinds)
    items = [(k, c) for k, c in items if fmt in documents.supported_formats(k)]
    out.mkdir(parents=True, exist_ok=True)
    if fmt is Format.PDF:
        datas = exporters.render_pdfs(items, processes=2 if len(items) > 3 else 1)
    else:
        datas = []
        for n, (kind, context) in enumerate(items, start=1):
            datas.append(
                documents.render(
                    kind,
                    context,
                    fmt=fmt,
                    docx_template=word_template,
                    author=_author(context),
                    now=rt.clock.now(),
                )
            )
            if progress:
                progress(n, len(items))
    written = []
    for (kind, context), data in zip(items, datas, strict=True):
        name = documents.suggested_filename(kind, context, fmt)
        written.append(Written(kind.value, files.write_document(out, name, data)))
    if progress and fmt is Format.PDF:
        progress(len(items), len(items))
    _record(rt, cycle, items, access_log.Action.DOWNLOADED, fmt.value.upper())
    return written


_RECORDS = {
    DocumentKind.SEF_SUMMARY: access_log.Record.SEF,
    DocumentKind.VISIT_PACK: access_log.Record.VISIT_PACK,
    DocumentKind.WRITEUP_REPORT: access_log.Record.WRITEUP_REPORT,
    DocumentKind.SUPPORT_PLAN: access_log.Record.SUPPORT_PLAN,
    DocumentKind.CLUSTER_REPORT: access_log.Record.CLUSTER_REPORT,
}  # the practice directory holds only what each reader may already see: not logged


def _read_of(kind: DocumentKind, context: dc.DocumentContext, how: str) -> access_log.Read | None:
    """A document handed to someone, as the access log records it."""
    record = _RECORDS.get(kind)
    if record is None:
        return None
    urn: str | None = None
    detail = how
    if isinstance(context, dc.SefSummaryContext):
        urn, detail = context.school.urn, f"SEF summary, version {context.version}, {how}"
    elif isinstance(context, dc.VisitPackContext | dc.WriteupReportContext):
        urn = context.host.urn
    elif isinstance(context, dc.SupportPlanContext):
        urn = context.school.urn
    return access_log.Read(int(urn) if urn else None, record, detail)


def _record(
    rt: Runtime,
    cycle: str,
    items: list[tuple[DocumentKind, dc.DocumentContext]],
    action: access_log.Action,
    how: str,
) -> None:
    """One access-log row per document handed over, in one statement."""
    reads = [r for k, c in items if (r := _read_of(k, c, how)) is not None]
    access_log.record_documents(rt, cycle=cycle, action=action, reads=reads)


def _ref(school: School) -> dc.SchoolRef:
    return dc.SchoolRef(school.name, str(school.urn))


def _author(context: dc.DocumentContext) -> str:
    """The cluster a document comes from (its author in a Word file's properties)."""
    if isinstance(context, dc.ClusterReportContext | dc.PracticeDirectoryContext):
        return context.cluster
    return context.cycle.rsplit("/", 1)[0]


_MARKER = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'’”)]*$")


def _points(text: str | None) -> tuple[str, ...]:
    """A field a person typed as the points a list shows: a blank line, a list marker (-, *,
    1.) or a new sentence on a new line starts a point; a line wrapped mid-sentence carries
    on the point before it. Blank (or None) is no points at all."""
    points: list[list[str]] = []
    fresh = True
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            fresh = True
            continue
        marked = _MARKER.match(line)
        if marked:
            line = line[marked.end() :].strip()
        new_sentence = bool(points) and (
            _ENDS_SENTENCE.search(points[-1][-1]) is not None and line[:1].isupper()
        )
        if fresh or marked or new_sentence or not points:
            points.append([line])
        else:
            points[-1].append(line)
        fresh = False
    return tuple(" ".join(p) for p in points if " ".join(p).strip())


def _address(school: School) -> str:
    """The school's postal address above its postcode, one line each: name, street, locality,
    town (the street and locality where the school's record holds them)."""
    parts = [school.name, *(getattr(school, f, None) for f in ("street", "locality")), school.town]
    return "\n".join(dict.fromkeys(str(p).strip() for p in parts if p and str(p).strip()))


def _area_views(view: sef.SefView) -> tuple[dc.SefArea, ...]:
    return tuple(
        dc.SefArea(
            a.title,
            a.grade_label,
            _points(a.strengths),
            _points(a.areas_for_development),
            _points(a.evidence),
        )
        for a in view.areas
    )


def _host_sef(rt: Runtime, cycle: str, urn: int) -> dc.HostSef | None:
    """The host's SEF for its reviewers; None while it has none or the reader may not see it."""
    try:
        view = sef.show_sef(rt, cycle=cycle, urn=urn, record_access=False)  # the pack's reading
    except ReviewEngineError:
        return None
    return dc.HostSef(
        framework=view.framework,
        version=view.version,
        areas=_area_views(view),
        submitted_on=view.submitted_at.date(),
    )


def _sef(rt: Runtime, cycle: str, school: School) -> dc.SefSummaryContext:
    view = sef.show_sef(rt, cycle=cycle, urn=school.urn, record_access=False)
    return dc.SefSummaryContext(
        cycle=view.cycle,
        school=dc.SchoolProfile(
            name=school.name,
            urn=str(school.urn),
            phase=school.phase or "",
            school_type=school.establishment_type or "",
            local_authority=school.la_name or "",
            pupils=school.number_of_pupils,
            trust=school.trust_name,
            ofsted_rating=school.ofsted_rating,
            ofsted_date=school.ofsted_last_inspection,
        ),
        framework=view.framework,
        areas=_area_views(view),
        enquiry_question=view.enquiry_question,
        submitted_on=view.submitted_at.date(),
        version=view.version,
    )


def _reviewers(
    row: triads.TriadRow | None, heads: dict[int | None, Person]
) -> tuple[dc.Reviewer, ...]:
    if row is None:
        return ()
    return tuple(
        dc.Reviewer(
            name=heads[v].name if v in heads else "Head teacher", school=n, is_lead=v == row.lead
        )
        for v, n in zip(row.visitors, row.visitor_names, strict=True)
    )


def _visit(
    rt: Runtime,
    cycle: str,
    school: School,
    row: triads.TriadRow | None,
    heads: dict[int | None, Person],
) -> dc.VisitPackContext | None:
    view = visits.show(rt, cycle=cycle, host=school.urn)
    if view.visit_date is None or view.slot is None or view.focus is None:
        return None
    head = heads.get(school.urn)
    return dc.VisitPackContext(
        cycle=view.cycle,
        host=_ref(school),
        visit_date=view.visit_date,
        slot=Slot(view.slot),
        focus=VisitFocus(view.focus),
        reviewers=_reviewers(row, heads),
        host_head=dc.Person(head.name, head.email, school.name, "Head teacher") if head else None,
        focus_detail=(view.focus_area or "").replace("_", " ") or None,
        enquiry_question=view.enquiry_question,
        agenda=tuple(dc.AgendaItem(_time(a.time), a.activity, a.who) for a in view.agenda),
        host_staff=tuple(dc.Person(name=s) for s in view.host_staff),
        address=_address(school),
        postcode=school.postcode,
        arrival_time=invites.SLOT_TIMES[Slot(view.slot)][0],
        contact=dc.Person(head.name, head.email) if head else None,
        host_sef=_host_sef(rt, cycle, school.urn),
        suggested_agenda=agenda.outline(Slot(view.slot)) if not view.agenda else (),
    )


def _time(text: str) -> time | None:
    """A stored agenda time (HH:MM); None for one that is not a time, shown as "to agree"
    rather than as a time nobody chose."""
    try:
        hours, minutes = text.strip().split(":", 1)
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def _writeup(
    rt: Runtime,
    cycle: str,
    school: School,
    row: triads.TriadRow | None,
    heads: dict[int | None, Person],
) -> dc.WriteupReportContext:
    view = writeup_svc.show(rt, cycle=cycle, host=school.urn, record_access=False)
    lines: dict[str, tuple[list[dc.Finding], list[dc.Finding]]] = {}
    for item in [*view.www, *view.ebi]:
        www, ebi = lines.setdefault(item.line, ([], []))
        (www if item.kind == "www" else ebi).append(dc.Finding(item.text, item.evidence))
    visited = _visit_dates(rt, cycle).get(school.urn)  # part of the report once shared
    return dc.WriteupReportContext(
        cycle=view.cycle,
        host=_ref(school),
        visit_date=visited or rt.clock.now().date(),
        reviewers=_reviewers(row, heads),
        activities=tuple(view.activities),
        lines_of_enquiry=tuple(
            dc.LineOfEnquiry(q, tuple(w), tuple(e)) for q, (w, e) in lines.items()
        ),
        good_practice=tuple(
            dc.GoodPractice(
                p.area.replace("_", " ").capitalize(), p.description, p.contact, school.name
            )
            for p in view.good_practice
        ),
        next_steps=_points(view.next_steps),
        sharing=SharingLevel(view.sharing) if view.sharing else SharingLevel.REVIEWERS,
        shared_with=tuple(str(u) for u in view.shared_with),
        agreed_on=view.published_at.date() if view.published_at else None,
    )


def _support(rt: Runtime, cycle: str, school: School) -> dc.SupportPlanContext | None:
    rows = actions.list_actions(rt, cycle=cycle, urn=school.urn)
    if not rows:
        return None
    return dc.SupportPlanContext(
        cycle=rows[0].cycle,
        school=_ref(school),
        actions=tuple(
            dc.SupportAction(
                action=a.title,
                owner=a.owner,
                success_criteria=a.success_criteria,
                rag=Rag(a.rag),
                supporting_school=a.supporting_school,
                due_date=a.due if a.due_label and a.due_label[:1].isdigit() else None,
                due_half_term=HalfTerm(a.due_label) if a.due_label in set(HalfTerm) else None,
                latest_update=a.latest_update or None,
                latest_update_on=a.updated_at.date() if a.updated_at else None,
            )
            for a in rows
        ),
    )


def _cluster_report(rt: Runtime, cycle: str, cluster: str) -> dc.ClusterReportContext:
    status = cycles.cycle_status(rt, cycle=cycle)
    rows = triads.show(rt, cycle=cycle)
    try:
        acts = actions.list_actions(rt, cycle=cycle)
    except PhaseMissing:  # a workflow without support shows no actions
        acts = []
    given = feedback.list_feedback(rt, cycle=cycle)
    scores = [f.usefulness for f in given if f.usefulness is not None]
    rag = Counter(a.rag for a in acts)
    today = rt.clock.now().date()
    words = _machine_words(rt, cycle)
    dates = _visit_dates(rt, cycle)
    return dc.ClusterReportContext(
        cluster=cluster,
        cycle=status.cycle,
        cycle_state=cycle_words(status.state),
        as_of=today,
        phases=tuple(words[m][0] for m in status.machines),
        schools=tuple(
            dc.SchoolStatus(
                dc.SchoolRef(s.name, str(s.urn)),
                tuple(state_words(words[m][1], s.states.get(m, "")) for m in status.machines),
            )
            for s in status.schools
        ),
        overdue=tuple(_overdue(rt, cycle, today, acts, status)),
        triads=tuple(
            dc.TriadSummary(
                r.host_name,
                tuple(r.visitor_names),
                next(
                    (n for v, n in zip(r.visitors, r.visitor_names, strict=True) if v == r.lead),
                    None,
                ),
                dates.get(r.host),
            )
            for r in rows
        ),
        rag_counts=dc.RagCounts(
            red=rag[Rag.RED], amber=rag[Rag.AMBER], green=rag[Rag.GREEN], complete=rag[Rag.COMPLETE]
        ),
        feedback=dc.FeedbackSummary(
            responses=len(given),
            average_usefulness=round(sum(scores) / len(scores), 1) if scores else None,
            notable_comments=tuple(_notable(given)),
        ),
        good_practice=tuple(
            dc.GoodPractice(
                p.area.replace("_", " ").capitalize(), p.description, p.contact, p.school
            )
            for p in practice.list_practice(rt, cluster=cluster)
        ),
    )


def _machine_words(rt: Runtime, cycle: str) -> dict[str, tuple[str, Part | None]]:
    """Each per-school machine of the cycle's workflow: its name in words (the workflow's
    `label:`, else its part's) and the part it plays, whose states have words."""
    with rt.db.transaction() as session:
        definition = open_cycle(session, rt, cycle).definition
        return {
            m.name: (as_words(definition.label(m.name)), m.part) for m in definition.school_machines
        }


def _overdue(
    rt: Runtime,
    cycle: str,
    today: date,
    acts: list[actions.ActionView],
    status: cycles.CycleStatus,
) -> list[dc.OverdueItem]:
    """All work past its due date: SEFs and write-ups (the tick's own reckoning of what is
    owed), visits not held (booked for a day gone by, or not booked when peer visits ended),
    feedback not given, and support actions not complete (of a plan still open). A closed
    or cancelled cycle owes nothing more."""
    found: list[tuple[int, str, date]] = []  # (school that owes it, what, due)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        row = ctx.cycle
        names = dict(
            session.exec(
                select(School.urn, School.name)
                .join(Review, col(Review.school_urn) == School.urn)
                .where(Review.cycle_id == ctx.cycle_id)
            ).all()
        )
        parts = ctx.definition.parts
        open_cycle_row = OpenCycle(
            ctx.cycle_id, row.cluster_id, row.academic_year, row.workflow_hash, row.state
        )
        if row.state in ctx.definition.cycle_machine.final:
            return []
        owed = owed_work(session, {ctx.cycle_id: open_cycle_row}, today)
        for o in owed:
            if o.due >= today or o.part not in (Part.SELF_REVIEW, Part.WRITE_UP):
                continue  # actions come from their own list below; visits from the plans
            if o.part is Part.SELF_REVIEW:
                what = f"SEF not submitted ({state_words(o.part, o.state).lower()})"
            else:
                host = names.get(o.urn, str(o.urn))
                what = f"write-up of the visit to {host} ({state_words(o.part, o.state).lower()})"
            found.append((o.notify_urn, what, o.due))
        visit = parts.get(Part.PEER_VISIT)
        if visit is not None:
            found += _overdue_visits(session, ctx.cycle_id, visit.name, today)
        found += [
            (
                f.from_urn,
                f"{'immediate feedback' if f.kind == 'immediate' else 'reflection'} on the "
                f"visit to {names.get(f.host, f.host)}",
                f.due,
            )
            for f in feedback.missing(ctx, today=today)
            if f.due < today
        ]
    support = parts.get(Part.SUPPORT)
    closed = {
        s.urn
        for s in status.schools
        if support is not None and s.states.get(support.name) in support.final
    }
    found += [
        (a.urn, f"action {a.number}: {a.title}", a.due)
        for a in acts
        if a.overdue and a.due is not None and a.rag != Rag.COMPLETE and a.urn not in closed
    ]
    found.sort(key=lambda f: (f[2], names.get(f[0], ""), f[1]))
    return [
        dc.OverdueItem(
            school=names.get(urn, str(urn)), item=what, due=due, days_overdue=(today - due).days
        )
        for urn, what, due in found
    ]


def _overdue_visits(
    session: Session, cycle_id: int, machine: str, today: date
) -> list[tuple[int, str, date]]:
    """Visits booked for a day gone by and not recorded as held; and, once the peer visits'
    half-terms are over, visits never booked."""
    step = session.exec(
        select(PlanStep).where(
            PlanStep.cycle_id == cycle_id,
            PlanStep.kind == "boundary",
            PlanStep.from_state == "peer_review",
        )
    ).first()
    closes = step.due_on if step is not None else None
    rows = session.exec(
        select(Review.school_urn, ReviewState.state, col(VisitPlan.visit_date))
        .join(ReviewState, col(ReviewState.review_id) == Review.id)
        .outerjoin(VisitPlan, col(VisitPlan.review_id) == Review.id)
        .where(Review.cycle_id == cycle_id, ReviewState.machine == machine)
    ).all()
    found: list[tuple[int, str, date]] = []
    for urn, state, day in rows:
        if state == VisitState.SCHEDULED and day is not None and day < today:
            found.append((urn, f"visit of {documents.long_date(day)} not recorded as held", day))
        elif (
            state not in (VisitState.SCHEDULED, VisitState.VISITED, VisitState.CANCELLED)
            and closes is not None
            and closes < today
        ):
            words = state_words(Part.PEER_VISIT, state).lower()
            found.append((urn, f"visit not booked ({words})", closes))
    return found


def _notable(given: list[feedback.FeedbackView]) -> list[str]:
    """Up to five distinct comments, reflections on changed practice first."""
    texts = [f.changed_practice for f in given if f.changed_practice]
    texts += [f.comment for f in given if f.comment]
    return list(dict.fromkeys(texts))[:5]


def _visit_dates(rt: Runtime, cycle: str) -> dict[int, date]:
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        return {
            urn: day
            for urn, day in session.exec(
                select(Review.school_urn, col(VisitPlan.visit_date))
                .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
                .where(Review.cycle_id == ctx.cycle_id)
            ).all()
            if day is not None
        }


def visit_invite(rt: Runtime, *, cycle: str, host: int) -> tuple[str, bytes]:
    """The .ics invite for one visit: stable UID, SEQUENCE bumped on reschedule, CANCEL."""
    view = visits.show(rt, cycle=cycle, host=host)
    if view.visit_date is None or view.slot is None:
        raise InvalidInput(f"the visit to {host} has no date yet (review visit schedule)")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        visitor_urns = list(
            session.exec(
                select(TriadPlace.visitor_urn).where(
                    TriadPlace.cycle_id == ctx.cycle_id, TriadPlace.host_urn == host
                )
            ).all()
        )
        people = session.exec(
            select(Person).where(
                col(Person.school_urn).in_([host, *visitor_urns]), Person.role == "head"
            )
        ).all()
        organiser = (
            session.get(Person, ctx.cluster.facilitator_id)
            if (ctx.cluster.facilitator_id)
            else None
        )
        school = ctx.school(host)
        cycle_id = str(ctx.cycle_id)
    organizer = (
        dc.Person(organiser.name, organiser.email)
        if organiser
        else dc.Person("Peer review facilitator", rt.actor if "@" in rt.actor else None)
    )
    invite = dc.VisitInviteContext(
        cycle_id=cycle_id,
        host=_ref(school),
        visit_date=view.visit_date,
        slot=Slot(view.slot),
        organizer=organizer,
        attendees=tuple(dc.Person(p.name, p.email) for p in people),
        sequence=view.sequence,
        cancelled=view.state == VisitState.CANCELLED,
        location=", ".join(x for x in (school.name, school.town, school.postcode) if x),
    )
    name = files.safe_filename(f"visit-{school.name}-{host}") + ".ics"
    return name, invites.invite_ics(invite, now=rt.clock.now())


def writeup_report(rt: Runtime, *, cycle: str, host: int, fmt: Format) -> tuple[str, bytes]:
    """One host's write-up report as a file (PDF printed in a worker process, Word...) and a
    safe file name, for whoever may read the write-up; anyone else gets NotFound, as for a
    write-up that does not exist."""
    if fmt not in documents.supported_formats(DocumentKind.WRITEUP_REPORT):
        raise InvalidInput(f"the write-up report does not come as {fmt.value}")
    view = writeup_svc.report_for(rt, cycle=cycle, host=host)  # refuses (NotFound) first
    row = {r.host: r for r in triads.show(rt, cycle=cycle)}.get(host)
    urns = [host, *(row.visitors if row else [])]
    with rt.db.transaction() as session:
        school = session.get(School, host)
        heads: dict[int | None, Person] = {
            p.school_urn: p
            for p in session.exec(
                select(Person).where(col(Person.school_urn).in_(urns), Person.role == "head")
            )
        }
    assert school is not None
    context = _writeup(rt, cycle, school, row, heads)
    name = documents.suggested_filename(DocumentKind.WRITEUP_REPORT, context, fmt)
    if fmt is Format.PDF and view.state == WriteUpState.PUBLISHED:
        data = _stored_pdf(rt, context, version=view.version)
    else:
        data = documents.render(
            DocumentKind.WRITEUP_REPORT,
            context,
            fmt=fmt,
            author=_author(context),
            now=rt.clock.now(),
        )
    read = access_log.Read(
        host, access_log.Record.WRITEUP_REPORT, f"{fmt.value.upper()}, version {view.version}"
    )
    access_log.record_documents(rt, cycle=cycle, action=access_log.Action.DOWNLOADED, reads=[read])
    return name, data


def _stored_pdf(rt: Runtime, context: dc.WriteupReportContext, *, version: int) -> bytes:
    """A published write-up's PDF, printed once and kept under the data directory
    (documents/writeups/<cycle>/<host>-v<version>-<digest>.pdf, written atomically): the
    digest is of the report's HTML as this reader sees it, so a new version, a new sharing
    choice or a new template prints afresh and nobody is served what they may not read."""
    html = documents.render_html(DocumentKind.WRITEUP_REPORT, context)
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:20]
    folder = rt.settings.data_dir / "documents" / "writeups" / files.safe_filename(context.cycle)
    stem = f"{files.safe_filename(context.host.urn)}-v{version}"
    path = folder / f"{stem}-{digest}.pdf"
    try:
        data = path.read_bytes()
        if data.startswith(b"%PDF-"):
            return data
    except OSError:
        pass
    data = documents.render(DocumentKind.WRITEUP_REPORT, context, fmt=Format.PDF)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files.write_atomic(path, data)
        for old in folder.glob(f"{files.safe_filename(context.host.urn)}-v*.pdf"):
            if not old.name.startswith(f"{stem}-"):  # an earlier version's print
                old.unlink(missing_ok=True)
    except OSError:  # a read-only or full disk: serve the print, keep nothing
        pass
    return data


# --- the web pages ----------------------------------------------------------------------------


def visit_pack(rt: Runtime, *, cycle: str, host: int, fmt: Format) -> tuple[str, bytes]:
    """One visit's pack (HTML or PDF) as the visit page offers it: a file name and its bytes.
    Anyone who may not see the visit is told it was not found."""
    try:
        items = build_contexts(rt, cycle=cycle, school=host, kinds=[DocumentKind.VISIT_PACK])
    except NotPermitted:
        raise NotFound("school", host, f"it is not part of cycle {cycle}") from None
    except InvalidInput as exc:
        if f"school {host} is not part" in exc.message:
            raise NotFound("school", host, f"it is not part of cycle {cycle}") from None
        raise
    if not items:
        raise InvalidInput("the visit pack is ready once the visit has a focus and a date")
    kind, context = items[0]
    data = documents.render(kind, context, fmt=fmt)
    opened = fmt is Format.HTML  # shown in the browser; a PDF is downloaded
    action = access_log.Action.VIEWED if opened else access_log.Action.DOWNLOADED
    _record(rt, cycle, items[:1], action, fmt.value.upper())
    return documents.suggested_filename(kind, context, fmt), data


def visit_invite_file(rt: Runtime, *, cycle: str, host: int) -> tuple[str, bytes]:
    """The visit's .ics invite as the visit page offers it; hidden visits are not found."""
    try:
        return visit_invite(rt, cycle=cycle, host=host)
    except NotPermitted:
        raise NotFound("school", host, f"it is not part of cycle {cycle}") from None


# --- every document of a cycle as one zip (the facilitator's console) --------------------------

ZIP_FORMATS = (Format.HTML, Format.PDF)


def cycle_documents_zip(rt: Runtime, *, cycle: str, out: IO[bytes]) -> int:
    """Every document of the cycle its facilitator may read, as HTML and PDF (and any other
    format a kind comes in from ZIP_FORMATS), written as a zip to `out`; the number of
    documents. Anyone but the cycle's facilitator is told the cycle was not found. File names
    are safe (`documents.suggested_filename`), one folder per format."""
    cycles.facilitated_cycle(rt, cycle=cycle)
    items = build_contexts(rt, cycle=cycle)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for fmt in ZIP_FORMATS:
            wanted = [(k, c) for k, c in items if fmt in documents.supported_formats(k)]
            if fmt is Format.PDF:
                datas = exporters.render_pdfs(wanted, processes=2 if len(wanted) > 3 else 1)
            else:
                datas = [documents.render(k, c, fmt=fmt) for k, c in wanted]
            taken: set[str] = set()
            for (kind, context), data in zip(wanted, datas, strict=True):
                name = documents.suggested_filename(kind, context, fmt)
                stem, _, suffix = name.rpartition(".")
                n = 1
                while name in taken:  # two documents of one name: number the second
                    n += 1
                    name = f"{stem}-{n}.{suffix}"
                taken.add(name)
                archive.writestr(f"{fmt.value}/{files.safe_filename(name)}", data)
    how = "zip of every document (" + ", ".join(f.value.upper() for f in ZIP_FORMATS) + ")"
    _record(rt, cycle, items, access_log.Action.DOWNLOADED, how)
    return len(items)
