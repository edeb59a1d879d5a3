"""The outbox: reminders queued by the tick, listed and sent by SMTP (each message once)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from review_engine.adapters.mail import (
    Attachment,
    OutgoingMessage,
    SendResult,
    SmtpSettings,
    send_each,
)
from review_engine.clock import as_utc
from review_engine.core.phases import Part, VisitState
from review_engine.errors import NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._visit_reminders import VISIT_ITEM
from review_engine.store.models import Cycle, Review, ReviewState
from review_engine.store.phase_tables import VisitPlan
from review_engine.store.schedule_tables import OutboxMessage

MAX_ATTEMPTS = 5
CLAIM_BATCH = 20  # messages a sender claims at a time
# How long a claim holds with no word from its sender; each message recorded renews it. A
# killed sender's unsent claims wait this long before another sender takes them.
CLAIM_LEASE = timedelta(minutes=5)


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
    errors: tuple[str, ...] = field(default=(), compare=False)  # why each failure failed


def _status(m: OutboxMessage, now: datetime) -> str:
    if m.sent_at is not None:
        return "sent"
    if m.last_error and m.last_error.startswith("dropped"):
        return "dropped"
    if m.claimed_until is not None and as_utc(m.claimed_until) > now:
        return "sending"
    if m.attempts >= MAX_ATTEMPTS:
        return "failed"
    return "queued" if not m.attempts else f"retrying ({m.last_error})"


def list_outbox(rt: Runtime, *, pending_only: bool = False) -> list[OutboxRow]:
    """Messages the actor may see: an admin (or the scheduler) all; a facilitator those of
    their clusters' cycles; anyone else the messages addressed to them."""
    now = rt.clock.now()
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
                _status(m, now),
            )
            for m in session.exec(query)
        ]


def send_outbox(
    rt: Runtime, *, smtp: SmtpSettings | None = None, batch: int = CLAIM_BATCH
) -> SendReport:
    """Send queued messages, each at most once however a run ends; work done since a reminder
    was queued drops it unsent.

    A batch is claimed (a lease, `CLAIM_LEASE`) in one short transaction; each message is then
    sent with no transaction open and marked sent in its own short transaction as soon as the
    server takes it. So a slow mail server blocks no other command, two senders never take the
    same message, and a killed sender leaves at most the one message in flight to send again
    (its other claims lapse with the lease). The scheduler, a programme admin or the
    operator sends.
    """
    with rt.db.transaction() as session:
        policy.require_runs_the_schedule(policy.resolve_actor(session, rt.actor), "send the outbox")
    smtp = smtp or SmtpSettings.from_settings(rt.settings)
    holder = _holder()
    sent = failed = dropped = 0
    errors: list[str] = []
    after = 0
    try:
        while True:
            claim = _claim(rt, holder, after=after, limit=batch)
            dropped += claim.dropped
            if claim.last_id is None:
                break
            after = claim.last_id
            for result in send_each(claim.messages, smtp, sent_at=rt.clock.now()):
                _record(rt, holder, result)
                if result.ok:
                    sent += 1
                else:
                    failed += 1
                    errors.append(result.error or "failed")
    finally:
        _release(rt, holder)
    return SendReport(sent=sent, failed=failed, dropped=dropped, errors=tuple(errors))


def _send_now(rt: Runtime, *, message_id: str, item: str, smtp: SmtpSettings | None = None) -> bool:
    """Send one queued message at once (someone is waiting for it) under the same lease as
    `send_outbox`: claimed in one short transaction, sent with none open, recorded in its
    own. Only a message queued as `item` is taken; any other id is `NotFound`. No actor check:
    the caller decides. True if the server took it (now or before); False leaves it queued."""
    smtp = smtp or SmtpSettings.from_settings(rt.settings)
    holder = _holder()
    with rt.db.transaction() as session:
        now = rt.clock.now()
        this = (col(OutboxMessage.message_id) == message_id, col(OutboxMessage.item) == item)
        m = session.exec(select(OutboxMessage).where(*this)).first()
        if m is None:
            raise NotFound("message", message_id)
        if m.sent_at is not None:
            return True
        claimed = session.execute(
            update(OutboxMessage)
            .where(*this, *_claimable(now))
            .values(claimed_by=holder, claimed_until=now + CLAIM_LEASE)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return False  # another sender has it, or it failed too often: it stays queued
        outgoing = _outgoing(m)
    ok = False
    try:
        for result in send_each([outgoing], smtp, sent_at=rt.clock.now()):
            _record(rt, holder, result)
            ok = result.ok
    finally:
        _release(rt, holder)
    return ok


def _holder() -> str:
    """A sender's name on its claims: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions of a message a sender may claim: unsent, not given up, not dropped, and not
    claimed by a sender whose lease still holds."""
    return (
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.attempts) < MAX_ATTEMPTS,
        col(OutboxMessage.last_error).is_(None)
        | ~col(OutboxMessage.last_error).startswith("dropped"),
        col(OutboxMessage.claimed_until).is_(None) | (col(OutboxMessage.claimed_until) < now),
    )


def _outgoing(m: OutboxMessage) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=m.message_id,
        to=(m.recipient,),
        subject=m.subject,
        body_text=m.body,
        attachments=_attachments(m),
    )


