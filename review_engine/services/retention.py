"""The retention policy: how long each kind of record is kept (`core/retention.py`'s defaults,
or the programme's own periods in `retention_period`), holds that keep a person's or a
cycle's records past their period, and the purge that applies it.

`purge` finds everything past its period in a fixed number of queries, then (unless it is a
dry run) anonymises people who left, replaces an ended cycle's free text with
`core.retention.REMOVED` (and an Inside Knowledge visit's: practitioners named on bookings,
agenda questions, feedback and reflections), and deletes lapsed sign-in records, old drafts,
sent messages and access-log rows, each step one set-based statement (`UPDATE ... WHERE id
IN ...`), all in one transaction with a `purge_log` row per step (counts, no names); the
steps are in `services/_purge.py`. A hold (`retention_hold`) on a person keeps them, their sign-in
records, drafts, e-mails, readings and the Inside Knowledge records they wrote or are named
in; on a cycle, its text, drafts, e-mails and readings. History (`transitionlog`) is
append-only and hash-chained, and `ik_transition` append-only: a purge touches neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from review_engine.core.retention import (
    DEFAULTS,
    LABELS,
    MONTHS_MAX,
    MONTHS_MIN,
    OUTCOMES,
    STARTS,
    RecordKind,
)
from review_engine.core.safe_text import check_text
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import cycle_label, get_cycle, get_person
from review_engine.services._purge import CYCLE, PERSON, PurgeStep, held_by, run_steps
from review_engine.store.models import Cluster, Cycle
from review_engine.store.privacy_tables import PurgeLog, RetentionHold, RetentionPeriod

__all__ = [
    "CYCLE",
    "PERSON",
    "HoldView",
    "PeriodView",
    "Policy",
    "PurgeRecord",
    "PurgeReport",
    "PurgeStep",
    "hold",
    "purge",
    "purge_log",
    "release",
    "set_period",
    "show_policy",
]
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
class PurgeReport:
    dry_run: bool
    at: datetime
    steps: list[PurgeStep] = field(default_factory=list)
    held_people: int = 0
    held_cycles: int = 0

    @property
    def total(self) -> int:
        return sum(s.count for s in self.steps)


def purge(rt: Runtime, *, dry_run: bool = False) -> PurgeReport:
    """Apply the retention policy now, in one transaction: anonymise people who left more
    than their period ago, remove the free text of cycles ended more than theirs ago and of
    Inside Knowledge visits held more than theirs ago (practitioners' names included), delete
    lapsed sign-in records, old drafts, sent messages and access-log rows; unless held. With
    `dry_run`, count the same and change nothing. A programme admin (or the operator)."""
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        policy.require_admin(actor, "purge records past their retention period")
        now = rt.clock.now()
        held = held_by(session, _active_holds(session))
        steps = run_steps(session, periods=_periods(session), now=now, held=held, dry_run=dry_run)
        if not dry_run:
            session.add_all(
                PurgeLog(at=now, actor=actor.name, kind=s.kind.value, count=s.count, detail=s.what)
                for s in steps
            )
        return PurgeReport(
            dry_run=dry_run,
            at=now,
            steps=steps,
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
