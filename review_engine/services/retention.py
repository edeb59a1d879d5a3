"""The retention policy: how long each kind of record is kept (`core/retention.py`'s defaults,
or the programme's own periods in `retention_period`), holds that keep a person's or a
cycle's records past their period, and the purge that applies it.

`purge` finds everything past its period in a fixed number of queries, then (unless it is a
dry run) anonymises people who left, replaces an ended cycle's free text with
`core.retention.REMOVED`, and deletes lapsed sign-in records, old drafts, sent messages and
access-log rows, each step one set-based statement (`UPDATE ... WHERE id IN ...`), all in one
transaction with a `purge_log` row per step (counts, no names). A hold (`retention_hold`)
keeps every record that names its person, or that belongs to its cycle. History
(`transitionlog`) is append-only and hash-chained: a purge never touches it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, delete, func, literal, or_, update
from sqlmodel import Session, col, select

from review_engine.clock import as_utc
from review_engine.core.retention import (
    ANONYMOUS_DOMAIN,
    ANONYMOUS_NAME,
    DEFAULTS,
    LABELS,
    MONTHS_MAX,
    MONTHS_MIN,
    OUTCOMES,
    REMOVED,
    STARTS,
    RecordKind,
    anonymous_email,
    months_before,
)
from review_engine.core.safe_text import check_text
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._lookup import cycle_label, get_cycle, get_person
from review_engine.store.batch import in_
from review_engine.store.models import (
    Cluster,
    ClusterChange,
    Cycle,
    Person,
    PersonChange,
    Review,
    TransitionLog,
)
from review_engine.store.phase_tables import (
    ActionUpdate,
    Availability,
    Feedback,
    GoodPractice,
    SelfEvaluation,
    SupportAction,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)
from review_engine.store.privacy_tables import (
    AccessLog,
    PurgeLog,
    RetentionHold,
    RetentionPeriod,
    SchoolNoticeRoute,
    SharingChange,
)
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.store.web_tables import ApiToken, Draft, SignInAttempt, SignInLink, WebSession

PERSON = "person"
CYCLE = "cycle"
HOLD_KINDS = (PERSON, CYCLE)
REASON_MAX = 500


# --- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodView:
    kind: RecordKind
    label: str
    months: int
    default_months: int
    starts: str  # from when the period runs
    outcome: str  # what a purge does then
    set_by: str | None = None  # None: the default
    set_at: datetime | None = None


@dataclass(frozen=True)
class HoldView:
    id: int
    subject_kind: str  # person | cycle
    subject: str  # the person's e-mail, or the cycle as CLUSTER/YEAR
    reason: str
    held_by: str
    held_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None


@dataclass(frozen=True)
class Policy:
    periods: list[PeriodView]
    holds: list[HoldView]  # in force, oldest first


def _kind(kind: str) -> RecordKind:
    try:
        return RecordKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in RecordKind)
        raise InvalidInput(
            f"{str(kind)[:40]!r} is not a kind of record; kinds are {kinds}"
        ) from None


def _periods(session: Session) -> dict[RecordKind, int]:
    """The months each kind is kept: the programme's choice, else the default (one query)."""
    chosen = dict(session.exec(select(RetentionPeriod.kind, RetentionPeriod.months)).all())
    return {k: chosen.get(k.value, d) for k, d in DEFAULTS.items()}


