"""The steps of a retention purge (`services/retention.purge`), inside its transaction.

Each step finds its rows' ids with one query (that is the count), and unless it is a dry run
changes or deletes exactly those rows with one set-based statement (`UPDATE ... WHERE id IN`,
`DELETE ... WHERE id IN`). History (`transitionlog`) is never touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, cast, delete, func, literal, or_, update
from sqlmodel import Session, col, select

from review_engine.clock import as_utc
from review_engine.core.retention import (
    ANONYMOUS_DOMAIN,
    ANONYMOUS_NAME,
    REMOVED,
    RecordKind,
    anonymous_email,
    months_before,
)
from review_engine.services._compiled import compiled_for
from review_engine.store.batch import in_
from review_engine.store.knowledge_tables import (
    IkBooking,
    IkFeedback,
    IkNomination,
    IkOffer,
    IkProgramme,
    IkQuestion,
    IkStakeholder,
)
from review_engine.store.models import (
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


@dataclass(frozen=True)
class PurgeStep:
    kind: RecordKind
    what: str  # the records, in words ("SEF versions")
    count: int


@dataclass
class Held:
    addresses: set[str]  # every address (current and old) of a held person
    person_ids: set[int]
    cycle_ids: set[int]


def held_by(session: Session, holds: Sequence[RetentionHold]) -> Held:
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
    return Held(addresses=addresses, person_ids=ids, cycle_ids=cycles)


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
    (IkProgramme, "created_by"),
    (IkStakeholder, "added_by"),
    (IkNomination, "nominated_by"),
    (IkNomination, "decided_by"),
    (IkOffer, "created_by"),
    (IkBooking, "requested_by"),
    (IkBooking, "agenda_ack_by"),
    (IkQuestion, "asked_by"),
    (IkFeedback, "given_by"),
)  # not ik_transition: append-only, as history


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


def _delete_old(run: _Purge, periods: dict[RecordKind, int], now: datetime, held: Held) -> None:
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


def _knowledge_visits(run: _Purge, before: datetime, held: Held) -> None:
    """Inside Knowledge visits whose day was before `before`: the practitioners named on
    their bookings (name and e-mail removed, the role kept, so the report still counts them),
    the questions proposed for their agendas, feedback comments and what reflections say
    changed. Ratings, whether practice changed, states and the offer as published stay; so
    does `ik_transition`. A held person's question, feedback or booking (as booker or
    practitioner) is kept."""
    session = run.session
    kind = RecordKind.KNOWLEDGE_VISITS
    addresses = sorted(held.addresses)
    offers = run.ids(select(IkOffer.id).where(col(IkOffer.visit_date) < before.date()))
    rows = session.exec(
        select(IkBooking.id, IkBooking.practitioners).where(
            in_(session, col(IkBooking.offer_id), offers),
            ~in_(session, col(IkBooking.requested_by), addresses),
        )
    ).all()
    held_lower = {a.lower() for a in addresses}
    changed = {
        bid: [{"name": REMOVED, "email": "", "role": p.get("role", "")} for p in people]
        for bid, people in rows
        if bid is not None
        and any(p.get("name") != REMOVED or p.get("email") for p in people or [])
        and not any((p.get("email") or "").lower() in held_lower for p in people or [])
    }
    ids = sorted(changed)
    table = IkBooking.__table__  # type: ignore[attr-defined]
    run.step(
        kind,
        "practitioners named on bookings",
        ids,
        lambda: session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(practitioners=bindparam("b_people", type_=table.c.practitioners.type)),
            [{"b_id": i, "b_people": changed[i]} for i in ids],
        ),
    )
    questions = run.ids(
        select(IkQuestion.id).where(
            in_(session, col(IkQuestion.offer_id), offers),
            col(IkQuestion.text) != REMOVED,
            ~in_(session, col(IkQuestion.asked_by), addresses),
        )
    )
    run.change(kind, "questions for agendas", IkQuestion, questions, {"text": REMOVED})
    comments = run.ids(
        select(IkFeedback.id).where(
            in_(session, col(IkFeedback.offer_id), offers),
            ((col(IkFeedback.comment) != "") & (col(IkFeedback.comment) != REMOVED))
            | ((col(IkFeedback.what_changed) != "") & (col(IkFeedback.what_changed) != REMOVED)),
            ~in_(session, col(IkFeedback.given_by), addresses),
        )
    )
    run.change(
        kind,
        "feedback and reflections",
        IkFeedback,
        comments,
        {
            "comment": case((col(IkFeedback.comment) == "", ""), else_=REMOVED),
            "what_changed": case((col(IkFeedback.what_changed) == "", ""), else_=REMOVED),
        },
    )


def run_steps(
    session: Session,
    *,
    periods: dict[RecordKind, int],
    now: datetime,
    held: Held,
    dry_run: bool,
) -> list[PurgeStep]:
    """Every step of a purge, in order: an ended cycle's text, then lapsed and old records,
    then people who left (whose addresses are rewritten last, in what is left)."""
    run = _Purge(session, dry_run)
    cycles = [
        c
        for c in _ended_cycles(session, months_before(now, periods[RecordKind.REVIEW_TEXT]))
        if c not in held.cycle_ids
    ]
    _remove_text(run, cycles)
    _knowledge_visits(run, months_before(now, periods[RecordKind.KNOWLEDGE_VISITS]), held)
    _delete_old(run, periods, now, held)
    leavers = _deactivated_before(
        session, months_before(now, periods[RecordKind.FORMER_STAFF]), held.person_ids
    )
    _anonymise(run, leavers, now)
    return run.steps
