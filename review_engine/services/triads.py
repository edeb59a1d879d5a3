"""Triads: forming them with the allocation solver, manual changes, conflicts, availability.

The solver (`review_engine.core.allocation`) is pure; this module turns the database into its
problem (members, conflicts, availability, pins, past pairings, strengths) and stores the
answer as TriadPlace rows, moving each host's peer-visit machine to triad_assigned.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlmodel import Session, col, select

from review_engine.core import allocation
from review_engine.core.allocation import AllocationProblem, Assignment, SchoolNode
from review_engine.core.phases import Part, VisitState, VisitTrigger
from review_engine.core.relations import Relation
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._context import CycleContext, open_cycle
from review_engine.services._lookup import get_cluster
from review_engine.store.models import Cycle, Review, ReviewState, School
from review_engine.store.phase_tables import (
    Availability,
    GoodPractice,
    PinnedPair,
    SchoolConflict,
    TriadPlace,
    VisitPlan,
)

_FACILITATOR = {Relation.FACILITATOR}
_OPEN_STATES = (VisitState.AWAITING_TRIAD, VisitState.TRIAD_ASSIGNED)


@dataclass(frozen=True)
class TriadRow:
    host: int
    host_name: str
    visitors: list[int]
    visitor_names: list[str]
    lead: int | None
    distances_km: list[float | None]
    why: list[str]


@dataclass(frozen=True)
class Proposal:
    cycle: str
    stored: bool
    objective: float
    breakdown: dict[str, float]
    lower_bound: float
    gap: float
    optimal: bool
    method: str
    wall_seconds: float
    triads: list[TriadRow] = field(default_factory=list)


def _problem(
    ctx: CycleContext,
    *,
    visitors: int,
    min_visits: int | None,
    max_visits: int | None,
    keep_manual: bool = True,
) -> AllocationProblem:
    """The allocation problem of this cycle, from the database, in a handful of queries."""
    session, cycle_id = ctx.session, ctx.cycle_id
    urns = list(session.exec(select(Review.school_urn).where(Review.cycle_id == cycle_id)).all())
    schools = {s.urn: s for s in session.exec(select(School).where(col(School.urn).in_(urns)))}
    avail = {
        a.school_urn: a
        for a in session.exec(select(Availability).where(Availability.cycle_id == cycle_id))
    }
    conflicts = frozenset(
        frozenset((c.school_a, c.school_b))
        for c in session.exec(
            select(SchoolConflict).where(SchoolConflict.cluster_id == ctx.cluster.id)
        )
    )
    pins = list(session.exec(select(PinnedPair).where(PinnedPair.cycle_id == cycle_id)))
    must = {(p.host_urn, p.visitor_urn) for p in pins if p.kind == "must"}
    must_not = {(p.host_urn, p.visitor_urn) for p in pins if p.kind == "must_not"}
    if keep_manual:
        must |= {
            (t.host_urn, t.visitor_urn)
            for t in session.exec(
                select(TriadPlace).where(
                    TriadPlace.cycle_id == cycle_id, TriadPlace.source == "manual"
                )
            )
        }
    earlier = list(
        session.exec(
            select(Cycle.id, Cycle.academic_year)
            .where(
                Cycle.cluster_id == ctx.cluster.id, Cycle.academic_year < ctx.cycle.academic_year
            )
            .order_by(col(Cycle.academic_year).desc())
        ).all()
    )
    ago = {cid: n for n, (cid, _) in enumerate(earlier, start=1)}
    past_pairs: list[tuple[int, int, int]] = []
    past_leads: dict[int, int] = defaultdict(int)
    if ago:
        for t in session.exec(select(TriadPlace).where(col(TriadPlace.cycle_id).in_(list(ago)))):
            past_pairs.append((t.host_urn, t.visitor_urn, ago[t.cycle_id]))
            if t.is_lead:
                past_leads[t.visitor_urn] += 1
    strengths: dict[int, set[str]] = defaultdict(set)
    for urn, area in session.exec(
        select(GoodPractice.school_urn, GoodPractice.area).where(
            GoodPractice.cluster_id == ctx.cluster.id
        )
    ).all():
        strengths[urn].add(area)
    focus = dict(
        session.exec(
            select(Review.school_urn, VisitPlan.focus_area)
            .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
            .where(Review.cycle_id == cycle_id)
        ).all()
    )
    nodes = [
        SchoolNode(
            urn=u,
            easting=schools[u].easting,
            northing=schools[u].northing,
            group=schools[u].trust_code or schools[u].federation_code,
            strengths=frozenset(strengths.get(u, ())),
            focus_area=focus.get(u),
        )
        for u in urns
    ]
    return AllocationProblem(
        schools=nodes,
        hosts=frozenset(u for u in urns if u not in avail or avail[u].can_host),
        visitors_per_host=visitors,
        min_visits=min_visits,
        max_visits=max_visits,
        conflicts=conflicts,
        group_conflicts=ctx.cluster.trust_conflicts,
        unavailable=frozenset(u for u, a in avail.items() if not a.can_visit),
        must=frozenset(must),
        must_not=frozenset(must_not),
        past_pairings=tuple(past_pairs),
        past_leads=dict(past_leads),
    )


def propose(
    rt: Runtime,
    *,
    cycle: str,
    visitors: int | None = None,
    min_visits: int | None = None,
    max_visits: int | None = None,
    dry_run: bool = False,
) -> Proposal:
    """Form every triad of the cycle optimally (with the cluster's visitors per host unless
    told otherwise); store them unless a dry run."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require(None, _FACILITATOR, f"form the triads of {ctx.label}")
        visitors = visitors or ctx.cluster.visitors_per_host
        problem = _problem(ctx, visitors=visitors, min_visits=min_visits, max_visits=max_visits)
        states = _peer_visit_states(ctx)
        late = sorted(
            u for u, s in states.items() if s not in _OPEN_STATES and s != VisitState.CANCELLED
        )
        if late and not dry_run:
            raise InvalidInput(
                f"{ctx.label}: visits already planned for {', '.join(map(str, late))}; "
                "change single triads with `review triads set`"
            )
        result = allocation.solve(problem)
        if not dry_run:
            _store(ctx, result.assignments, source="solver", states=states)
        names = ctx.records.school_names({s.urn for s in problem.schools})
        return Proposal(
            cycle=ctx.label,
            stored=not dry_run,
            objective=result.objective,
            breakdown=dict(result.breakdown),
            lower_bound=result.lower_bound,
            gap=result.gap,
            optimal=result.optimal,
            method=result.method,
            wall_seconds=result.wall_seconds,
            triads=[_row(a, names) for a in result.assignments],
        )


