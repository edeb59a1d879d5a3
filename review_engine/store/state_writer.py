"""The one writer of state: every transition, whoever fires it, is persisted here.

A change moves one cycle (or one school's phase machine) from one state to the next. Writing it
is a version-checked UPDATE (or, for a batch, one set-based UPDATE per group of records moving
between the same two states, each row checked to still be in its `from` state) plus its history
row, all in the caller's transaction; the history rows of a batch go in one executemany. If
another writer got there first, fewer rows match and `Conflict` is raised: nothing is written.
Each history row is chained to its cycle's previous one by a hash (`history_chain`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from review_engine.errors import Conflict
from review_engine.store import history_chain
from review_engine.store.batch import chunks, in_, insert_many, table_of
from review_engine.store.models import Cycle, Review, ReviewState, TransitionLog

NO_STATE = "none"  # the `from` of a cycle's first history row
HISTORY_COLUMNS = (
    "cycle_id",
    "school_urn",
    "machine",
    "from_state",
    "to_state",
    "trigger",
    "reason",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class StateChange:
    """One applied transition, ready to be written.

    `review_id` is set for a school's phase machine; `version` is the version the cycle or
    review row was read at (checked on write), or None in a batch, where the `from` state is
    the check.
    """

    cycle_id: int
    machine: str
    trigger: str
    from_state: str
    to_state: str
    school_urn: int | None = None
    review_id: int | None = None
    version: int | None = None
    reason: str | None = None
    subject: str = ""


def write_changes(
    session: Session, changes: Sequence[StateChange], *, actor: str, at: datetime
) -> None:
    """Persist `changes` (one or many) with their history rows; Conflict if any is stale."""
    # The chain heads first: on PostgreSQL this locks the cycles, before any review row, so
    # every writer takes its locks in the same order.
    heads = history_chain.heads(session, (c.cycle_id for c in changes))
    single = [c for c in changes if c.version is not None]
    batched = [c for c in changes if c.version is None]
    for change in single:
        _write_one(session, change)
    _write_batch(session, batched)
    _append(session, changes, heads, actor, at)


def append_history(
    session: Session, changes: Sequence[StateChange], *, actor: str, at: datetime
) -> None:
    """The history rows of `changes`, in one statement (history is never updated), each
    chained to its cycle's previous row (one more query, unless this transaction has already
    read the cycles' chain heads)."""
    if changes:
        heads = history_chain.heads(session, (c.cycle_id for c in changes))
        _append(session, changes, heads, actor, at)


def _append(
    session: Session,
    changes: Sequence[StateChange],
    heads: dict[int, str],
    actor: str,
    at: datetime,
) -> None:
    """`append_history` given the chain heads of every cycle in `changes` (updated here)."""
    if not changes:
        return
    at = history_chain.in_utc(at)  # stored as hashed (SQLite keeps no offset)
    hasher = history_chain.Hasher(actor, at)

    def rows() -> Iterator[tuple[Any, ...]]:
        for c in changes:
            prev = heads[c.cycle_id]
            new = heads[c.cycle_id] = hasher(
                prev,
                c.cycle_id,
                c.school_urn,
                c.machine,
                c.from_state,
                c.to_state,
                c.trigger,
                c.reason,
            )
            yield (
                c.cycle_id,
                c.school_urn,
                c.machine,
                c.from_state,
                c.to_state,
                c.trigger,
                c.reason,
                prev,
                new,
            )

    insert_many(session, TransitionLog, HISTORY_COLUMNS, rows(), same={"actor": actor, "at": at})


def _write_one(session: Session, c: StateChange) -> None:
    """Version-checked; rows already in the session are updated in place (no reload)."""
    assert c.version is not None
    if c.review_id is None:
        result = session.execute(
            update(Cycle)
            .where(col(Cycle.id) == c.cycle_id, col(Cycle.version) == c.version)
            .values(state=c.to_state, version=c.version + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(c.subject or f"cycle {c.cycle_id}")
        return
    bumped = session.execute(
        update(Review)
        .where(col(Review.id) == c.review_id, col(Review.version) == c.version)
        .values(version=c.version + 1)
    )
    moved = session.execute(
        update(ReviewState)
        .where(
            col(ReviewState.review_id) == c.review_id,
            col(ReviewState.machine) == c.machine,
            col(ReviewState.state) == c.from_state,
        )
        .values(state=c.to_state)
    )
    if bumped.rowcount != 1 or moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(c.subject or f"review {c.review_id}")


def _write_batch(session: Session, changes: Sequence[StateChange]) -> None:
    """One UPDATE per (machine, from, to) group and chunk; every row must still be in `from`.
    A record changed several times in the batch (in order) moves once, first `from` to last
    `to`; each change still gets its history row."""
    # Per kind of record (a school's machine or a cycle) and machine: each record's first
    # `from` and last `to`.
    starts: dict[tuple[bool, str], dict[int, str]] = defaultdict(dict)
    ends: dict[tuple[bool, str], dict[int, str]] = defaultdict(dict)
    for c in changes:
        kind = (c.review_id is not None, c.machine)
        record = c.review_id if c.review_id is not None else c.cycle_id
        starts[kind].setdefault(record, c.from_state)
        ends[kind][record] = c.to_state
    groups: dict[tuple[bool, str, str, str], list[int]] = defaultdict(list)
    for (per_school, machine), first in starts.items():
        last = ends[(per_school, machine)]
        for record, start in first.items():
            groups[(per_school, machine, start, last[record])].append(record)
    if not groups:
        return
    conn = session.connection()  # Core: no ORM bulk-update bookkeeping, no session to sync
    cycles, states, reviews = table_of(Cycle), table_of(ReviewState), table_of(Review)
    for (per_school, machine, start, end), ids in groups.items():
        for chunk in chunks(ids):
            statement: Any
            if per_school:
                statement = (
                    update(states)
                    .where(
                        in_(session, states.c.review_id, chunk),
                        states.c.machine == machine,
                        states.c.state == start,
                    )
                    .values(state=end)
                )
            else:
                statement = (
                    update(cycles)
                    .where(in_(session, cycles.c.id, chunk), cycles.c.state == start)
                    .values(state=end, version=cycles.c.version + 1)
                )
            if conn.execute(statement).rowcount != len(chunk):
                raise Conflict(f"{len(chunk)} records moving {start} -> {end}", "changed meanwhile")
            if per_school:
                conn.execute(
                    update(reviews)
                    .where(in_(session, reviews.c.id, chunk))
                    .values(version=reviews.c.version + 1)
                )
