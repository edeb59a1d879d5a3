"""The append-only history of a cycle: who changed what, when, from what to what, and why;
and the check that nobody changed it since (its hash chains, `store/history_chain.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from sqlmodel import Session, col, select

from review_engine.clock import LONDON, as_utc
from review_engine.core.phases import Part
from review_engine.errors import NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._compiled import compiled_for
from review_engine.services._lookup import check_urns, cycle_label, get_cycle
from review_engine.store.batch import in_
from review_engine.store.history_chain import GENESIS, row_hash
from review_engine.store.models import Cluster, Cycle, Person, Review, School, TransitionLog


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    school_urn: int | None
    school: str | None
    machine: str
    from_state: str
    to_state: str
    trigger: str
    actor: str
    reason: str | None


def history(rt: Runtime, *, cycle: str, school_urn: int | None = None) -> list[HistoryEntry]:
    """History rows of a cycle in the order they were written, optionally for one school."""
    check_urns(school_urn)
    with rt.db.transaction() as session:
        found, _ = get_cycle(session, cycle)
        actor = policy.resolve_actor(session, rt.actor)
        visible = policy.visible_schools(session, actor, found)
        query = (
            select(TransitionLog, School.name)
            .outerjoin(School, col(School.urn) == TransitionLog.school_urn)
            .where(TransitionLog.cycle_id == found.id)
            .order_by(col(TransitionLog.id))
        )
        if school_urn is not None:
            query = query.where(TransitionLog.school_urn == school_urn)
        if visible is not None:
            query = query.where(
                col(TransitionLog.school_urn).is_(None) | col(TransitionLog.school_urn).in_(visible)
            )
            # Support follow-up is the school's own business (and its facilitator's).
            support = compiled_for(session, found).definition.parts.get(Part.SUPPORT)
            if support is not None:
                query = query.where(
                    (col(TransitionLog.machine) != support.name)
                    | (col(TransitionLog.school_urn) == actor.school_urn)
                )
        return [
            HistoryEntry(
                at=as_utc(log.at),
                school_urn=log.school_urn,
                school=name,
                machine=log.machine,
                from_state=log.from_state,
                to_state=log.to_state,
                trigger=log.trigger,
                actor=log.actor,
                reason=log.reason,
            )
            for log, name in session.exec(query)
        ]


@dataclass(frozen=True)
class ChainCheck:
    """One cycle's history checked against its hash chain: `problems` is empty when every
    row is as written. `head` is the latest hash: noted elsewhere, it also shows a later
    rewrite of the whole chain or its last rows removed."""

    cycle: str
    rows: int
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(rt: Runtime, *, cycle: str | None = None) -> list[ChainCheck]:
    """Check each history row of `cycle` (or of every cycle the actor may check) against its
    hash: altered rows, rows forged by hand and missing rows are named. The cycle's
    facilitator or a system actor may check it."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        if cycle is not None:
            found, cluster = get_cycle(session, cycle)
            assert found.id is not None and cluster.id is not None
            if not policy.is_facilitator(actor, cluster.id):
                raise NotPermitted(
                    actor.name, f"verify the history of {cycle}", "only its facilitator may"
                )
            labels = {found.id: cycle_label(cluster, found.academic_year)}
        else:
            labels = _cycles_checked_by(session, actor)
        return _check(session, labels)


def _cycles_checked_by(session: Session, actor: policy.Actor) -> dict[int, str]:
    query = select(Cycle.id, Cycle.academic_year, Cluster.name).join(
        Cluster, col(Cluster.id) == Cycle.cluster_id
    )
    if not actor.system:
        query = query.where(col(Cluster.id).in_(sorted(actor.facilitates)))
    return {
        cycle_id: cycle_label(name, year)
        for cycle_id, year, name in session.exec(query.order_by(col(Cycle.id)))
        if cycle_id is not None
    }


_FIELDS = (
    "id",
    "cycle_id",
    "school_urn",
    "machine",
    "from_state",
    "to_state",
    "trigger",
    "actor",
    "reason",
    "at",
    "prev_hash",
    "hash",
)


def _check(session: Session, labels: dict[int, str]) -> list[ChainCheck]:
    if not labels:
        return []
    columns = [getattr(TransitionLog, name) for name in _FIELDS]
    rows = session.connection().execute(
        select(*columns)
        .where(in_(session, TransitionLog.cycle_id, list(labels)))
        .order_by(col(TransitionLog.cycle_id), col(TransitionLog.id))
    )
    found = {
        cycle_id: _walk(labels[cycle_id], list(group))
        for cycle_id, group in groupby(
            chain.from_iterable(rows.partitions(1000)), key=itemgetter(1)
        )
    }
    return [found.get(c) or ChainCheck(label, 0, GENESIS) for c, label in labels.items()]


