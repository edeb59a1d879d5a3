"""The one path of every offer and booking state change: who may fire it (the workflow's
`actors:`), the engine (guards), a version-checked write and an `ik_transition` row, all in
the caller's transaction.

Machines come from the workflow snapshot the programme was created with, compiled once per
hash. A consequence of another change (an offer filled by its last booking, a freed place
given to the first school waiting, the bookings of a cancelled offer) is fired as the system:
the log names the person whose change caused it and the cause as the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from review_engine.core.engine import CompiledWorkflow
from review_engine.core.knowledge import (
    ProgrammeActor,
    RecordScope,
    booking_state_words,
    offer_state_words,
)
from review_engine.core.workflow import WorkflowDef, parse
from review_engine.errors import (
    Conflict,
    GuardRejected,
    ReviewEngineError,
    TransitionNotAllowed,
)
from review_engine.rules.knowledge_guards import KNOWLEDGE_GUARDS, KnowledgeGuardInput
from review_engine.rules.knowledge_policy import require
from review_engine.rules.policy import Actor
from review_engine.store.batch import insert_many
from review_engine.store.knowledge_tables import IkBooking, IkOffer, IkProgramme, IkTransition
from review_engine.store.models import School, WorkflowSnapshot

_COMPILED: dict[str, CompiledWorkflow] = {}
NO_STATE = ""

_TRIGGER_WORDS = {
    (RecordScope.OFFER, "publish"): "published",
    (RecordScope.OFFER, "fill"): "marked full",
    (RecordScope.OFFER, "reopen"): "reopened",
    (RecordScope.OFFER, "hold"): "put on hold",
    (RecordScope.OFFER, "resume"): "put back in the prospectus",
    (RecordScope.OFFER, "close"): "closed",
    (RecordScope.OFFER, "cancel"): "cancelled",
    (RecordScope.BOOKING, "confirm"): "confirmed",
    (RecordScope.BOOKING, "waitlist"): "put on the waiting list",
    (RecordScope.BOOKING, "offer_place"): "given a place",
    (RecordScope.BOOKING, "attend"): "marked attended",
    (RecordScope.BOOKING, "no_show"): "marked as not attending",
    (RecordScope.BOOKING, "cancel"): "cancelled",
    (RecordScope.BOOKING, "lapse"): "taken off the waiting list",
}


def compiled(session: Session, programme: IkProgramme) -> CompiledWorkflow:
    """The programme's machines, from its workflow snapshot, built once per hash."""
    found = _COMPILED.get(programme.workflow_hash)
    if found is None:
        snapshot = session.get(WorkflowSnapshot, programme.workflow_hash)
        assert snapshot is not None, "every programme references its workflow snapshot"
        definition = parse(snapshot.source, origin=f"{snapshot.name} v{snapshot.version}")
        found = _COMPILED[programme.workflow_hash] = CompiledWorkflow(definition, KNOWLEDGE_GUARDS)
    return found


def remember(definition: WorkflowDef) -> None:
    """Keep a freshly loaded definition compiled (a programme created with it uses it at once)."""
    if definition.hash not in _COMPILED:
        _COMPILED[definition.hash] = CompiledWorkflow(definition, KNOWLEDGE_GUARDS)


@dataclass(frozen=True)
class Change:
    """One fired transition, ready to write."""

    scope: RecordScope
    record_id: int
    offer_id: int
    from_state: str
    to_state: str
    trigger: str
    version: int  # the record's version when it was read


def _reword(exc: ReviewEngineError, message: str) -> None:
    """Say a refusal in the programme's words (states and triggers as people say them)."""
    exc.message = message
    exc.args = (message,)


def offer_subject(offer: IkOffer, host_name: str) -> str:
    return f"offer {offer.id} ({offer.title}, {host_name}, {offer.visit_date:%d %b %Y})"


def booking_subject(booking: IkBooking, school_name: str) -> str:
    return f"booking {booking.id} ({school_name})"


