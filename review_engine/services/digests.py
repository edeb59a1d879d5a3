"""Digests, queued by the tick: each person's daily digest of the notices they chose to take
that way, and each facilitator's weekly digest of their cycles (what is overdue, what is
waiting on whom).

Daily: from 06:00 London each day, every recipient with notices held for their digest (queued
with `held_for_digest`, not yet carried by a digest, not sent, not dropped) gets one message
listing each (its subject and text), and those rows take the digest's message id, so they are
never sent on their own (the sender skips held rows). A held notice about work done since, or
whose moment has passed, is dropped with the reason instead (as the sender would). One digest
per person per day (dedupe key `digest:DAY:EMAIL`); a notice held after that day's digest
waits for the next day's.

Weekly: on Mondays from 06:00 London, each active facilitator with open cycles and anything
overdue or waiting gets one message (dedupe key `facilitator-digest:YEAR-Www:EMAIL`), read
with the dashboard's reading of what waits on whom, for all their cycles at once. A
facilitator who turned off every kind of notice their role takes gets none.

Set-based: a fixed number of statements however many people and cycles.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from urllib.parse import quote

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from review_engine.clock import to_london
from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery, effective
from review_engine.documents.templating import environment
from review_engine.rules.policy import Actor
from review_engine.services._compiled import compiled_for
from review_engine.services._dashboard_read import Reader, Waiting
from review_engine.services._lookup import cycle_label
from review_engine.services._notice_queue import queued
from review_engine.services._outbox_drops import DROPPED, why_dropped
from review_engine.services._recipients import DEFAULT_BASE_URL
from review_engine.store.batch import insert_ignore, table_of
from review_engine.store.models import Cluster, Cycle, Person
from review_engine.store.schedule_tables import OutboxMessage

DIGEST_HOUR = 6  # London: digests go with the first tick at or after this hour
DAILY = "digest"  # OutboxMessage.notice of a daily digest
WEEKLY = "facilitator_digest"  # ... and of a facilitator's weekly digest
_NS = uuid.UUID("0d9b7f3c-5a1e-4f57-8c55-2f0f4e9b6a31")
_PAGES = {"sef": "sef", "visit": "visit", "writeup": "write-up", "support": "support"}


@dataclass(frozen=True)
class DigestReport:
    daily: int  # digests queued
    carried: int  # held notices they carry
    dropped: int  # held notices dropped as no longer worth sending
    weekly: int  # facilitators' weekly digests queued


@dataclass(frozen=True)
class _Held:
    subject: str
    body: str
    attachment: bool


def queue_digests(session: Session, at: datetime, *, base_url: str | None = None) -> DigestReport:
    """Queue today's daily digests and, on a Monday, the facilitators' weekly ones (in the
    tick's transaction; mail goes after it commits)."""
    local = to_london(at)
    if local.hour < DIGEST_HOUR:
        return DigestReport(0, 0, 0, 0)
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    daily, carried, dropped = _daily(session, at, local.date(), base)
    weekly = _weekly(session, at, local.date(), base) if local.weekday() == 0 else 0
    return DigestReport(daily, carried, dropped, weekly)


# --- daily --------------------------------------------------------------------------------


def _daily(session: Session, at: datetime, today: date, base: str) -> tuple[int, int, int]:
    held = list(
        session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.held_for_digest).is_(True),
                col(OutboxMessage.digest_message_id).is_(None),
                col(OutboxMessage.sent_at).is_(None),
                col(OutboxMessage.last_error).is_(None)
                | ~col(OutboxMessage.last_error).startswith(DROPPED),
                col(OutboxMessage.created_at) <= at,
            )
            .order_by(col(OutboxMessage.recipient), col(OutboxMessage.id))
        )
    )
    if not held:
        return 0, 0, 0
    keys = {m.recipient: f"digest:{today.isoformat()}:{m.recipient}" for m in held}
    done_today = queued(session, list(keys.values()))
    held = [m for m in held if keys[m.recipient] not in done_today]
    stale = why_dropped(session, held, today)
    outbox = table_of(OutboxMessage)
    if stale:
        session.connection().execute(
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"))
            .values(last_error=bindparam("why")),
            [{"row_id": i, "why": DROPPED + why} for i, why in stale.items()],
        )
    held = [m for m in held if m.id not in stale]
    template = environment().get_template("email/digest.txt.j2")
    rows = []
    for recipient, mine in groupby(held, key=lambda m: m.recipient):
        items = [_Held(m.subject, m.body.strip(), bool(m.attachment)) for m in mine]
        key = keys[recipient]
        subject = f"Your daily digest: {_count(len(items), 'notice')} ({today:%a %d %b %Y})"
        rows.append(
            {
                "message_id": _message_id(key),
                "dedupe_key": key,
                "recipient": recipient,
                "subject": subject,
                "body": template.render(items=items, day=today, account=f"{base}/account#notices"),
                "created_at": at,
                "attempts": 0,
                "notice": DAILY,
                "item": "",
                "held_for_digest": False,
            }
        )
    insert_ignore(session, OutboxMessage, rows)
    # Only rows whose digest is ours (not one a concurrent tick queued first) take its id.
    ours = queued(session, [r["dedupe_key"] for r in rows])
    carried = [
        {"row_id": m.id, "mid": _message_id(keys[m.recipient])}
        for m in held
        if ours.get(keys[m.recipient]) == _message_id(keys[m.recipient])
    ]
    if carried:
        session.connection().execute(
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"), outbox.c.digest_message_id.is_(None))
            .values(digest_message_id=bindparam("mid")),
            carried,
        )
    return len(rows), len(carried), len(stale)