def _walk(label: str, rows: Sequence[Any]) -> ChainCheck:
    """Follow one cycle's chain in id order. A row's own hash shows it altered (or written
    by hand, if it has none); its link to the previous row shows a row missing before it, or,
    when it links to an earlier row than the last, that the rows in between were slipped in."""
    problems: list[tuple[int, str]] = []
    in_chain: list[tuple[int, str]] = []  # (row id, hash) of the rows the chain runs through
    after: dict[str, int] = {GENESIS: 0}  # a hash -> how many rows of the chain end with it
    expected = GENESIS
    for row in rows:
        row_id, prev, stored = row[0], row[-2], row[-1]
        if stored is None:
            problems.append((row_id, f"row {row_id} of {label} has no hash (forged)"))
            continue
        if row_hash(prev or "", *row[1:-2]) != stored:
            problems.append((row_id, f"row {row_id} of {label} does not match its hash (altered)"))
        if prev != expected:
            if prev in after:  # an earlier link: the rows since then are not in the chain
                keep = after[prev]
                for slipped, its_hash in in_chain[keep:]:
                    problems.append(
                        (slipped, f"row {slipped} of {label} is not in the chain (forged)")
                    )
                    after.pop(its_hash, None)
                del in_chain[keep:]
            else:
                problems.append(
                    (row_id, f"a row is missing before row {row_id} of {label} (the chain breaks)")
                )
        in_chain.append((row_id, stored))
        after[stored] = len(in_chain)
        expected = stored
    problems.sort(key=itemgetter(0))
    return ChainCheck(label, len(rows), expected, [text for _, text in problems])


# --- the history page ---------------------------------------------------------------------------

HISTORY_PAGE = 100  # rows on one page of the history


@dataclass(frozen=True)
class HistoryRow:
    id: int
    at: datetime
    school_urn: int | None
    school: str | None
    machine: str
    machine_label: str
    from_state: str
    to_state: str
    trigger: str
    actor: str
    actor_name: str | None
    reason: str | None


@dataclass(frozen=True)
class HistoryPage:
    """One page of a cycle's history, newest first, and what its filters may choose from."""

    cycle: str
    rows: list[HistoryRow]
    older: int | None  # the `before` of the next page, if there are older rows
    schools: list[tuple[int, str]]
    machines: list[tuple[str, str]]
    people: list[tuple[str, str]]  # (actor as recorded, their name when a person)


def history_page(
    rt: Runtime,
    *,
    cycle: str,
    school_urn: int | None = None,
    machine: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
    before: int | None = None,
    limit: int = HISTORY_PAGE,
) -> HistoryPage:
    """The cycle's history for its facilitator, newest first, filtered by school, machine
    (phase), person and dates (London days, inclusive), `limit` rows from `before` (a row id).
    Anyone else is told the cycle was not found. A fixed number of queries."""
    check_urns(school_urn)
    with rt.db.transaction() as session:
        found, cluster = get_cycle(session, cycle)
        who = policy.resolve_actor(session, rt.actor)
        assert cluster.id is not None
        if not policy.is_facilitator(who, cluster.id):
            raise NotFound("cycle", cycle)
        definition = compiled_for(session, found).definition
        query = (
            select(TransitionLog, School.name, Person.name)
            .outerjoin(School, col(School.urn) == TransitionLog.school_urn)
            .outerjoin(Person, col(Person.email) == TransitionLog.actor)
            .where(TransitionLog.cycle_id == found.id)
        )
        if school_urn is not None:
            query = query.where(TransitionLog.school_urn == school_urn)
        if machine:
            query = query.where(TransitionLog.machine == machine)
        if actor:
            query = query.where(TransitionLog.actor == actor)
        if since is not None:
            query = query.where(col(TransitionLog.at) >= london_day_start(since))
        if until is not None:
            query = query.where(col(TransitionLog.at) < london_day_start(until + timedelta(days=1)))
        if before is not None:
            query = query.where(col(TransitionLog.id) < before)
        rows = session.exec(query.order_by(col(TransitionLog.id).desc()).limit(limit + 1)).all()
        schools = session.exec(
            select(School.urn, School.name)
            .join(Review, col(Review.school_urn) == School.urn)
            .where(Review.cycle_id == found.id)
            .order_by(col(School.name))
        ).all()
        people = session.exec(
            select(TransitionLog.actor, Person.name)
            .outerjoin(Person, col(Person.email) == TransitionLog.actor)
            .where(TransitionLog.cycle_id == found.id)
            .distinct()
            .order_by(col(TransitionLog.actor))
        ).all()
        shown = rows[:limit]
        return HistoryPage(
            cycle=cycle_label(cluster, found.academic_year),
            rows=[
                HistoryRow(
                    id=log.id or 0,
                    at=as_utc(log.at),
                    school_urn=log.school_urn,
                    school=school,
                    machine=log.machine,
                    machine_label=definition.label(log.machine),
                    from_state=log.from_state,
                    to_state=log.to_state,
                    trigger=log.trigger,
                    actor=log.actor,
                    actor_name=person,
                    reason=log.reason,
                )
                for log, school, person in shown
            ],
            older=shown[-1][0].id if len(rows) > limit and shown else None,
            schools=[(u, n) for u, n in schools],
            machines=[(m.name, definition.label(m.name)) for m in definition.machines.values()],
            people=[(a, n or a) for a, n in people],
        )


def london_day_start(day: date) -> datetime:
    """The UTC instant a London day starts."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
