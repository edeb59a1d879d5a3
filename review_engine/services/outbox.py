"""The outbox: reminders queued by the tick, listed and sent by SMTP (each message once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from review_engine.adapters.mail import Attachment, OutgoingMessage, SmtpSettings, send
from review_engine.clock import as_utc
from review_engine.core.phases import Part, VisitState
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._visit_reminders import VISIT_ITEM
from review_engine.store.models import Cycle, Review, ReviewState
from review_engine.store.phase_tables import VisitPlan
from review_engine.store.schedule_tables import OutboxMessage

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class OutboxRow:
    message_id: str
    recipient: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    status: str


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    dropped: int


def _status(m: OutboxMessage) -> str:
    if m.sent_at is not None:
        return "sent"
    if m.last_error and m.last_error.startswith("dropped"):
        return "dropped"
    if m.attempts >= MAX_ATTEMPTS:
        return "failed"
    return "queued" if not m.attempts else f"retrying ({m.last_error})"


def list_outbox(rt: Runtime, *, pending_only: bool = False) -> list[OutboxRow]:
    """Messages the actor may see: an admin (or the scheduler) all; a facilitator those of
    their clusters' cycles; anyone else the messages addressed to them."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if pending_only:
            query = query.where(col(OutboxMessage.sent_at).is_(None))
        if not (actor.admin or actor.system):
            theirs = select(Cycle.id).where(col(Cycle.cluster_id).in_(actor.facilitates))
            query = query.where(
                col(OutboxMessage.cycle_id).in_(theirs) | (OutboxMessage.recipient == actor.name)
            )
        return [
            OutboxRow(
                m.message_id,
                m.recipient,
                m.subject,
                as_utc(m.created_at),
                as_utc(m.sent_at) if m.sent_at else None,
                m.attempts,
                _status(m),
            )
            for m in session.exec(query)
        ]


def send_outbox(rt: Runtime, *, smtp: SmtpSettings | None = None) -> SendReport:
    """Send queued messages; work done since a reminder was queued drops it unsent."""
    smtp = smtp or SmtpSettings.from_settings(rt.settings)
    with rt.db.transaction() as session:
        pending = list(
            session.exec(
                select(OutboxMessage)
                .where(
                    col(OutboxMessage.sent_at).is_(None),
                    OutboxMessage.attempts < MAX_ATTEMPTS,
                    col(OutboxMessage.last_error).is_(None)
                    | ~col(OutboxMessage.last_error).startswith("dropped"),
                )
                .order_by(col(OutboxMessage.id))
                .with_for_update(skip_locked=True)
            )
        )
        done = _done_items(session, pending)
        dropped = [
            m
            for m in pending
            if {(m.cycle_id, m.school_urn, m.item), (m.cycle_id, m.school_urn, m.dedupe_key)} & done
        ]
        for m in dropped:
            m.last_error = "dropped: the work was done before it was sent"
            session.add(m)
        todo = [m for m in pending if m not in dropped]
        results = (
            send(
                [
                    OutgoingMessage(
                        message_id=m.message_id,
                        to=(m.recipient,),
                        subject=m.subject,
                        body_text=m.body,
                        attachments=_attachments(m),
                    )
                    for m in todo
                ],
                smtp,
                sent_at=rt.clock.now(),
            )
            if todo
            else []
        )
        by_id = {r.message_id: r for r in results}
        now = rt.clock.now()
        sent = failed = 0
        for m in todo:
            result = by_id.get(m.message_id)
            m.attempts += 1
            if result is not None and result.ok:
                m.sent_at, m.last_error = now, None
                sent += 1
            else:
                m.last_error = (result.error if result else "not attempted") or "failed"
                failed += 1
            session.add(m)
        return SendReport(sent=sent, failed=failed, dropped=len(dropped))


def _attachments(m: OutboxMessage) -> tuple[Attachment, ...]:
    if not (m.attachment_name and m.attachment):
        return ()
    return (Attachment(m.attachment_name, "text/calendar; method=REQUEST", m.attachment.encode()),)


def _done_items(
    session: Session, pending: list[OutboxMessage]
) -> set[tuple[int | None, int | None, str]]:
    """(cycle, school, item) of queued reminders whose work is now done."""
    cycles = {m.cycle_id for m in pending if m.cycle_id is not None}
    if not cycles:
        return set()
    done: set[tuple[int | None, int | None, str]] = set()
    rows = session.exec(
        select(Review.cycle_id, Review.school_urn, ReviewState.machine, ReviewState.state)
        .join(ReviewState, col(ReviewState.review_id) == Review.id)
        .where(col(Review.cycle_id).in_(cycles))
    ).all()
    finished: dict[int, set[str]] = {}
    visit_machine: dict[int, str] = {}
    for cycle in session.exec(select(Cycle).where(col(Cycle.id).in_(cycles))):
        assert cycle.id is not None
        cycle_id = cycle.id
        definition = compiled_for(session, cycle).definition
        if Part.PEER_VISIT in definition.parts:
            visit_machine[cycle_id] = definition.parts[Part.PEER_VISIT].name
        deadlines = definition.deadlines
        for machine, spec in deadlines.items():
            finished.setdefault(cycle_id, set()).update(f"{machine}={s}" for s in spec["done"])
    visits_over = set()
    for cycle_id, urn, machine, state in rows:
        if f"{machine}={state}" in finished.get(cycle_id, set()):
            done.add((cycle_id, urn, machine))
        if machine == visit_machine.get(cycle_id) and state != VisitState.SCHEDULED:
            visits_over.add((cycle_id, urn))
    dates: dict[tuple[int | None, int | None], str] = {
        (c, u): str(d)
        for c, u, d in session.exec(
            select(Review.cycle_id, Review.school_urn, col(VisitPlan.visit_date))
            .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
            .where(col(Review.cycle_id).in_(cycles))
        )
    }
    for m in pending:
        if not m.item.startswith(VISIT_ITEM):
            continue
        planned_for = m.dedupe_key.split(":")[3]  # cycle:host:item:date:kind
        where = (m.cycle_id, m.school_urn)
        if where in visits_over or dates.get(where) != planned_for:  # held, or moved
            done.add((m.cycle_id, m.school_urn, m.dedupe_key))
    from review_engine.core.domain import Rag
    from review_engine.store.phase_tables import SupportAction

    for cycle_id, urn, number in session.exec(
        select(Review.cycle_id, Review.school_urn, SupportAction.number)
        .join(SupportAction, col(SupportAction.review_id) == Review.id)
        .where(col(Review.cycle_id).in_(cycles), SupportAction.rag == Rag.COMPLETE)
    ):
        done.add((cycle_id, urn, f"action#{number}"))
    return done


def mark_unsent(rt: Runtime) -> int:
    """Clear failure counts so failed messages are retried (they keep their message id)."""
    with rt.db.transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.attempts) >= MAX_ATTEMPTS
            )
            .values(attempts=0, last_error=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