# --- weekly, for facilitators -------------------------------------------------------------


@dataclass(frozen=True)
class _CycleDigest:
    name: str  # "Northbrook 2026-27"
    overdue: list[Waiting]
    waiting: list[Waiting]


def _weekly(session: Session, at: datetime, today: date, base: str) -> int:
    year, week, _ = today.isocalendar()
    people = {
        p.id: p
        for p in session.exec(
            select(Person).where(
                Person.role == Role.FACILITATOR.value, col(Person.active).is_(True)
            )
        )
        if _wants_weekly(p)
    }
    if not people:
        return 0
    keys = {pid: f"facilitator-digest:{year}-W{week:02d}:{p.email}" for pid, p in people.items()}
    done = queued(session, list(keys.values()))
    people = {pid: p for pid, p in people.items() if keys[pid] not in done}
    rows = session.exec(
        select(Cycle, Cluster)
        .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
        .where(col(Cluster.facilitator_id).in_(list(people)))
        .order_by(col(Cluster.name), col(Cycle.academic_year))
    ).all()
    running = [
        (c, cl)
        for c, cl in rows
        if c.state not in compiled_for(session, c).definition.cycle_machine.final
    ]
    if not running:
        return 0
    # One reading of every facilitator's cycles; "you" in its sentences is their facilitator.
    everyone = Actor(
        name="scheduler",
        school_urn=None,
        role=Role.FACILITATOR,
        facilitates=frozenset(cl.id for _, cl in running if cl.id is not None),
    )
    reader = Reader(session, everyone, list(running), today)
    by_cycle: dict[str, list[Waiting]] = defaultdict(list)
    for item in reader.waiting():
        by_cycle[item.cycle].append(item)
    template = environment().get_template("email/digest_facilitator.txt.j2")
    digests = []
    for pid, person in people.items():
        cycles = []
        for cycle, cluster in running:
            if cluster.facilitator_id != pid:
                continue
            label = cycle_label(cluster, cycle.academic_year)
            items = sorted(
                by_cycle.get(label, []),
                key=lambda w: (w.due or date.max, w.school, w.what),
            )
            cycles.append(
                _CycleDigest(
                    label.replace("/", " "),
                    [w for w in items if w.overdue],
                    [w for w in items if not w.overdue],
                )
            )
        overdue = sum(len(c.overdue) for c in cycles)
        waiting = sum(len(c.waiting) for c in cycles)
        if not overdue and not waiting:
            continue
        key = keys[pid]
        digests.append(
            {
                "message_id": _message_id(key),
                "dedupe_key": key,
                "recipient": person.email,
                "subject": f"Your week ahead: {_count(overdue, 'item')} overdue, "
                f"{waiting} waiting (week of {today:%d %b %Y})",
                "body": template.render(
                    name=person.name,
                    day=today,
                    cycles=cycles,
                    link=lambda w: _link(base, w),
                    dashboard=f"{base}/dashboard",
                    account=f"{base}/account#notices",
                ),
                "created_at": at,
                "attempts": 0,
                "notice": WEEKLY,
                "item": "",
                "held_for_digest": False,
            }
        )
    insert_ignore(session, OutboxMessage, digests)
    return len(digests)


def _wants_weekly(person: Person) -> bool:
    """Unless they turned off every kind of notice their role takes."""
    own = NoticeKind.defaults_for(Role.FACILITATOR)
    choices = effective(person.notices, Role.FACILITATOR)
    return not own or any(choices[k] is not Delivery.OFF for k in own)


def _link(base: str, w: Waiting) -> str:
    page = _PAGES.get(w.page)
    if page is None:
        return f"{base}/cycles/{quote(w.cycle, safe='/')}/schools/{w.urn}"
    return f"{base}/cycles/{quote(w.cycle, safe='/')}/schools/{w.urn}/{page}"


def _message_id(key: str) -> str:
    return str(uuid.uuid5(_NS, key))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
