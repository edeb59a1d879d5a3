"""WWW/EBI write-ups: the lead reviewer drafts, co-reviewers agree (or return with a reason),
the host fact-checks and agrees, then publishes at the sharing level it chooses; published
good practice enters the cluster's directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from review_engine.clock import as_utc
from review_engine.core import writeup_file
from review_engine.core.domain import SharingLevel
from review_engine.core.frameworks import get_framework
from review_engine.core.phases import Part, WriteUpState, WriteUpTrigger
from review_engine.core.relations import Relation
from review_engine.core.safe_text import (
    NAME_MAX,
    WRITEUP_LIMIT,
    check_file_text,
    check_text,
    check_urn,
    size_text,
)
from review_engine.core.writeup_file import WriteupFormat
from review_engine.errors import FileFormatError, InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services import access_log, notices
from review_engine.services._context import CycleContext, open_cycle
from review_engine.store.models import Person, School, TransitionLog
from review_engine.store.phase_tables import GoodPractice, WriteUp, WriteUpDecision
from review_engine.store.privacy_tables import SharingChange


@dataclass(frozen=True)
class Item:
    """One What Went Well or Even Better If, tied to a line of enquiry and its evidence."""

    kind: str  # "www" or "ebi"
    line: str
    text: str
    evidence: str


@dataclass(frozen=True)
class Practice:
    area: str
    description: str
    contact: str


@dataclass(frozen=True)
class WriteUpView:
    cycle: str
    host: int
    host_name: str
    state: str
    lead: str
    version: int
    activities: list[str]
    www: list[Item]
    ebi: list[Item]
    good_practice: list[Practice]
    next_steps: str
    sharing: str | None
    shared_with: list[int]
    agreed_by: list[str]
    published_at: datetime | None


@dataclass(frozen=True)
class Draft:
    items: list[Item]
    good_practice: list[Practice]
    activities: list[str]
    next_steps: str


def read_draft(text: str, *, source: str = "write-up", fmt: WriteupFormat | None = None) -> Draft:
    """A draft from its file: Markdown with headings (`review writeup template`) or YAML
    (activities, www and ebi items, good_practice, next_steps); without `fmt`, Markdown if
    the text has `## ` headings.

    Text over the write-up size limit, control characters, YAML anchors and aliases are
    refused in one line; so is a section that is not a list. Blank values are empty text."""
    if len(text) > WRITEUP_LIMIT:
        raise FileFormatError(
            f"the write-up is larger than the {size_text(WRITEUP_LIMIT)} limit", source=source
        )
    text = check_file_text(text, source=source)
    content = writeup_file.parse(text, fmt=fmt or writeup_file.guess_format(text), source=source)
    return Draft(
        [Item(i.kind, i.line, i.text, i.evidence) for i in content.items],
        [Practice(p.area, p.description, p.contact) for p in content.good_practice],
        list(content.activities),
        content.next_steps,
    )


def writeup_template(rt: Runtime, *, cycle: str, host: int, fmt: WriteupFormat) -> str:
    """A blank write-up of the visit to `host`, with its enquiry question and the framework's
    areas, for whoever may see the visit."""
    check_urn(host)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.WRITE_UP)
        review = ctx.review(host)
        if not ctx.relations(host):
            raise NotFound("school", host, f"it is not part of cycle {ctx.label}")
        plan = ctx.records.visit_plan(review)
        framework = get_framework(ctx.cluster.framework)
        return writeup_file.template(
            school=ctx.school(host).name,
            urn=host,
            cycle=ctx.label,
            fmt=fmt,
            question=plan.enquiry_question if plan is not None else None,
            areas=tuple((a.key, a.title) for a in framework.areas),
        )


MAX_ITEMS = 100  # items, good practice entries or activities in one write-up


def _check_draft(
    host: int,
    items: list[Item],
    good_practice: list[Practice],
    activities: list[str],
    next_steps: str,
) -> None:
    """Bounded, printable text before anything is stored (one line naming the field)."""
    check_urn(host, "school")
    for what, many in (
        ("items", items),
        ("good practice", good_practice),
        ("activities", activities),
    ):
        if len(many) > MAX_ITEMS:
            raise InvalidInput(
                f"a write-up has at most {MAX_ITEMS} {what}; this one has {len(many)}"
            )
    for n, i in enumerate(items, start=1):
        check_text(i.kind, f"item {n} kind", max_len=NAME_MAX, multiline=False)
        check_text(i.line, f"{i.kind} item {n} line of enquiry")
        check_text(i.text, f"{i.kind} item {n} text")
        check_text(i.evidence, f"{i.kind} item {n} evidence")
    for n, p in enumerate(good_practice, start=1):
        check_text(p.area, f"good practice {n} area", max_len=NAME_MAX, multiline=False)
        check_text(p.description, f"good practice {n} description")
        check_text(p.contact, f"good practice {n} contact", max_len=NAME_MAX)
    for n, activity in enumerate(activities, start=1):
        check_text(activity, f"activity {n}")
    check_text(next_steps, "next steps")


def _writeup(ctx: CycleContext, host: int) -> WriteUp:
    found = ctx.records.writeup(ctx.review(host))
    if found is None:
        raise NotFound("write-up", f"for school {host}", "the lead reviewer has not drafted it")
    return found


def draft(
    rt: Runtime,
    *,
    cycle: str,
    host: int,
    items: list[Item],
    good_practice: list[Practice],
    activities: list[str],
    next_steps: str = "",
) -> WriteUpView:
    """The lead reviewer's draft (a redraft after a return is a new version)."""
    _check_draft(host, items, good_practice, activities, next_steps)
    kinds = {i.kind for i in items}
    if not {"www", "ebi"} <= kinds:
        raise InvalidInput("a write-up needs at least one What Went Well and one Even Better If")
    for i in items:
        if i.kind not in ("www", "ebi") or not i.text.strip() or not i.evidence.strip():
            raise InvalidInput(f"item {i.text[:40]!r}: kind www|ebi, text and evidence are needed")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_actor_of(
            Part.WRITE_UP, WriteUpTrigger.DRAFT, host, f"draft the write-up for school {host}"
        )
        areas = {a.key for a in get_framework(ctx.cluster.framework).areas}
        for p in good_practice:
            if p.area not in areas:
                raise InvalidInput(
                    f"good practice area {p.area!r} is not in {ctx.cluster.framework}: "
                    + ", ".join(sorted(areas))
                )
        state = ctx.state(host, Part.WRITE_UP)
        if state not in (WriteUpState.AWAITING_DRAFT, WriteUpState.DRAFTED):
            raise InvalidInput(
                f"{ctx.label} school {host}: the write-up is {state}; "
                "it can be redrafted only after it is returned"
            )
        lead = next((p.visitor_urn for p in ctx.records.places(host) if p.is_lead), None)
        if lead is None:
            raise InvalidInput(f"school {host} has no lead reviewer; form its triad first")
        review = ctx.review(host)
        assert review.id is not None
        found = ctx.records.writeup(review)
        row = found or WriteUp(review_id=review.id, lead_urn=lead, drafted_at=ctx.now, version=0)
        row.version += 1
        row.items = [vars(i) for i in items]
        row.good_practice = [vars(p) for p in good_practice]
        row.activities, row.next_steps, row.drafted_at = activities, next_steps, ctx.now
        session.add(row)
        session.flush()
        ctx.records.note_writeup(row)
        if state == WriteUpState.AWAITING_DRAFT:
            ctx.fire(Part.WRITE_UP, WriteUpTrigger.DRAFT, host)
        else:  # a new version: the co-reviewers are asked to agree it again
            notices.writeup_redrafted(ctx, host)
        return _view(ctx, host)