def _peer_visit_states(ctx: CycleContext) -> dict[int, str]:
    machine = ctx.phase(Part.PEER_VISIT).name
    return dict(
        ctx.session.exec(
            select(Review.school_urn, ReviewState.state)
            .join(ReviewState, col(ReviewState.review_id) == Review.id)
            .where(Review.cycle_id == ctx.cycle_id, ReviewState.machine == machine)
        ).all()
    )


def _store(
    ctx: CycleContext,
    assignments: tuple[Assignment, ...],
    *,
    source: str,
    states: dict[int, str],
    only_host: int | None = None,
) -> None:
    session = ctx.session
    manual = set()
    if source == "solver":
        manual = {
            (t.host_urn, t.visitor_urn)
            for t in session.exec(
                select(TriadPlace).where(
                    TriadPlace.cycle_id == ctx.cycle_id, TriadPlace.source == "manual"
                )
            )
        }
    query = delete(TriadPlace).where(col(TriadPlace.cycle_id) == ctx.cycle_id)
    if only_host is not None:
        query = query.where(col(TriadPlace.host_urn) == only_host)
    session.execute(query)
    for a in assignments:
        for i, v in enumerate(a.visitors):
            distance = a.distances_km[i] if i < len(a.distances_km) else None
            why = "; ".join(a.why[i]) if i < len(a.why) else ""
            kind = "manual" if source == "manual" or (a.host, v) in manual else "solver"
            session.add(
                TriadPlace(
                    cycle_id=ctx.cycle_id,
                    host_urn=a.host,
                    visitor_urn=v,
                    is_lead=v == a.lead,
                    distance_km=distance,
                    why=why,
                    source=kind,
                )
            )
    session.flush()
    ctx.forget_relations()  # places changed: reviewers and leads are read again
    hosts = [a.host for a in assignments]
    for state, trigger in (
        (VisitState.AWAITING_TRIAD, VisitTrigger.ASSIGN_TRIAD),
        (VisitState.TRIAD_ASSIGNED, VisitTrigger.REASSIGN_TRIAD),
    ):
        ctx.fire_many(Part.PEER_VISIT, trigger, [h for h in hosts if states.get(h) == state])


