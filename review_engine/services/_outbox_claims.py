"""How a sender takes messages from the outbox and records how each went: claims with a
lease, each in its own short transaction, so no network call happens inside a write
transaction and two senders never take the same message; a failure waits out a backoff; the
calendar invite's content type follows its METHOD line."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select

from review_engine.adapters.mail import Attachment, OutgoingMessage, SendResult
from review_engine.clock import to_london
from review_engine.runtime import Runtime
from review_engine.services._outbox_drops import DROPPED, why_dropped
from review_engine.store.schedule_tables import OutboxMessage

MAX_ATTEMPTS = 6  # failures before a message is undeliverable (about a day of retries)
FIRST_RETRY = timedelta(minutes=5)  # the wait after the first failure; each next one is 4x
BACKOFF_FACTOR = 4
LONGEST_WAIT = timedelta(days=1)
CLAIM_BATCH = 20  # messages a sender claims at a time
# How long a claim holds with no word from its sender; each message recorded renews it. A
# killed sender's unsent claims wait this long before another sender takes them.
CLAIM_LEASE = timedelta(minutes=5)


def backoff(failures: int) -> timedelta:
    """How long a message waits after its `failures`-th failed try before the next: 5 min,
    20 min, 1 h 20, 5 h 20, 21 h 20 (at most a day)."""
    return min(FIRST_RETRY * BACKOFF_FACTOR ** max(failures - 1, 0), LONGEST_WAIT)


def _holder() -> str:
    """A sender's name on its claims: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions of a message a sender may claim: unsent, not given up, not dropped, not held
    for a digest, past its backoff, and not claimed by a sender whose lease still holds."""
    return (
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.attempts) < MAX_ATTEMPTS,
        col(OutboxMessage.last_error).is_(None)
        | ~col(OutboxMessage.last_error).startswith(DROPPED.rstrip()),
        col(OutboxMessage.held_for_digest).is_(False),
        col(OutboxMessage.next_attempt_at).is_(None) | (col(OutboxMessage.next_attempt_at) <= now),
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
    those no longer worth sending are dropped instead, with the reason."""
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
        reasons = why_dropped(session, pending, to_london(now).date(), now)
        todo = []
        for m in pending:
            if m.id in reasons:
                m.last_error = DROPPED + reasons[m.id]
                m.claimed_by = m.claimed_until = m.next_attempt_at = None
            else:
                m.claimed_by, m.claimed_until = holder, now + CLAIM_LEASE
                todo.append(_outgoing(m))
            session.add(m)
        last_id = pending[-1].id
        assert last_id is not None
        return _Claim(todo, len(reasons), last_id)


def _record(rt: Runtime, holder: str, result: SendResult) -> None:
    """How one message went, in its own short transaction; the sender's other claims are
    renewed, so a long batch never outlives its lease. A failure waits `backoff` before the
    next try, or makes the message undeliverable after `MAX_ATTEMPTS`."""
    with rt.db.transaction() as session:
        now = rt.clock.now()
        this = col(OutboxMessage.message_id) == result.message_id
        unsent = col(OutboxMessage.sent_at).is_(None)
        attempted = {"attempts": col(OutboxMessage.attempts) + 1, "claimed_by": None}
        if result.ok:  # whoever holds it now: the server has it
            session.execute(
                update(OutboxMessage)
                .where(this, unsent)
                .values(
                    sent_at=now,
                    last_error=None,
                    claimed_until=None,
                    next_attempt_at=None,
                    **attempted,
                )
            )
        else:
            failures = (session.exec(select(OutboxMessage.attempts).where(this)).first() or 0) + 1
            session.execute(
                update(OutboxMessage)
                .where(this, unsent, col(OutboxMessage.claimed_by) == holder)
                .values(
                    last_error=result.error or "failed",
                    claimed_until=None,
                    next_attempt_at=None if failures >= MAX_ATTEMPTS else now + backoff(failures),
                    **attempted,
                )
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


CALENDAR_METHODS = ("REQUEST", "CANCEL", "PUBLISH", "REPLY")


def _attachments(m: OutboxMessage) -> tuple[Attachment, ...]:
    """The calendar invite, its content type following its METHOD line (an invite, or the
    cancellation of a visit)."""
    if not (m.attachment_name and m.attachment):
        return ()
    method = calendar_method(m.attachment)
    content_type = f"text/calendar; method={method}"
    return (Attachment(m.attachment_name, content_type, m.attachment.encode()),)


def calendar_method(ics: str) -> str:
    """The METHOD of an iCalendar text (REQUEST when it names none we know)."""
    for line in ics.splitlines():
        name, _, value = line.partition(":")
        if name.strip().upper() == "METHOD":
            method = value.strip().upper()
            return method if method in CALENDAR_METHODS else "REQUEST"
        if name.strip().upper() == "BEGIN" and value.strip().upper() != "VCALENDAR":
            break  # METHOD belongs to the calendar, before its first component
    return "REQUEST"