def agree(rt: Runtime, *, cycle: str, host: int) -> WriteUpView:
    """Record the acting school's agreement and move the write-up on when the workflow allows:
    a co-reviewer agrees a draft (when every co-reviewer has, it is reviewers_agreed), then the
    host agrees it after fact-checking (host_agreed). Who may, and when, is the workflow's."""
    check_urn(host, "school")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_a_part(Part.WRITE_UP, host, f"agree the write-up for school {host}")
        row = _writeup(ctx, host)
        have = ctx.relations(host)
        state = ctx.state(host, Part.WRITE_UP)
        if state == WriteUpState.DRAFTED:
            if Relation.CO_REVIEWER in have:
                _decide(ctx, row, "reviewer", "agreed", None)
                if not _all_reviewers_agreed(ctx, host, row):
                    return _view(ctx, host)  # the others have still to agree
            ctx.fire(Part.WRITE_UP, WriteUpTrigger.REVIEWERS_AGREE, host)
        elif state == WriteUpState.REVIEWERS_AGREED:
            if Relation.SCHOOL in have:
                _decide(ctx, row, "host", "agreed", None)
            ctx.fire(Part.WRITE_UP, WriteUpTrigger.HOST_AGREE, host)
        else:
            raise InvalidInput(
                f"{ctx.label} school {host}: the write-up is {state}; there is nothing to agree"
            )
        return _view(ctx, host)