@dataclass(frozen=True)
class _Claim:
    messages: list[OutgoingMessage]
    dropped: int
    last_id: int | None  # the highest id looked at; None when nothing was left


def _claim(rt: Runtime, holder: str, *, after: int, limit: int) -> _Claim:
    """Take up to `limit` unclaimed pending messages after id `after` (one short transaction);
    those whose work is done are dropped instead."""
    with rt.db.transaction() as session:
        now = rt.clock.now()
        pending = list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.id) > after, *_claimable(now))
                .order_by(col(OutboxMessage.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not pending:
            return _Claim([], 0, None)
        done = _done_items(session, pending)
        todo = []
        dropped = 0
        for m in pending:
            if {
                (m.cycle_id, m.school_urn, m.item),
                (m.cycle_id, m.school_urn, m.dedupe_key),
            } & done:
                m.last_error = "dropped: the work was done before it was sent"
                m.claimed_by = m.claimed_until = None
                dropped += 1
            else:
                m.claimed_by, m.claimed_until = holder, now + CLAIM_LEASE
                todo.append(_outgoing(m))
            session.add(m)
        last_id = pending[-1].id
        assert last_id is not None
        return _Claim(todo, dropped, last_id)


def _record(rt: Runtime, holder: str, result: SendResult) -> None:
    """How one message went, in its own short transaction; the sender's other claims are
    renewed, so a long batch never outlives its lease."""
    with rt.db.transaction() as session:
        now = rt.clock.now()
        this = col(OutboxMessage.message_id) == result.message_id
        unsent = col(OutboxMessage.sent_at).is_(None)
        attempted = {"attempts": col(OutboxMessage.attempts) + 1, "claimed_by": None}
        if result.ok:  # whoever holds it now: the server has it
            session.execute(
                update(OutboxMessage)
                .where(this, unsent)
                .values(sent_at=now, last_error=None, claimed_until=None, **attempted)
            )
        else:
            session.execute(
                update(OutboxMessage)
                .where(this, unsent, col(OutboxMessage.claimed_by) == holder)
                .values(last_error=result.error or "failed", claimed_until=None, **attempted)
            )
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claimed_by) == holder, unsent)
            .values(claimed_until=now + CLAIM_LEASE)
        )


def _release(rt: Runtime, holder: str) -> None:
    """Give back whatever this sender claimed and did not get to (it stays queued)."""
    with rt.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claimed_by) == holder, col(OutboxMessage.sent_at).is_(None))
            .values(claimed_by=None, claimed_until=None)
        )


def _attachments(m: OutboxMessage) -> tuple[Attachment, ...]:
    if not (m.attachment_name and m.attachment):
        return ()
    return (Attachment(m.attachment_name, "text/calendar; method=REQUEST", m.attachment.encode()),)


def _done_items(
    session: Session, pending: list[OutboxMessage]
) -> set[tuple[int | None, int | None, str]]:
    """(cycle, school, item) of queued reminders whose work is now done. A message of no
    cycle (a sign-in link) is never among them: it is about no work."""
    pending = [m for m in pending if m.cycle_id is not None]
    cycles = {m.cycle_id for m in pending}
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
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_the_schedule(actor, "retry the outbox")
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.attempts) >= MAX_ATTEMPTS
            )
            .values(attempts=0, last_error=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the outbox page ------------------------------------------------------------------------------

OUTBOX_PAGE = 200  # messages on the outbox page, newest first


@dataclass(frozen=True)
class OutboxLine:
    message_id: str
    recipient: str
    subject: str
    cycle: str | None
    school: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    status: str  # queued, sending, sent, failed, dropped, retrying
    error: str | None


@dataclass(frozen=True)
class OutboxPage:
    lines: list[OutboxLine]
    more: bool  # older messages than these exist


def outbox_page(rt: Runtime, *, limit: int = OUTBOX_PAGE) -> OutboxPage:
    """The newest `limit` messages for the outbox page: a programme admin sees every one, a
    facilitator those of their clusters' cycles; anyone else is told there is no such page.
    Two queries."""
    from review_engine.services._lookup import cycle_label
    from review_engine.store.models import Cluster, School

    now = rt.clock.now()
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        if not (actor.admin or actor.facilitates):
            raise NotFound("page", "outbox")
        query = (
            select(OutboxMessage, Cycle.academic_year, Cluster.name, School.name)
            .outerjoin(Cycle, col(Cycle.id) == OutboxMessage.cycle_id)
            .outerjoin(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .outerjoin(School, col(School.urn) == OutboxMessage.school_urn)
            .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
            .limit(limit + 1)
        )
        if not actor.admin:
            query = query.where(col(Cycle.cluster_id).in_(sorted(actor.facilitates)))
        rows = session.exec(query).all()
        lines = []
        for m, year, cluster, school in rows[:limit]:
            status = _status(m, now)
            lines.append(
                OutboxLine(
                    message_id=m.message_id,
                    recipient=m.recipient,
                    subject=m.subject,
                    cycle=cycle_label(cluster, year) if cluster and year else None,
                    school=school,
                    created_at=as_utc(m.created_at),
                    sent_at=as_utc(m.sent_at) if m.sent_at else None,
                    attempts=m.attempts,
                    status=status.split(" ", 1)[0],
                    error=m.last_error if m.sent_at is None else None,
                )
            )
        return OutboxPage(lines, len(rows) > limit)
