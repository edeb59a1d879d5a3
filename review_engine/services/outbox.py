"""The outbox: reminders and notices queued by the tick and the services, listed and sent by
SMTP, each message at most once.

The scheduler sends after every tick and every few minutes (`review outbox send` by hand). A
message the server refuses waits before it is tried again (`backoff`: 5 minutes, 20 minutes,
1 h 20, 5 h 20, 21 h 20); after `MAX_ATTEMPTS` failures it is undeliverable, shown on the
outbox page until someone tries it again. When a sender claims a message it first checks the
message is still worth sending (`_outbox_drops`): one whose moment has passed or whose work is
done is dropped, with the reason in words. Messages held for a daily digest are never sent on
their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select

from review_engine.adapters.mail import SmtpSettings, send_each
from review_engine.clock import as_utc
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._outbox_claims import (
    CLAIM_BATCH,
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    _claim,
    _claimable,
    _holder,
    _outgoing,
    _record,
    _release,
    backoff,
    calendar_method,
)
from review_engine.services._outbox_drops import DROPPED, is_dropped
from review_engine.store.models import Cycle
from review_engine.store.schedule_tables import OutboxMessage

__all__ = [
    "CLAIM_BATCH",
    "CLAIM_LEASE",
    "MAX_ATTEMPTS",
    "OutboxLine",
    "OutboxPage",
    "OutboxRow",
    "SendReport",
    "backoff",
    "calendar_method",
    "list_outbox",
    "mark_unsent",
    "outbox_page",
    "retry_message",
    "send_outbox",
]


@dataclass(frozen=True)
class OutboxRow:
    message_id: str
    recipient: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    status: str
    next_attempt_at: datetime | None = None  # a failed message is not tried before then
    error: str | None = None  # the server's last answer, or why it was dropped


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    dropped: int
    errors: tuple[str, ...] = field(default=(), compare=False)  # why each failure failed

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed}, dropped {self.dropped}"


def _status(m: OutboxMessage, now: datetime) -> str:
    """queued, sending, sent, dropped, held (for a digest), undeliverable, or retrying (with
    the server's last answer)."""
    if m.sent_at is not None:
        return "sent"
    if is_dropped(m):
        return "dropped"
    if m.held_for_digest:
        return "held"
    if m.claimed_until is not None and as_utc(m.claimed_until) > now:
        return "sending"
    if m.attempts >= MAX_ATTEMPTS:
        return "undeliverable"
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
                as_utc(m.next_attempt_at) if m.next_attempt_at else None,
                m.last_error if m.sent_at is None else None,
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


def _failed() -> tuple[ColumnElement[bool], ...]:
    """A message that failed and is not being sent: undeliverable, or waiting to retry."""
    return (
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.attempts) > 0,
        col(OutboxMessage.held_for_digest).is_(False),
        col(OutboxMessage.claimed_by).is_(None),
        col(OutboxMessage.last_error).is_(None)
        | ~col(OutboxMessage.last_error).startswith(DROPPED.rstrip()),
    )