def show_policy(rt: Runtime) -> Policy:
    """Each kind's period (the programme's or the default) and the holds in force; anyone
    registered may read the policy, only a programme admin sees whose records are held."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        chosen = {r.kind: r for r in session.exec(select(RetentionPeriod))}
        periods = []
        for kind, default in DEFAULTS.items():
            row = chosen.get(kind.value)
            periods.append(
                PeriodView(
                    kind=kind,
                    label=LABELS[kind],
                    months=row.months if row else default,
                    default_months=default,
                    starts=STARTS[kind],
                    outcome=OUTCOMES[kind],
                    set_by=row.actor if row else None,
                    set_at=row.at if row else None,
                )
            )
        holds = _hold_views(session, _active_holds(session)) if actor.admin else []
        return Policy(periods=periods, holds=holds)


def set_period(rt: Runtime, *, kind: str, months: int) -> PeriodView:
    """Keep a kind of record for `months` in this database (a programme admin)."""
    found = _kind(kind)
    if not MONTHS_MIN <= months <= MONTHS_MAX:
        raise InvalidInput(f"months must be from {MONTHS_MIN} to {MONTHS_MAX}, not {months}")
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_admin(actor, f"set the retention period of {found.value}")
        now = rt.clock.now()
        session.merge(RetentionPeriod(kind=found.value, months=months, actor=actor.name, at=now))
        return PeriodView(
            kind=found,
            label=LABELS[found],
            months=months,
            default_months=DEFAULTS[found],
            starts=STARTS[found],
            outcome=OUTCOMES[found],
            set_by=actor.name,
            set_at=now,
        )


# --- holds -----------------------------------------------------------------------------------


def _active_holds(session: Session) -> list[RetentionHold]:
    return list(
        session.exec(
            select(RetentionHold)
            .where(col(RetentionHold.released_at).is_(None))
            .order_by(col(RetentionHold.id))
        )
    )


def _hold_views(session: Session, holds: Sequence[RetentionHold]) -> list[HoldView]:
    """Holds with their cycles named CLUSTER/YEAR (one query)."""
    ids = [int(h.subject) for h in holds if h.subject_kind == CYCLE and h.subject.isdigit()]
    labels: dict[int, str] = {}
    if ids:
        for cycle_id, name, year in session.exec(
            select(Cycle.id, Cluster.name, Cycle.academic_year)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .where(col(Cycle.id).in_(ids))
        ):
            assert cycle_id is not None
            labels[cycle_id] = cycle_label(name, year)
    return [
        HoldView(
            id=h.id or 0,
            subject_kind=h.subject_kind,
            subject=labels.get(int(h.subject), h.subject) if h.subject_kind == CYCLE else h.subject,
            reason=h.reason,
            held_by=h.held_by,
            held_at=h.held_at,
            released_by=h.released_by,
            released_at=h.released_at,
        )
        for h in holds
    ]


def _subject(session: Session, subject_kind: str, subject: str) -> tuple[str, str]:
    """The stored key of a hold's subject (a person's e-mail, a cycle's id) and its label."""
    if subject_kind == PERSON:
        person = get_person(session, subject.strip())
        return person.email, person.email
    if subject_kind == CYCLE:
        cycle, cluster = get_cycle(session, subject.strip())
        return str(cycle.id), cycle_label(cluster, cycle.academic_year)
    raise InvalidInput(f"a hold is on a person or a cycle, not {str(subject_kind)[:40]!r}")


def hold(rt: Runtime, *, subject_kind: str, subject: str, reason: str) -> HoldView:
    """Keep a person's records (every record that names them) or a cycle's records past
    their retention period until released: a complaint, a safeguarding matter, a claim. A
    programme admin places it, with the reason."""
    check_text(reason, "reason", max_len=REASON_MAX, multiline=False)
    if not reason.strip():
        raise InvalidInput("give the reason for the hold (--reason), e.g. a complaint's reference")
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_admin(actor, f"hold the records of {subject_kind} {subject[:60]}")
        key, label = _subject(session, subject_kind, subject)
        held = session.exec(
            select(RetentionHold.id).where(
                RetentionHold.subject_kind == subject_kind,
                RetentionHold.subject == key,
                col(RetentionHold.released_at).is_(None),
            )
        ).first()
        if held is not None:
            raise InvalidInput(f"the records of {subject_kind} {label} are already held")
        row = RetentionHold(
            subject_kind=subject_kind,
            subject=key,
            reason=reason.strip(),
            held_by=actor.name,
            held_at=rt.clock.now(),
        )
        session.add(row)
        session.flush()
        return _hold_views(session, [row])[0]


