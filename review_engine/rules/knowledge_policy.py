"""Who may do what in Inside Knowledge. Every knowledge service asks here, so the CLI, the web
pages and the tick get the same answers.

- The public (no sign-in) searches the prospectus and reads listed offers (published or full)
  and closed ones; nothing else.
- A programme admin (or the operator at the database) does everything, and may act for any
  school by naming it.
- A stakeholder of a programme (a local authority officer, say: `ik_stakeholder`) nominates
  schools and sees their own nominations.
- Host school staff (its head, deputy, senior leaders) make and run their school's offers, in
  topics their school is approved for; they see their offers' bookings, questions, feedback
  and visit packs.
- Visiting school staff book, cancel, propose questions, acknowledge agendas and give feedback
  for their own school; they see their own bookings and the agendas of offers they booked.
- The scheduler runs the tick (closing past offers, queueing reminders).
A draft, held or cancelled offer, or a booking, that the actor may not see is NotFound, the same
answer as for one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from review_engine.core.knowledge import LISTED_OFFER_STATES, OfferState, ProgrammeActor
from review_engine.errors import NotFound, NotPermitted
from review_engine.rules.policy import Actor, resolve_actor
from review_engine.store.knowledge_tables import IkStakeholder
from review_engine.store.models import Person

PUBLIC_OFFER_STATES = frozenset({*LISTED_OFFER_STATES, OfferState.CLOSED})

_IN_WORDS = {
    ProgrammeActor.ADMIN: "a programme admin",
    ProgrammeActor.HOST: "the host school",
    ProgrammeActor.VISITOR: "the visiting school",
    ProgrammeActor.SYSTEM: "the programme itself",
}


def viewer(session: Session, name: str) -> Actor | None:
    """The acting person, or None for the public (nobody signed in, an unknown name)."""
    try:
        return resolve_actor(session, name)
    except NotPermitted:
        return None


def relations(
    actor: Actor | None, *, host_urn: int, booking_urn: int | None = None
) -> set[ProgrammeActor]:
    """How the actor stands to an offer (and to one of its bookings)."""
    found: set[ProgrammeActor] = set()
    if actor is None:
        return found
    if actor.admin:
        found.add(ProgrammeActor.ADMIN)
    if actor.system and not actor.operator:
        found.add(ProgrammeActor.SYSTEM)
    if actor.school_urn is not None:
        if actor.school_urn == host_urn:
            found.add(ProgrammeActor.HOST)
        if booking_urn is not None and actor.school_urn == booking_urn:
            found.add(ProgrammeActor.VISITOR)
    return found


def in_words(allowed: Iterable[str]) -> str:
    words = [_IN_WORDS.get(ProgrammeActor(a), a) for a in sorted(allowed)]
    if not words:
        return "nobody"
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def allows(have: set[ProgrammeActor], allowed: Iterable[str]) -> bool:
    return bool({h.value for h in have} & set(allowed))


def require(have: set[ProgrammeActor], allowed: Iterable[str], *, actor: str, action: str) -> None:
    """Refuse unless one of the actor's relations is allowed (the workflow's `actors:`)."""
    allowed = list(allowed)
    if not allows(have, allowed):
        raise NotPermitted(actor, action, f"only {in_words(allowed)} may")


def require_signed_in(actor: Actor | None, action: str) -> Actor:
    if actor is None:
        raise NotPermitted("nobody", action, "sign in first")
    return actor


def require_admin(actor: Actor | None, action: str) -> Actor:
    """A programme admin or the operator."""
    actor = require_signed_in(actor, action)
    if not actor.admin:
        raise NotPermitted(actor.name, action, "only a programme admin may")
    return actor


def is_stakeholder(session: Session, actor: Actor, programme_id: int) -> bool:
    """A registered stakeholder of the programme (one query)."""
    if actor.system or actor.role is None:
        return False
    found = session.exec(
        select(IkStakeholder.id)
        .join(Person, Person.id == IkStakeholder.person_id)  # type: ignore[arg-type]
        .where(IkStakeholder.programme_id == programme_id, Person.email == actor.name)
    ).first()
    return found is not None


def require_nominator(session: Session, actor: Actor | None, programme_id: int) -> Actor:
    """A stakeholder of the programme or a programme admin."""
    actor = require_signed_in(actor, "nominate schools")
    if not (actor.admin or is_stakeholder(session, actor, programme_id)):
        raise NotPermitted(
            actor.name,
            "nominate schools",
            "only the programme's stakeholders (see `review ik stakeholder add`) and admins may",
        )
    return actor


def acting_school(actor: Actor | None, school: int | None, action: str) -> tuple[Actor, int]:
    """The school the actor acts for: their own, or (an admin) the one they name."""
    actor = require_signed_in(actor, action)
    if school is None:
        if actor.school_urn is None:
            raise NotPermitted(
                actor.name, action, "you do not act for a school here; name the school (--school)"
            )
        return actor, actor.school_urn
    if actor.admin or actor.school_urn == school:
        return actor, school
    raise NotPermitted(actor.name, action, f"you do not act for school {school}")


def may_see_offer(actor: Actor | None, *, state: str, host_urn: int) -> bool:
    """Anyone sees a listed or closed offer; its host and admins see it in any state."""
    if state in PUBLIC_OFFER_STATES:
        return True
    return bool(relations(actor, host_urn=host_urn) & {ProgrammeActor.ADMIN, ProgrammeActor.HOST})


def require_offer_visible(actor: Actor | None, *, offer_id: int, state: str, host_urn: int) -> None:
    if not may_see_offer(actor, state=state, host_urn=host_urn):
        raise NotFound("offer", offer_id)


def may_manage_offer(actor: Actor | None, *, host_urn: int) -> bool:
    """The host's staff or an admin: bookings, questions, feedback, attendance, the pack."""
    return bool(relations(actor, host_urn=host_urn) & {ProgrammeActor.ADMIN, ProgrammeActor.HOST})


def may_see_booking(actor: Actor | None, *, host_urn: int, booking_urn: int) -> bool:
    return bool(relations(actor, host_urn=host_urn, booking_urn=booking_urn))


def require_booking_visible(
    actor: Actor | None, *, booking_id: int, host_urn: int, booking_urn: int
) -> None:
    if not may_see_booking(actor, host_urn=host_urn, booking_urn=booking_urn):
        raise NotFound("booking", booking_id)


def require_runs_the_tick(actor: Actor | None) -> Actor:
    actor = require_signed_in(actor, "run the Inside Knowledge tick")
    if not (actor.admin or (actor.system and not actor.operator)):
        raise NotPermitted(
            actor.name, "run the Inside Knowledge tick", "only the scheduler or an admin may"
        )
    return actor