def set_triad(
    rt: Runtime, *, cycle: str, host: int, visitors: list[int], lead: int | None = None
) -> TriadRow:
    """Set one host's visitors by hand, checked against every hard constraint."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require(None, _FACILITATOR, f"change the triads of {ctx.label}")
        ctx.review(host)
        if lead is None:
            lead = min(visitors) if visitors else None
        if lead not in visitors:
            raise InvalidInput(f"lead reviewer {lead} must be one of the visitors")
        problem = _problem(
            ctx, visitors=len(visitors), min_visits=0, max_visits=10_000, keep_manual=False
        )
        existing = _assignments(ctx)
        others = tuple(a for a in existing if a.host != host)
        mine = Assignment(
            host=host,
            visitors=tuple(sorted(visitors)),
            lead=lead,
            distances_km=_manual_distances(problem, host, sorted(visitors)),
        )
        # Hosts still without visitors are not this triad's fault: triads set one at a time
        # would otherwise be refused until every other host had been set.
        violations = [
            v
            for v in allocation.check(problem, (*others, mine))
            if any(str(u) in v for u in (host, *visitors))
            and not v.endswith("has no visitors allocated")
        ]
        if violations:
            raise InvalidInput(f"triad for {host} refused: {violations[0]}")
        states = _peer_visit_states(ctx)
        if states.get(host) not in _OPEN_STATES:
            raise InvalidInput(
                f"{ctx.label} school {host}: the visit is already {states.get(host)}; "
                "its triad can no longer change"
            )
        _store(ctx, (mine,), source="manual", states=states, only_host=host)
        names = ctx.records.school_names({host, *visitors})
        return _row(mine, names)


def _manual_distances(
    problem: AllocationProblem, host: int, visitors: list[int]
) -> tuple[float, ...]:
    """Each visitor's km from the host, as the solver measures it; () when a school has no map
    reference (stored as unknown, not as 0 km)."""
    nodes = {s.urn: s for s in problem.schools}
    here = nodes.get(host)
    found = []
    for v in visitors:
        there = nodes.get(v)
        if here is None or there is None:
            return ()
        if None in (here.easting, here.northing, there.easting, there.northing):
            return ()
        assert here.easting is not None and here.northing is not None
        assert there.easting is not None and there.northing is not None
        metres = (
            (here.easting - there.easting) ** 2 + (here.northing - there.northing) ** 2
        ) ** 0.5
        found.append(round(metres / 1000, 3))
    return tuple(found)


def _assignments(ctx: CycleContext) -> tuple[Assignment, ...]:
    by_host: dict[int, list[TriadPlace]] = defaultdict(list)
    for t in ctx.session.exec(select(TriadPlace).where(TriadPlace.cycle_id == ctx.cycle_id)):
        by_host[t.host_urn].append(t)
    found = []
    for host, places in sorted(by_host.items()):
        places.sort(key=lambda t: t.visitor_urn)
        found.append(
            Assignment(
                host=host,
                visitors=tuple(t.visitor_urn for t in places),
                lead=next((t.visitor_urn for t in places if t.is_lead), None),
                distances_km=tuple(t.distance_km or 0.0 for t in places),
                why=tuple(tuple(filter(None, t.why.split("; "))) for t in places),
            )
        )
    return tuple(found)


def _row(a: Assignment, names: dict[int, str]) -> TriadRow:
    return TriadRow(
        host=a.host,
        host_name=names.get(a.host, str(a.host)),
        visitors=list(a.visitors),
        visitor_names=[names.get(v, str(v)) for v in a.visitors],
        lead=a.lead,
        distances_km=[round(d, 1) for d in a.distances_km] or [None] * len(a.visitors),
        why=["; ".join(w) for w in a.why] or [""] * len(a.visitors),
    )


def show(rt: Runtime, *, cycle: str) -> list[TriadRow]:
    """The cycle's triads the actor may see (the facilitator: all; a school: its own)."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        assignments = _assignments(ctx)
        if Relation.FACILITATOR not in ctx.relations(None) and not ctx.actor.system:
            mine = ctx.actor.school_urn
            assignments = tuple(a for a in assignments if mine == a.host or mine in a.visitors)
        urns = {a.host for a in assignments} | {v for a in assignments for v in a.visitors}
        names = ctx.records.school_names(urns)
        return [_row(a, names) for a in assignments]