def mark_unsent(rt: Runtime) -> int:
    """Try every failed message again at the next send: undeliverable ones start their count
    afresh, those waiting out their backoff wait no longer. Each keeps its message id."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_runs_the_schedule(actor, "retry the outbox")
        given_up = session.execute(
            update(OutboxMessage)
            .where(*_failed(), col(OutboxMessage.attempts) >= MAX_ATTEMPTS)
            .values(attempts=0, last_error=None, next_attempt_at=None)
        )
        waiting = session.execute(
            update(OutboxMessage)
            .where(*_failed(), col(OutboxMessage.next_attempt_at).is_not(None))
            .values(next_attempt_at=None)
        )
        return int(given_up.rowcount or 0) + int(waiting.rowcount or 0)  # type: ignore[attr-defined]


def retry_message(rt: Runtime, *, message_id: str) -> OutboxRow:
    """Try one failed message again at the next send (the outbox page's button): a programme
    admin any, a facilitator those of their clusters' cycles; to anyone else it does not
    exist. A message sent, dropped, held for a digest or not failed is refused in words."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        found = session.exec(
            select(OutboxMessage, Cycle.cluster_id)
            .outerjoin(Cycle, col(Cycle.id) == OutboxMessage.cycle_id)
            .where(OutboxMessage.message_id == message_id)
        ).first()
        if found is None or not _manages(actor, found[1]):
            raise NotFound("message", message_id)
        m, _ = found
        now = rt.clock.now()
        status = _status(m, now)
        if status in _NOT_RETRIED:
            raise InvalidInput(f"the message to {m.recipient} {_NOT_RETRIED[status]}")
        if status == "undeliverable":
            m.attempts, m.last_error = 0, None
        m.next_attempt_at = None
        session.add(m)
        session.flush()
        return OutboxRow(
            m.message_id,
            m.recipient,
            m.subject,
            as_utc(m.created_at),
            None,
            m.attempts,
            _status(m, now),
            None,
            m.last_error,
        )


_NOT_RETRIED = {
    "sent": "was sent already",
    "dropped": "was not sent because it was no longer needed; it is not sent again",
    "held": "waits for the daily digest",
    "sending": "is being sent now",
    "queued": "has not failed: it goes out with the next send",
}


def _manages(actor: policy.Actor, cluster_id: int | None) -> bool:
    """A programme admin manages every message; a facilitator those of their clusters."""
    return actor.admin or (cluster_id is not None and cluster_id in actor.facilitates)


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
    status: str  # queued, sending, sent, held, undeliverable, dropped, retrying
    error: str | None  # the server's last answer, or why it was dropped
    next_attempt_at: datetime | None = None  # a retrying message is not tried before then

    @property
    def may_retry(self) -> bool:
        return self.status in ("undeliverable", "retrying")


@dataclass(frozen=True)
class OutboxPage:
    lines: list[OutboxLine]
    more: bool  # older messages than these exist
    undeliverable: list[OutboxLine] = field(default_factory=list)  # every one, oldest first


def outbox_page(rt: Runtime, *, limit: int = OUTBOX_PAGE) -> OutboxPage:
    """The newest `limit` messages for the outbox page, and every undeliverable one (at most
    `limit`): a programme admin sees every message, a facilitator those of their clusters'
    cycles; anyone else is told there is no such page. Three queries."""
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
        )
        if not actor.admin:
            query = query.where(col(Cycle.cluster_id).in_(sorted(actor.facilitates)))
        newest = session.exec(
            query.order_by(
                col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc()
            ).limit(limit + 1)
        ).all()
        given_up = session.exec(
            query.where(
                col(OutboxMessage.sent_at).is_(None),
                col(OutboxMessage.attempts) >= MAX_ATTEMPTS,
                col(OutboxMessage.held_for_digest).is_(False),
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).all()

        def line(
            m: OutboxMessage, year: str | None, cluster: str | None, school: str | None
        ) -> OutboxLine:
            return OutboxLine(
                message_id=m.message_id,
                recipient=m.recipient,
                subject=m.subject,
                cycle=cycle_label(cluster, year) if cluster and year else None,
                school=school,
                created_at=as_utc(m.created_at),
                sent_at=as_utc(m.sent_at) if m.sent_at else None,
                attempts=m.attempts,
                status=_status(m, now).split(" ", 1)[0],
                error=_in_words(m.last_error) if m.sent_at is None else None,
                next_attempt_at=as_utc(m.next_attempt_at) if m.next_attempt_at else None,
            )

        return OutboxPage(
            [line(*row) for row in newest[:limit]],
            len(newest) > limit,
            [line(*row) for row in given_up if _status(row[0], now) == "undeliverable"],
        )


def _in_words(error: str | None) -> str | None:
    """Why a message was not sent, for a person: a drop's reason without its marker."""
    if error and error.startswith(DROPPED):
        return error.removeprefix(DROPPED)
    return error