def _fire(
    session: Session,
    programme: IkProgramme,
    *,
    scope: RecordScope,
    subject: str,
    state: str,
    trigger: str,
    have: set[ProgrammeActor],
    actor: Actor,
    guard_input: KnowledgeGuardInput,
) -> str:
    workflow = compiled(session, programme)
    machine = workflow.definition.record_machine(scope)
    transition = machine.transition(state, trigger)
    words = _TRIGGER_WORDS.get((scope, trigger), trigger.replace("_", " "))
    if transition is not None:
        require(have, transition.actors, actor=actor.name, action=f"have {subject} {words}")
    state_words = offer_state_words if scope is RecordScope.OFFER else booking_state_words
    try:
        fired = workflow.fire(
            subject=subject, machine=machine.name, trigger=trigger, state=state, ctx=guard_input
        )
    except TransitionNotAllowed as exc:
        _reword(exc, f"{subject} is {state_words(state).lower()}: it cannot be {words} now")
        raise
    except GuardRejected as exc:
        _reword(exc, f"{subject} cannot be {words}: {exc.why}")
        raise
    return fired.to_state


def fire_offer(
    session: Session,
    programme: IkProgramme,
    offer: IkOffer,
    trigger: str,
    *,
    host_name: str,
    have: set[ProgrammeActor],
    actor: Actor,
    today: date,
    host_approved: bool = False,
    reason: str | None = None,
) -> Change:
    """Fire `trigger` on an offer; returns the change (not yet written)."""
    assert offer.id is not None
    dest = _fire(
        session,
        programme,
        scope=RecordScope.OFFER,
        subject=offer_subject(offer, host_name),
        state=offer.state,
        trigger=trigger,
        have=have,
        actor=actor,
        guard_input=KnowledgeGuardInput(
            programme=programme,
            offer=offer,
            today=today,
            host_approved=host_approved,
            reason=reason,
        ),
    )
    return Change(RecordScope.OFFER, offer.id, offer.id, offer.state, dest, trigger, offer.version)


def fire_booking(
    session: Session,
    programme: IkProgramme,
    offer: IkOffer,
    booking: IkBooking,
    trigger: str,
    *,
    school: School,
    have: set[ProgrammeActor],
    actor: Actor,
    today: date,
    reason: str | None = None,
) -> Change:
    """Fire `trigger` on a booking; returns the change (not yet written)."""
    assert booking.id is not None and offer.id is not None
    dest = _fire(
        session,
        programme,
        scope=RecordScope.BOOKING,
        subject=booking_subject(booking, school.name),
        state=booking.state,
        trigger=trigger,
        have=have,
        actor=actor,
        guard_input=KnowledgeGuardInput(
            programme=programme,
            offer=offer,
            booking=booking,
            school=school,
            today=today,
            reason=reason,
        ),
    )
    return Change(
        RecordScope.BOOKING, booking.id, offer.id, booking.state, dest, trigger, booking.version
    )


def write(
    session: Session,
    programme_id: int,
    changes: Sequence[Change],
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    records: Iterable[IkOffer | IkBooking] = (),
) -> None:
    """Write changes set-based: one version-checked UPDATE per (kind, from, to) group, then the
    log rows in one insert; Conflict if another writer changed a record first. `records` are
    the loaded rows, brought up to date without marking them dirty."""
    if not changes:
        return
    groups: dict[tuple[RecordScope, str, str, int], list[int]] = defaultdict(list)
    for c in changes:
        groups[(c.scope, c.from_state, c.to_state, c.version)].append(c.record_id)
    for (scope, from_state, to_state, version), ids in groups.items():
        table = IkOffer if scope is RecordScope.OFFER else IkBooking
        result = session.execute(
            update(table)
            .where(
                col(table.id).in_(ids),
                col(table.state) == from_state,
                col(table.version) == version,
            )
            .values(state=to_state, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(ids):  # type: ignore[attr-defined]
            raise Conflict(f"{scope.value} {', '.join(map(str, ids))}")
    by_key = {(c.scope, c.record_id): c for c in changes}
    for row in records:
        scope = RecordScope.OFFER if isinstance(row, IkOffer) else RecordScope.BOOKING
        change = by_key.get((scope, row.id or 0))
        if change is not None:
            set_committed_value(row, "state", change.to_state)
            set_committed_value(row, "version", change.version + 1)
    log(session, programme_id, changes, actor=actor, at=at, reason=reason)


def log(
    session: Session,
    programme_id: int,
    changes: Sequence[Change],
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Append the transitions' log rows (one insert for all)."""
    insert_many(
        session,
        IkTransition,
        ["offer_id", "booking_id", "machine", "from_state", "to_state", "trigger"],
        (
            (
                c.offer_id,
                c.record_id if c.scope is RecordScope.BOOKING else None,
                c.scope.value,
                c.from_state,
                c.to_state,
                c.trigger,
            )
            for c in changes
        ),
        same={"programme_id": programme_id, "actor": actor, "reason": reason, "at": at},
    )