def _all_reviewers_agreed(ctx: CycleContext, host: int, row: WriteUp) -> bool:
    """Whether this agreement was the last one (the guard on reviewers_agree checks it again)."""
    agreed = {
        d.school_urn
        for d in ctx.records.decisions(row)
        if d.role == "reviewer" and d.decision == "agreed"
    }
    return {p.visitor_urn for p in ctx.records.places(host) if not p.is_lead} <= agreed


def return_(rt: Runtime, *, cycle: str, host: int, reason: str) -> WriteUpView:
    """A co-reviewer or the host sends the draft back to the lead reviewer, saying why (the
    lead reviewer redrafts instead, with `review writeup draft`)."""
    check_urn(host, "school")
    check_text(reason, "reason")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_a_part(Part.WRITE_UP, host, f"return the write-up for school {host}")
        row = _writeup(ctx, host)
        have = ctx.relations(host)
        ctx.fire(Part.WRITE_UP, WriteUpTrigger.RETURN, host, reason=reason)
        if Relation.SCHOOL in have or Relation.CO_REVIEWER in have:
            role = "host" if Relation.SCHOOL in have else "reviewer"
            _decide(ctx, row, role, "returned", reason)
        return _view(ctx, host)


def _decide(ctx: CycleContext, row: WriteUp, role: str, decision: str, reason: str | None) -> None:
    assert row.id is not None and ctx.actor.school_urn is not None
    made = WriteUpDecision(
        writeup_id=row.id,
        version=row.version,
        school_urn=ctx.actor.school_urn,
        role=role,
        decision=decision,
        reason=reason,
        actor=ctx.actor.name,
        at=ctx.now,
    )
    ctx.session.add(made)
    ctx.records.note_decision(row, made)


def publish(
    rt: Runtime, *, cycle: str, host: int, sharing: SharingLevel, named: list[int] | None = None
) -> WriteUpView:
    """The host shares the agreed write-up; its good practice enters the directory."""
    check_urn(host, "school")
    for urn in named or []:
        check_urn(urn, "--with school")
    named = sorted(set(named or []))
    if sharing is SharingLevel.NAMED and not named:
        raise InvalidInput("sharing with named schools needs --with URN (one or more)")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require_actor_of(
            Part.WRITE_UP, WriteUpTrigger.PUBLISH, host, f"publish the write-up for {host}"
        )
        row = _writeup(ctx, host)
        members = set(policy.current_members(session, ctx.cluster.id or 0))
        strangers = [u for u in named if u not in members]
        if strangers:
            raise InvalidInput(f"schools {strangers} are not in cluster {ctx.cluster.name}")
        row.sharing, row.shared_with = sharing.value, named
        row.published_at = ctx.now
        session.add(row)
        ctx.fire(Part.WRITE_UP, WriteUpTrigger.PUBLISH, host)
        assert row.id is not None and ctx.cluster.id is not None
        session.add_all(
            GoodPractice(
                cluster_id=ctx.cluster.id,
                cycle_id=ctx.cycle_id,
                writeup_id=row.id,
                school_urn=host,
                area=p["area"],
                description=p["description"],
                contact=p.get("contact", ""),
            )
            for p in row.good_practice
        )
        return _view(ctx, host)