def release(rt: Runtime, *, subject_kind: str, subject: str) -> HoldView:
    """End the hold on a person or a cycle: their records are purged when next past their
    period (a programme admin)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_admin(actor, f"release the hold on {subject_kind} {subject[:60]}")
        key, label = _subject(session, subject_kind, subject)
        row = session.exec(
            select(RetentionHold).where(
                RetentionHold.subject_kind == subject_kind,
                RetentionHold.subject == key,
                col(RetentionHold.released_at).is_(None),
            )
        ).first()
        if row is None:
            raise NotFound("hold on", f"{subject_kind} {label}", "see `review retention show`")
        row.released_by, row.released_at = actor.name, rt.clock.now()
        session.add(row)
        session.flush()
        return _hold_views(session, [row])[0]


# --- the purge -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeStep:
    kind: RecordKind
    what: str  # the records, in words ("SEF versions")
    count: int


@dataclass(frozen=True)
class PurgeReport:
    dry_run: bool
    at: datetime
    steps: list[PurgeStep] = field(default_factory=list)
    held_people: int = 0
    held_cycles: int = 0

    @property
    def total(self) -> int:
        return sum(s.count for s in self.steps)


@dataclass
class _Held:
    addresses: set[str]  # every address (current and old) of a held person
    person_ids: set[int]
    cycle_ids: set[int]


def _held(session: Session, holds: Sequence[RetentionHold]) -> _Held:
    """Who and what the holds in force keep (two queries at most)."""
    emails = {h.subject for h in holds if h.subject_kind == PERSON}
    cycles = {int(h.subject) for h in holds if h.subject_kind == CYCLE and h.subject.isdigit()}
    ids: set[int] = set()
    addresses = set(emails)
    if emails:
        rows = session.exec(
            select(Person.id, Person.email)
            .outerjoin(PersonChange, col(PersonChange.person_id) == Person.id)
            .where(
                col(Person.email).in_(emails)
                | ((col(PersonChange.setting) == "email") & col(PersonChange.old).in_(emails))
            )
        ).all()
        ids = {i for i, _ in rows if i is not None}
        if ids:
            addresses |= _addresses(session, ids).keys()
    return _Held(addresses=addresses, person_ids=ids, cycle_ids=cycles)


def _addresses(session: Session, person_ids: set[int]) -> dict[str, int]:
    """Every address each person has had (now and in their change log) -> their id."""
    found = {
        e: i
        for i, e in session.exec(
            select(Person.id, Person.email).where(col(Person.id).in_(person_ids))
        )
        if i is not None
    }
    for pid, old, new in session.exec(
        select(PersonChange.person_id, PersonChange.old, PersonChange.new).where(
            col(PersonChange.person_id).in_(person_ids), PersonChange.setting == "email"
        )
    ):
        for address in (old, new):
            if address and "@" in address:
                found.setdefault(address, pid)
    return found


def _ended_cycles(session: Session, before: datetime) -> list[int]:
    """Cycles that closed or were cancelled before `before`: in a final state of their
    workflow's cycle machine, whose last cycle-level history row is older (one query)."""
    rows = session.exec(
        select(Cycle, func.max(TransitionLog.at))
        .join(TransitionLog, col(TransitionLog.cycle_id) == Cycle.id)
        .where(TransitionLog.machine == "cycle")
        .group_by(col(Cycle.id))
    ).all()
    ended = []
    for cycle, last in rows:
        final = compiled_for(session, cycle).definition.cycle_machine.final
        if cycle.state in final and last is not None and as_utc(last) < before:
            assert cycle.id is not None
            ended.append(cycle.id)
    return ended


def _deactivated_before(session: Session, before: datetime, held: set[int]) -> list[int]:
    """People deactivated (and not since reactivated) before `before`, not yet anonymised
    and not held (one query)."""
    rows = session.exec(
        select(Person.id, func.max(PersonChange.at))
        .join(PersonChange, col(PersonChange.person_id) == Person.id)
        .where(
            col(Person.active).is_(False),
            col(Person.anonymised_at).is_(None),
            PersonChange.setting == "active",
            PersonChange.new == "False",
        )
        .group_by(col(Person.id))
    ).all()
    return sorted(
        pid
        for pid, last in rows
        if pid is not None and last is not None and as_utc(last) < before and pid not in held
    )