def explain(rt: Runtime, *, cycle: str, host: int) -> list[str]:
    """Why this host has these visitors and this lead, in sentences."""
    rows = {r.host: r for r in show(rt, cycle=cycle)}
    if host not in rows:
        raise NotFound("triad", f"for school {host}", f"none visible in {cycle}")
    row = rows[host]
    lines = [f"{row.host_name} ({host}) is visited by:"]
    for v, name, km, why in zip(
        row.visitors, row.visitor_names, row.distances_km, row.why, strict=True
    ):
        lead = " (lead reviewer)" if v == row.lead else ""
        distance = f"{km} km" if km is not None else "distance unknown"
        lines.append(f"- {name} ({v}){lead}: {distance}; {why or 'set by the facilitator'}")
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        if Relation.FACILITATOR not in ctx.relations(None):
            return lines  # why other schools were not chosen is the facilitator's to see
        problem = _problem(ctx, visitors=len(row.visitors), min_visits=None, max_visits=None)
        stored = _assignments(ctx)
        names = ctx.records.school_names({s.urn for s in problem.schools} | {host})
    # The solver's view of the stored allocation: nearer schools and why they were not used.
    result = allocation.AllocationResult(
        assignments=stored,
        objective=0.0,
        breakdown={},
        lower_bound=0.0,
        gap=0.0,
        optimal=False,
        wall_seconds=0.0,
        method="stored",
    )
    reasons = allocation.explain(problem, result, host)
    lines += [f"- {_named(line, names)}" for line in reasons if line.startswith(_EXPLAINED)]
    return lines


_URN = re.compile(r"\b\d{6,8}\b")


def _named(line: str, names: Mapping[int, str]) -> str:
    """The solver speaks in URNs; a person reads the school's name with it."""

    def name(match: re.Match[str]) -> str:
        urn = int(match.group())
        return f"{names[urn]} ({urn})" if urn in names else match.group()

    return _URN.sub(name, line)


_EXPLAINED = ("not ", "... and", "no coordinates", "lead reviewer")


# --- conflicts, availability, pins -------------------------------------------------------


@dataclass(frozen=True)
class ConflictView:
    school_a: int
    school_b: int
    reason: str


def add_conflict(rt: Runtime, *, cluster: str, a: int, b: int, reason: str = "") -> ConflictView:
    """Two schools that must never review each other (a declared conflict of interest)."""
    if a == b:
        raise InvalidInput("a conflict needs two different schools")
    low, high = sorted((a, b))
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        _require_cluster_facilitator(session, rt, found.id, f"declare conflicts in {cluster}")
        members = set(_members(session, found.id))
        for urn in (low, high):
            if urn not in members:
                raise NotFound("member", urn, f"school {urn} is not in cluster {cluster}")
        assert found.id is not None
        session.add(SchoolConflict(cluster_id=found.id, school_a=low, school_b=high, reason=reason))
        return ConflictView(low, high, reason)


def list_conflicts(rt: Runtime, *, cluster: str) -> list[ConflictView]:
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        _require_cluster_facilitator(session, rt, found.id, f"see conflicts in {cluster}")
        return [
            ConflictView(c.school_a, c.school_b, c.reason)
            for c in session.exec(
                select(SchoolConflict)
                .where(SchoolConflict.cluster_id == found.id)
                .order_by(col(SchoolConflict.school_a), col(SchoolConflict.school_b))
            )
        ]


def remove_conflict(rt: Runtime, *, cluster: str, a: int, b: int) -> None:
    low, high = sorted((a, b))
    with rt.db.transaction() as session:
        found = get_cluster(session, cluster)
        _require_cluster_facilitator(session, rt, found.id, f"remove conflicts in {cluster}")
        gone = session.execute(
            delete(SchoolConflict).where(
                col(SchoolConflict.cluster_id) == found.id,
                col(SchoolConflict.school_a) == low,
                col(SchoolConflict.school_b) == high,
            )
        )
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound("conflict", f"{low}-{high}", f"in cluster {cluster}")


def set_availability(
    rt: Runtime, *, cycle: str, urn: int, can_visit: bool, can_host: bool, reason: str = ""
) -> None:
    """A school's availability this cycle: whether it can send visitors and host a visit."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require(urn, {Relation.FACILITATOR, Relation.SCHOOL}, f"set availability of {urn}")
        ctx.review(urn)
        row = session.exec(
            select(Availability).where(
                Availability.cycle_id == ctx.cycle_id, Availability.school_urn == urn
            )
        ).first()
        row = row or Availability(cycle_id=ctx.cycle_id, school_urn=urn)
        row.can_visit, row.can_host, row.reason = can_visit, can_host, reason
        session.add(row)


def pin(rt: Runtime, *, cycle: str, host: int, visitor: int, must: bool) -> None:
    """Fix a pairing for the solver: this visitor must (or must not) visit this host."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require(None, _FACILITATOR, f"pin pairings in {ctx.label}")
        ctx.review(host)
        ctx.review(visitor)
        session.execute(
            delete(PinnedPair).where(
                col(PinnedPair.cycle_id) == ctx.cycle_id,
                col(PinnedPair.host_urn) == host,
                col(PinnedPair.visitor_urn) == visitor,
            )
        )
        session.add(
            PinnedPair(
                cycle_id=ctx.cycle_id,
                host_urn=host,
                visitor_urn=visitor,
                kind="must" if must else "must_not",
            )
        )