def show(rt: Runtime, *, cycle: str, host: int, record_access: bool = True) -> WriteUpView:
    """A write-up, for the host, its reviewers, the facilitator, and whoever it is shared with;
    the reading goes in the access log (a report built from it records its own instead)."""
    check_urn(host, "school")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.WRITE_UP)
        row = ctx.records.writeup(ctx.review(host))
        # Whether a draft exists is itself confidential: outsiders get the same refusal.
        if row is None:
            allowed = policy.can_see(session, ctx.actor, ctx.cycle, host)
        else:
            allowed = may_read(ctx, row, host)
        if not allowed:
            raise NotPermitted(
                ctx.actor.name,
                f"see the write-up for school {host}",
                "the host has not shared it with your school",
            )
        view = _view(ctx, host)
        if record_access:
            _note_read(ctx, rt, host, view.version)
        return view


def _note_read(ctx: CycleContext, rt: Runtime, host: int, version: int) -> None:
    access_log.note(
        ctx.session,
        rt,
        actor=ctx.actor.name,
        cycle_id=ctx.cycle_id,
        action=access_log.Action.VIEWED,
        read=access_log.Read(host, access_log.Record.WRITEUP, f"version {version}"),
    )


def may_read(ctx: CycleContext, row: WriteUp, host: int) -> bool:
    if Relation.FACILITATOR in ctx.relations(None) or ctx.actor.system:
        return True
    if ctx.actor.school_urn is None:
        return False
    reviewers = [host, *(p.visitor_urn for p in ctx.records.places(host))]
    members = policy.current_members(ctx.session, ctx.cluster.id or 0)
    return ctx.actor.school_urn in policy.writeup_readers(row, reviewers, members)


def _view(ctx: CycleContext, host: int) -> WriteUpView:
    row = _writeup(ctx, host)
    decisions = [d for d in ctx.records.decisions(row) if d.decision == "agreed"]
    names = ctx.records.school_names({host, row.lead_urn, *(d.school_urn for d in decisions)})
    items = [Item(**i) for i in row.items]
    return WriteUpView(
        cycle=ctx.label,
        host=host,
        host_name=names.get(host, str(host)),
        state=ctx.state(host, Part.WRITE_UP),
        lead=names.get(row.lead_urn, str(row.lead_urn)),
        version=row.version,
        activities=list(row.activities),
        www=[i for i in items if i.kind == "www"],
        ebi=[i for i in items if i.kind == "ebi"],
        good_practice=[
            Practice(p["area"], p["description"], p.get("contact", "")) for p in row.good_practice
        ],
        next_steps=row.next_steps,
        sharing=row.sharing,
        shared_with=list(row.shared_with),
        agreed_by=[f"{names.get(d.school_urn, d.school_urn)} ({d.role})" for d in decisions],
        published_at=row.published_at,
    )


# --- for the web pages: one read of everything the write-up page shows ------------------------