class _Purge:
    """One purge's steps inside one transaction: each finds its rows' ids (counted), and
    unless a dry run, changes or deletes exactly those rows."""

    def __init__(self, session: Session, dry_run: bool) -> None:
        self.session = session
        self.dry_run = dry_run
        self.steps: list[PurgeStep] = []
        self.gone: dict[Any, set[int]] = {}

    def ids(self, query: Any) -> list[int]:
        return [i for i in self.session.exec(query) if i is not None]

    def step(self, kind: RecordKind, what: str, ids: list[int], apply: Callable[[], Any]) -> None:
        self.steps.append(PurgeStep(kind, what, len(ids)))
        if ids and not self.dry_run:
            apply()

    def change(
        self, kind: RecordKind, what: str, model: Any, ids: list[int], values: dict[str, Any]
    ) -> None:
        self.step(
            kind,
            what,
            ids,
            lambda: self.session.execute(
                update(model).where(in_(self.session, model.id, ids)).values(**values)
            ),
        )

    def drop(self, kind: RecordKind, what: str, model: Any, ids: list[int]) -> None:
        # Rows an earlier step deleted are not counted again: a dry run, which deletes
        # nothing, then counts what the real purge does.
        gone = self.gone.setdefault(model, set())
        ids = [i for i in ids if i not in gone]
        gone.update(ids)
        self.step(
            kind,
            what,
            ids,
            lambda: self.session.execute(delete(model).where(in_(self.session, model.id, ids))),
        )


# Columns that hold a person's address, in tables a purge may change (history is left).
_ADDRESS_COLUMNS: tuple[tuple[Any, str], ...] = (
    (SelfEvaluation, "submitted_by"),
    (WriteUpDecision, "actor"),
    (Feedback, "actor"),
    (ActionUpdate, "actor"),
    (Draft, "saved_by"),
    (PersonChange, "actor"),
    (ClusterChange, "actor"),
    (SharingChange, "actor"),
    (AccessLog, "actor"),
    (OutboxMessage, "recipient"),
    (RetentionPeriod, "actor"),
    (SchoolNoticeRoute, "actor"),
    (PurgeLog, "actor"),
)


def _anonymise(run: _Purge, person_ids: list[int], now: datetime) -> None:
    """People who left: name, e-mail and notice choices, the values of their change log, and
    their address wherever a record other than history names them as its author."""
    session = run.session
    kind = RecordKind.FORMER_STAFF
    if person_ids and not run.dry_run:
        pairs = [
            {"b_old": a, "b_new": anonymous_email(pid)}
            for a, pid in _addresses(session, set(person_ids)).items()
        ]
        for model, column in _ADDRESS_COLUMNS:
            table = model.__table__
            session.execute(
                update(table)
                .where(table.c[column] == bindparam("b_old"))
                .values({column: bindparam("b_new")}),
                pairs,
            )
    changes = run.ids(
        select(PersonChange.id).where(
            in_(session, col(PersonChange.person_id), person_ids),
            col(PersonChange.setting).in_(("name", "email")),
            (col(PersonChange.old) != REMOVED) | (col(PersonChange.new) != REMOVED),
        )
    )
    removed = {"old": REMOVED, "new": REMOVED}
    run.change(kind, "changes to their name or e-mail", PersonChange, changes, removed)
    for model, what in (
        (SignInLink, "their sign-in links"),
        (WebSession, "their browser sessions"),
        (ApiToken, "their API tokens"),
    ):
        found = run.ids(select(model.id).where(in_(session, col(model.person_id), person_ids)))
        run.drop(kind, what, model, found)
    run.change(
        kind,
        "people anonymised",
        Person,
        person_ids,
        {
            "name": ANONYMOUS_NAME,
            "email": literal("anonymised-")
            + cast(Person.id, String)
            + literal(f"@{ANONYMOUS_DOMAIN}"),
            "notices": "",
            "anonymised_at": now,
        },
    )


def _not_removed(column: Any) -> Any:
    return col(column).is_not(None) & (col(column) != REMOVED)