def _members(session: Session, cluster_id: int | None) -> list[int]:
    assert cluster_id is not None
    return policy.current_members(session, cluster_id)


def _require_cluster_facilitator(
    session: Session, rt: Runtime, cluster_id: int | None, action: str
) -> None:
    actor = policy.resolve_actor(session, rt.actor)
    if cluster_id is None or not policy.is_facilitator(actor, cluster_id):
        raise NotPermitted(actor.name, action, "only the cluster's facilitator may")


# --- the triads page ----------------------------------------------------------------------------

FAR_KM = 30.0  # a visitor further than this from the host is pointed out (not refused)


@dataclass(frozen=True)
class TriadCheck:
    """One host's chosen visitors checked as the facilitator chooses them: `problems` would
    refuse the change (conflicts, availability, pins, the number of visitors); `notes` are
    worth knowing (distance, no coordinates) but do not."""

    host: int
    problems: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PinView:
    host: int
    host_name: str
    visitor: int
    visitor_name: str
    must: bool


def check_triad(
    rt: Runtime, *, cycle: str, host: int, visitors: list[int], lead: int | None = None
) -> TriadCheck:
    """What `set_triad` would say of these visitors for this host, without saving, and the
    distances: every problem at once, in words naming the schools."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require(None, _FACILITATOR, f"change the triads of {ctx.label}")
        ctx.review(host)
        names = ctx.records.school_names({host, *visitors})

        def named(text: str) -> str:
            for urn in sorted(names, key=lambda u: -len(str(u))):
                text = text.replace(str(urn), f"{names[urn]} ({urn})")
            return text

        problems: list[str] = []
        if not visitors:
            return TriadCheck(host, ["choose at least one visiting school"], [])
        if host in visitors:
            problems.append(f"{names.get(host, host)} cannot visit itself")
        if lead is not None and lead not in visitors:
            problems.append("the lead reviewer must be one of the visiting schools")
        problem = _problem(
            ctx, visitors=len(visitors), min_visits=0, max_visits=10_000, keep_manual=False
        )
        others = tuple(a for a in _assignments(ctx) if a.host != host)
        mine = Assignment(host=host, visitors=tuple(sorted(visitors)), lead=lead)
        problems += [
            named(v)
            for v in allocation.check(problem, (*others, mine))
            if any(str(u) in v for u in (host, *visitors))
            and not v.endswith("has no visitors allocated")
        ]
        states = _peer_visit_states(ctx)
        if states.get(host) not in _OPEN_STATES:
            problems.append(
                f"the visit to {names.get(host, host)} is already planned; its visitors can no "
                "longer change"
            )
        nodes = {s.urn: s for s in problem.schools}
        notes = []
        here = nodes.get(host)
        for v in sorted(visitors):
            there = nodes.get(v)
            if here is None or there is None:
                continue
            if None in (here.easting, here.northing, there.easting, there.northing):
                notes.append(f"{names.get(v, v)}: distance unknown (no map reference)")
                continue
            assert here.easting is not None and here.northing is not None
            assert there.easting is not None and there.northing is not None
            km = (here.easting - there.easting) ** 2 + (here.northing - there.northing) ** 2
            km = round(km**0.5 / 1000, 1)
            far = f", more than {FAR_KM:g} km" if km > FAR_KM else ""
            notes.append(f"{names.get(v, v)}: {km} km from {names.get(host, host)}{far}")
        return TriadCheck(host, list(dict.fromkeys(problems)), notes)


def list_pins(rt: Runtime, *, cycle: str) -> list[PinView]:
    """The pairings the facilitator pinned for the solver (must or must not visit)."""
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        ctx.require(None, _FACILITATOR, f"see the pinned pairings of {ctx.label}")
        pins = list(
            session.exec(
                select(PinnedPair)
                .where(PinnedPair.cycle_id == ctx.cycle_id)
                .order_by(col(PinnedPair.host_urn), col(PinnedPair.visitor_urn))
            )
        )
        names = ctx.records.school_names({p.host_urn for p in pins} | {p.visitor_urn for p in pins})
        return [
            PinView(
                p.host_urn,
                names.get(p.host_urn, str(p.host_urn)),
                p.visitor_urn,
                names.get(p.visitor_urn, str(p.visitor_urn)),
                p.kind == "must",
            )
            for p in pins
        ]