@dataclass(frozen=True)
class Returned:
    """The latest return of the draft to the lead reviewer, still to be redrafted."""

    by: str  # the person's name (or their e-mail if they are no longer registered)
    school: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class WriteUpPage:
    """What one person sees of a host's write-up, and which of its steps they may take now."""

    cycle: str
    host: int
    host_name: str
    state: str
    writeup: WriteUpView | None
    may_draft: bool
    may_agree: bool
    may_return: bool
    may_publish: bool
    agreed_by_me: bool
    waiting_for: list[str]  # schools whose agreement the current step still waits for
    returned: Returned | None
    areas: list[tuple[str, str]]  # the framework's areas, for good practice: (key, title)
    members: list[tuple[int, str]]  # other schools of the cluster, for sharing with named ones
    may_share: bool = False  # the host or the facilitator, once published: widen or withdraw
    sharing_log: list[SharingChangeRow] = field(default_factory=list)  # for those who may
    may_read_access_log: bool = False  # the host's own staff and the facilitator


def writeup_page(rt: Runtime, *, cycle: str, host: int, record_access: bool = True) -> WriteUpPage:
    """The write-up page for the acting person: the host, its visiting schools and the
    facilitator before publication; whoever it is shared with after. Anyone else (and a school
    not in the cycle) gets the same NotFound. Showing a write-up goes in the access log (not
    when a form's handler only asks whether the person may see it: `record_access=False`)."""
    check_urn(host, "school")
    hidden = NotFound("write-up", f"for school {host}", "there is no such write-up")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        machine = ctx.phase(Part.WRITE_UP)
        try:
            review = ctx.review(host)
        except NotFound:
            raise hidden from None
        row = ctx.records.writeup(review)
        if row is None:
            allowed = policy.can_see(session, ctx.actor, ctx.cycle, host)
        else:
            allowed = may_read(ctx, row, host)
        have = ctx.relations(host)
        if not allowed:
            raise hidden
        state = ctx.state(host, Part.WRITE_UP)

        def may(trigger: str) -> bool:
            actors = {
                a
                for t in machine.transitions
                if t.trigger == trigger and state in t.sources
                for a in t.actors
            }
            return policy.allows(have, actors)

        places = ctx.records.places(host)
        mine = ctx.actor.school_urn
        decisions = ctx.records.decisions(row) if row is not None else []
        agreed = {d.school_urn for d in decisions if d.decision == "agreed"}
        if state == WriteUpState.DRAFTED:
            waiting = [
                p.visitor_urn for p in places if not p.is_lead and p.visitor_urn not in agreed
            ]
        elif state == WriteUpState.REVIEWERS_AGREED:
            waiting = [host]
        else:
            waiting = []
        members = [u for u in policy.current_members(session, ctx.cluster.id or 0) if u != host]
        may_share = (
            row is not None
            and row.published_at is not None
            and policy.allows(have, _actors(ctx, WriteUpTrigger.PUBLISH))
        )
        changes = _sharing_changes(ctx, row) if may_share and row is not None else []
        shared = {u for c, _ in changes for u in (*c.shared_with_before, *c.shared_with_after)}
        names = ctx.records.school_names({host, *members, *waiting, *shared})
        returned = _latest_return(ctx, host, row) if row is not None else None
        if row is not None and record_access:
            _note_read(ctx, rt, host, row.version)
        agree_trigger = (
            WriteUpTrigger.REVIEWERS_AGREE
            if state == WriteUpState.DRAFTED
            else WriteUpTrigger.HOST_AGREE
        )
        return WriteUpPage(
            cycle=ctx.label,
            host=host,
            host_name=names.get(host, str(host)),
            state=state,
            writeup=_view(ctx, host) if row is not None else None,
            may_draft=state in (WriteUpState.AWAITING_DRAFT, WriteUpState.DRAFTED)
            and policy.allows(have, _actors(ctx, WriteUpTrigger.DRAFT)),
            may_agree=row is not None and may(agree_trigger) and mine not in agreed,
            may_return=row is not None and may(WriteUpTrigger.RETURN),
            may_publish=row is not None and may(WriteUpTrigger.PUBLISH),
            agreed_by_me=mine is not None and mine in agreed,
            waiting_for=[names.get(u, str(u)) for u in waiting],
            returned=returned,
            areas=[(a.key, a.title) for a in get_framework(ctx.cluster.framework).areas],
            members=sorted(((u, names.get(u, str(u))) for u in members), key=lambda m: m[1]),
            may_share=may_share,
            sharing_log=[_change_row(c, by, names) for c, by in changes],
            may_read_access_log=bool(have & {Relation.SCHOOL, Relation.FACILITATOR}),
        )