def _remove_text(run: _Purge, cycle_ids: list[int]) -> None:
    """An ended cycle's free text (what schools wrote), replaced by REMOVED; lists of text
    (SEF areas, agenda rows, write-up items) emptied. Dates, states, grades of the cycle as a
    whole and history stay."""
    session = run.session
    kind = RecordKind.REVIEW_TEXT
    reviews = run.ids(select(Review.id).where(in_(session, col(Review.cycle_id), cycle_ids)))
    in_reviews: Callable[[Any], Any] = lambda column: in_(session, column, reviews)  # noqa: E731
    sefs = run.ids(
        select(SelfEvaluation.id).where(
            in_reviews(col(SelfEvaluation.review_id)), _not_removed(SelfEvaluation.enquiry_question)
        )
    )
    run.change(
        kind, "SEF versions", SelfEvaluation, sefs, {"enquiry_question": REMOVED, "areas": []}
    )
    plans = run.ids(
        select(VisitPlan.id).where(
            in_reviews(col(VisitPlan.review_id)),
            or_(
                col(VisitPlan.enquiry_question).is_(None),
                col(VisitPlan.enquiry_question) != REMOVED,
            ),
        )
    )
    run.change(
        kind,
        "visit plans",
        VisitPlan,
        plans,
        {"enquiry_question": REMOVED, "agenda": [], "host_staff": []},
    )
    writeup_ids = run.ids(select(WriteUp.id).where(in_reviews(col(WriteUp.review_id))))
    writeups = run.ids(
        select(WriteUp.id).where(
            in_(session, col(WriteUp.id), writeup_ids), _not_removed(WriteUp.next_steps)
        )
    )
    run.change(
        kind,
        "write-ups",
        WriteUp,
        writeups,
        {"activities": [], "items": [], "good_practice": [], "next_steps": REMOVED},
    )
    decisions = run.ids(
        select(WriteUpDecision.id).where(
            in_(session, col(WriteUpDecision.writeup_id), writeup_ids),
            _not_removed(WriteUpDecision.reason),
        )
    )
    run.change(kind, "reasons given on write-ups", WriteUpDecision, decisions, {"reason": REMOVED})
    sharing = run.ids(
        select(SharingChange.id).where(
            in_(session, col(SharingChange.writeup_id), writeup_ids),
            _not_removed(SharingChange.reason),
            col(SharingChange.reason) != "",
        )
    )
    run.change(kind, "reasons for sharing changes", SharingChange, sharing, {"reason": REMOVED})
    practice = run.ids(
        select(GoodPractice.id).where(
            in_(session, col(GoodPractice.cycle_id), cycle_ids),
            _not_removed(GoodPractice.description),
        )
    )
    run.change(
        kind,
        "good-practice entries",
        GoodPractice,
        practice,
        {"description": REMOVED, "contact": ""},
    )
    action_ids = run.ids(select(SupportAction.id).where(in_reviews(col(SupportAction.review_id))))
    actions = run.ids(
        select(SupportAction.id).where(
            in_(session, col(SupportAction.id), action_ids), _not_removed(SupportAction.title)
        )
    )
    run.change(
        kind,
        "support actions",
        SupportAction,
        actions,
        {"ebi": REMOVED, "title": REMOVED, "owner": REMOVED, "success_criteria": REMOVED},
    )
    updates = run.ids(
        select(ActionUpdate.id).where(
            in_(session, col(ActionUpdate.action_id), action_ids), _not_removed(ActionUpdate.note)
        )
    )
    run.change(kind, "action updates", ActionUpdate, updates, {"note": REMOVED})
    feedback = run.ids(
        select(Feedback.id).where(
            in_reviews(col(Feedback.review_id)),
            _not_removed(Feedback.comment),
            col(Feedback.comment) != "",
        )
    )
    run.change(kind, "feedback", Feedback, feedback, {"comment": REMOVED, "changed_practice": None})
    reasons = run.ids(
        select(Availability.id).where(
            in_(session, col(Availability.cycle_id), cycle_ids), col(Availability.reason) != ""
        )
    )
    run.change(kind, "availability reasons", Availability, reasons, {"reason": ""})


def _address_hash(address: str) -> str:
    """As `services/signin` counts requests for links: the address's SHA-256."""
    return hashlib.sha256(address.encode()).hexdigest()


