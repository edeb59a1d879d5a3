"""Reminders of coming peer visits (7 days and 1 day before) for the host and each visiting
school, each carrying the visit's calendar invite. Set-based, for the tick."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from review_engine.core.domain import Slot
from review_engine.core.phases import VisitState
from review_engine.documents import context as dc
from review_engine.documents import invites, safe_filename
from review_engine.store.batch import chunks, in_
from review_engine.store.models import Cluster, Person, Review, ReviewState, School
from review_engine.store.phase_tables import TriadPlace, VisitPlan

VISIT_ITEM = "visit@"  # + the URN of the school reminded


def owed_visits(
    session: Session,
    cycles_by_machine: dict[str, list[int]],
    today: date,
    horizon: date,
) -> list[tuple[int, int, int, date]]:
    """(cycle, host, school to remind, visit date) for scheduled visits due by the horizon;
    `cycles_by_machine` lists the cycles whose visit machine has each name (one query per
    name)."""
    rows: list[Any] = []
    for machine, ids in cycles_by_machine.items():
        rows += _scheduled(session, machine, ids, today, horizon)
    if not rows:
        return []
    visitors: dict[tuple[int, int], list[int]] = defaultdict(list)
    conn = session.connection()
    for chunk in chunks(sorted({r[0] for r in rows})):
        for cycle_id, host, visitor in conn.execute(
            select(TriadPlace.cycle_id, TriadPlace.host_urn, TriadPlace.visitor_urn).where(
                in_(session, TriadPlace.cycle_id, chunk)
            )
        ):
            visitors[(cycle_id, host)].append(visitor)
    return [
        (cycle_id, host, urn, day)
        for cycle_id, host, day in rows
        for urn in [host, *sorted(visitors[(cycle_id, host)])]
    ]


def _scheduled(
    session: Session, machine: str, ids: list[int], today: date, horizon: date
) -> list[Any]:
    rows: list[Any] = []
    conn = session.connection()  # Core rows, no ORM bookkeeping
    for chunk in chunks(ids):
        rows += conn.execute(
            select(Review.cycle_id, Review.school_urn, col(VisitPlan.visit_date))
            .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(
                in_(session, Review.cycle_id, chunk),
                ReviewState.machine == machine,
                ReviewState.state == VisitState.SCHEDULED,
                col(VisitPlan.visit_date) >= today,
                col(VisitPlan.visit_date) <= horizon,
            )
        ).all()
    return rows


def invites_for(
    session: Session,
    visits: set[tuple[int, int]],
    cycles: dict[int, Any],
    at: datetime,
    attendees: dict[int, list[tuple[str, str]]] | None = None,
) -> dict[tuple[int, int], tuple[str, str]]:
    """The .ics invite (file name, text) of each (cycle, host) visit, in a few queries. Its
    attendees are the people of the host and its visitors who take visit notices (e-mail,
    name by school), when given; else each school's head."""
    if not visits:
        return {}
    hosts = {h for _, h in visits}
    cycle_ids = sorted({c for c, _ in visits})
    plans = {
        (c, h): p
        for c, h, p in session.exec(
            select(Review.cycle_id, Review.school_urn, VisitPlan)
            .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
            .where(
                in_(session, Review.cycle_id, cycle_ids),
                in_(session, Review.school_urn, sorted(hosts)),
            )
        ).all()
    }
    visitors: dict[tuple[int, int], list[int]] = defaultdict(list)
    for t in session.exec(select(TriadPlace).where(in_(session, TriadPlace.cycle_id, cycle_ids))):
        visitors[(t.cycle_id, t.host_urn)].append(t.visitor_urn)
    schools = {
        s.urn: s
        for s in session.exec(
            select(School).where(
                in_(
                    session, School.urn, sorted(hosts | {v for vs in visitors.values() for v in vs})
                )
            )
        )
    }
    if attendees is None:
        attendees = {
            p.school_urn: [(p.email, p.name)]
            for p in session.exec(
                select(Person).where(
                    in_(session, Person.school_urn, sorted(schools)), Person.role == "head"
                )
            )
            if p.school_urn is not None
        }
    facilitators = dict(
        session.exec(
            select(Cluster.id, Person)
            .join(Person, col(Person.id) == Cluster.facilitator_id)
            .where(in_(session, Cluster.id, sorted({cycles[c].cluster_id for c in cycle_ids})))
        ).all()
    )
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for cycle_id, host in visits:
        plan = plans.get((cycle_id, host))
        if plan is None or plan.visit_date is None or plan.slot is None:
            continue
        organiser = facilitators.get(cycles[cycle_id].cluster_id)
        people = [p for u in [host, *visitors[(cycle_id, host)]] for p in attendees.get(u, ())]
        found[(cycle_id, host)] = visit_invite(
            cycle_id=cycle_id,
            host=schools[host],
            visit_date=plan.visit_date,
            slot=Slot(plan.slot),
            sequence=plan.sequence,
            organiser=(organiser.name, organiser.email) if organiser else None,
            attendees=people,
            at=at,
        )
    return found


def visit_invite(
    *,
    cycle_id: int,
    host: School,
    visit_date: date,
    slot: Slot,
    sequence: int,
    organiser: tuple[str, str] | None,
    attendees: list[tuple[str, str]],
    at: datetime,
    cancelled: bool = False,
    description: str | None = None,
) -> tuple[str, str]:
    """The .ics invite (file name, text) of one visit: METHOD:REQUEST at its SEQUENCE, or
    METHOD:CANCEL; organised by the facilitator (else the first attendee), the attendees given
    as (e-mail, name)."""
    invite = dc.VisitInviteContext(
        cycle_id=str(cycle_id),
        host=dc.SchoolRef(host.name, str(host.urn)),
        visit_date=visit_date,
        slot=slot,
        organizer=dc.Person(organiser[0], organiser[1])
        if organiser
        else dc.Person("Peer review facilitator", attendees[0][0] if attendees else None),
        attendees=tuple(dc.Person(name, email) for email, name in attendees),
        sequence=sequence,
        cancelled=cancelled,
        location=", ".join(x for x in (host.name, host.town, host.postcode) if x),
        description=description,
    )
    name = safe_filename(f"visit-{host.name}-{host.urn}") + ".ics"
    return name, invites.invite_ics(invite, now=at).decode("utf-8")