def _actors(ctx: CycleContext, trigger: str) -> set[str]:
    machine = ctx.phase(Part.WRITE_UP)
    return {a for t in machine.transitions if t.trigger == trigger for a in t.actors}


def _latest_return(ctx: CycleContext, host: int, row: WriteUp) -> Returned | None:
    """The last return of this write-up from history, unless the lead has redrafted since
    (one query, with the returner's name and school)."""
    found = ctx.session.exec(
        select(TransitionLog, Person.name, School.name)
        .outerjoin(Person, col(Person.email) == TransitionLog.actor)
        .outerjoin(School, col(School.urn) == Person.school_urn)
        .where(
            TransitionLog.cycle_id == ctx.cycle_id,
            TransitionLog.school_urn == host,
            TransitionLog.machine == ctx.phase(Part.WRITE_UP).name,
            TransitionLog.trigger == WriteUpTrigger.RETURN,
        )
        .order_by(col(TransitionLog.id).desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    log, person, school = found
    if as_utc(row.drafted_at) > as_utc(log.at):
        return None  # redrafted since
    return Returned(
        by=person or log.actor,
        school=school or ("the facilitator" if person else ""),
        reason=log.reason or "",
        at=as_utc(log.at),
    )


def report_for(rt: Runtime, *, cycle: str, host: int) -> WriteUpView:
    """`show` for the web: a write-up the person may not read answers NotFound, exactly as
    one that does not exist."""
    try:
        return show(rt, cycle=cycle, host=host, record_access=False)
    except (NotPermitted, NotFound):
        raise NotFound("write-up", f"for school {host}", "there is no such write-up") from None


# --- widening or withdrawing a published write-up's sharing -----------------------------------


@dataclass(frozen=True)
class SharingChangeRow:
    """One change of who may read a published write-up, as the change log shows it."""

    at: datetime
    by: str  # the person's name (their e-mail if no longer registered)
    sharing_before: str | None
    sharing_after: str | None
    shared_with_before: list[str]  # school names
    shared_with_after: list[str]
    reason: str


@dataclass(frozen=True)
class SharingChanged:
    writeup: WriteUpView
    reached: list[str]  # schools that may now read it and could not before (names)
    withdrawn: list[str]  # schools that could read it and no longer may (names)
    log: list[SharingChangeRow]  # every change so far, newest first


def change_sharing(
    rt: Runtime,
    *,
    cycle: str,
    host: int,
    sharing: SharingLevel,
    shared_with: list[int] | None = None,
    reason: str,
) -> SharingChanged:
    """Widen or withdraw who may read a published write-up (the host school or the
    facilitator: whoever the workflow lets publish it), saying why. The change is logged
    (before, after, who, when, why) and holds at once everywhere the write-up is read, the
    good-practice directory included; schools newly reached are told it is shared with them.
    Someone who may not read the write-up is told it was not found."""
    check_urn(host, "school")
    for urn in shared_with or []:
        check_urn(urn, "--with school")
    named = sorted(set(shared_with or []))
    check_text(reason, "reason")
    if not reason.strip():
        raise InvalidInput("say why the sharing changes: a reason is required")
    if sharing is SharingLevel.NAMED and not named:
        raise InvalidInput("sharing with named schools needs --with URN (one or more)")
    if sharing is not SharingLevel.NAMED and named:
        raise InvalidInput("--with names schools only when sharing with named schools")
    hidden = NotFound("write-up", f"for school {host}", "there is no such write-up")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.phase(Part.WRITE_UP)
        try:
            review = ctx.review(host)
        except NotFound:
            raise hidden from None
        row = ctx.records.writeup(review)
        if row is None or not may_read(ctx, row, host):
            raise hidden
        host_name = ctx.school(host).name
        action = f"change who may read the write-up for {host_name}"
        ctx.require(host, _actors(ctx, WriteUpTrigger.PUBLISH), action)
        if row.published_at is None or ctx.state(host, Part.WRITE_UP) != WriteUpState.PUBLISHED:
            raise InvalidInput(
                f"the write-up for {host_name} is not published yet; choose who may read it "
                "when it is published"
            )
        members = policy.current_members(session, ctx.cluster.id or 0)
        strangers = [u for u in named if u not in members or u == host]
        if strangers:
            raise InvalidInput(
                f"schools {strangers} are not other schools of cluster {ctx.cluster.name}"
            )
        if (row.sharing, sorted(row.shared_with)) == (sharing.value, named):
            raise InvalidInput(
                f"the write-up for {host_name} is already shared so; nothing changed"
            )
        reviewers = [host, *(p.visitor_urn for p in ctx.records.places(host))]
        readers_before = policy.writeup_readers(row, reviewers, members)
        before = (row.sharing, list(row.shared_with))
        row.sharing, row.shared_with = sharing.value, named
        session.add(row)
        readers_after = policy.writeup_readers(row, reviewers, members)
        assert row.id is not None
        made = SharingChange(
            writeup_id=row.id,
            at=ctx.now,
            actor=ctx.actor.name,
            sharing_before=before[0],
            sharing_after=sharing.value,
            shared_with_before=before[1],
            shared_with_after=named,
            reason=reason.strip(),
        )
        session.add(made)
        session.flush()
        reached, withdrawn = readers_after - readers_before, readers_before - readers_after
        _tell_newly_reached(ctx, rt, host, sorted(reached), made)
        changes = _sharing_changes(ctx, row)
        shared = {u for c, _ in changes for u in (*c.shared_with_before, *c.shared_with_after)}
        names = ctx.records.school_names({host, *reached, *withdrawn, *shared})
        return SharingChanged(
            writeup=_view(ctx, host),
            reached=sorted(names.get(u, str(u)) for u in reached),
            withdrawn=sorted(names.get(u, str(u)) for u in withdrawn),
            log=[_change_row(c, by, names) for c, by in changes],
        )


def _tell_newly_reached(
    ctx: CycleContext, rt: Runtime, host: int, urns: list[int], change: SharingChange
) -> None:
    """The "shared with you" notice to the people of schools the write-up now reaches,
    queued in the outbox in this transaction (sent after it commits); a school withdrawn from
    and reached again by a later change is told again."""
    notices.writeup_shared(
        ctx.session,
        cycle_id=ctx.cycle_id,
        host=host,
        schools=urns,
        at=ctx.now,
        base_url=rt.settings.public_url,
        occasion=f"sharing-{change.id}",
    )


def _sharing_changes(
    ctx: CycleContext, row: WriteUp | None
) -> list[tuple[SharingChange, str | None]]:
    """The write-up's sharing changes, newest first, with the name of who made each (one
    query)."""
    if row is None or row.id is None:
        return []
    return list(
        ctx.session.exec(
            select(SharingChange, Person.name)
            .outerjoin(Person, col(Person.email) == SharingChange.actor)
            .where(SharingChange.writeup_id == row.id)
            .order_by(col(SharingChange.id).desc())
        ).all()
    )


def _change_row(change: SharingChange, by: str | None, names: dict[int, str]) -> SharingChangeRow:
    return SharingChangeRow(
        at=as_utc(change.at),
        by=by or change.actor,
        sharing_before=change.sharing_before,
        sharing_after=change.sharing_after,
        shared_with_before=[names.get(u, str(u)) for u in change.shared_with_before],
        shared_with_after=[names.get(u, str(u)) for u in change.shared_with_after],
        reason=change.reason,
    )