def _delete_old(run: _Purge, periods: dict[RecordKind, int], now: datetime, held: _Held) -> None:
    """Sign-in records, drafts, sent messages and access-log rows past their periods, except
    those of a held person or cycle."""
    session = run.session
    cut = {k: months_before(now, m) for k, m in periods.items()}
    people = sorted(held.person_ids)
    addresses = sorted(held.addresses)
    cycles = sorted(held.cycle_ids)
    kind = RecordKind.SIGN_IN
    links = run.ids(
        select(SignInLink.id).where(
            col(SignInLink.expires_at) < cut[kind],
            ~in_(session, col(SignInLink.person_id), people),
        )
    )
    run.drop(kind, "sign-in links", SignInLink, links)
    sessions = run.ids(
        select(WebSession.id).where(
            col(WebSession.expires_at) < cut[kind],
            ~in_(session, col(WebSession.person_id), people),
        )
    )
    run.drop(kind, "browser sessions", WebSession, sessions)
    attempts = run.ids(
        select(SignInAttempt.id).where(
            col(SignInAttempt.at) < cut[kind],
            ~in_(session, col(SignInAttempt.address_hash), [_address_hash(a) for a in addresses]),
        )
    )
    run.drop(kind, "requests for sign-in links", SignInAttempt, attempts)
    tokens = run.ids(
        select(ApiToken.id).where(
            col(ApiToken.revoked_at) < cut[kind], ~in_(session, col(ApiToken.person_id), people)
        )
    )
    run.drop(kind, "revoked API tokens", ApiToken, tokens)

    kind = RecordKind.DRAFTS
    held_reviews = run.ids(select(Review.id).where(in_(session, col(Review.cycle_id), cycles)))
    drafts = run.ids(
        select(Draft.id).where(
            col(Draft.saved_at) < cut[kind],
            ~in_(session, col(Draft.review_id), held_reviews),
            ~in_(session, col(Draft.saved_by), addresses),
        )
    )
    run.drop(kind, "drafts", Draft, drafts)

    kind = RecordKind.SENT_MESSAGES
    sent = run.ids(
        select(OutboxMessage.id).where(
            col(OutboxMessage.sent_at) < cut[kind],
            ~in_(session, col(OutboxMessage.recipient), addresses),
            col(OutboxMessage.cycle_id).is_(None)
            | ~in_(session, col(OutboxMessage.cycle_id), cycles),
        )
    )
    run.drop(kind, "sent e-mails", OutboxMessage, sent)

    kind = RecordKind.ACCESS_LOG
    reads = run.ids(
        select(AccessLog.id).where(
            col(AccessLog.at) < cut[kind],
            ~in_(session, col(AccessLog.actor), addresses),
            col(AccessLog.cycle_id).is_(None) | ~in_(session, col(AccessLog.cycle_id), cycles),
        )
    )
    run.drop(kind, "access-log entries", AccessLog, reads)


def purge(rt: Runtime, *, dry_run: bool = False) -> PurgeReport:
    """Apply the retention policy now, in one transaction: anonymise people who left more
    than their period ago, remove the free text of cycles ended more than theirs ago, delete
    lapsed sign-in records, old drafts, sent messages and access-log rows; unless held. With
    `dry_run`, count the same and change nothing. A programme admin (or the operator)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_admin(actor, "purge records past their retention period")
        now = rt.clock.now()
        periods = _periods(session)
        holds = _active_holds(session)
        held = _held(session, holds)
        run = _Purge(session, dry_run)
        cycles = [
            c
            for c in _ended_cycles(session, months_before(now, periods[RecordKind.REVIEW_TEXT]))
            if c not in held.cycle_ids
        ]
        _remove_text(run, cycles)
        _delete_old(run, periods, now, held)
        leavers = _deactivated_before(
            session, months_before(now, periods[RecordKind.FORMER_STAFF]), held.person_ids
        )
        _anonymise(run, leavers, now)
        if not dry_run:
            session.add_all(
                PurgeLog(at=now, actor=actor.name, kind=s.kind.value, count=s.count, detail=s.what)
                for s in run.steps
            )
        return PurgeReport(
            dry_run=dry_run,
            at=now,
            steps=run.steps,
            held_people=len(held.person_ids),
            held_cycles=len(held.cycle_ids),
        )


@dataclass(frozen=True)
class PurgeRecord:
    at: datetime
    actor: str
    kind: str
    what: str
    count: int


def purge_log(rt: Runtime, *, limit: int = 200) -> list[PurgeRecord]:
    """What past purges did, newest first (a programme admin)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_admin(actor, "read the purge log")
        rows = session.exec(select(PurgeLog).order_by(col(PurgeLog.id).desc()).limit(limit))
        return [PurgeRecord(r.at, r.actor, r.kind, r.detail, r.count) for r in rows]
