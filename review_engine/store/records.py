"""What one transaction has already read of one cycle, so nothing is read twice.

A service, the policy and the guards it fires all ask the same `CycleRecords`, which loads a
school's review row and phase states, a host's triad places, its visit plan, its write-up and
the decisions on the current draft once each. Rows are the session's own objects, so a change
a service makes is seen by the guards that follow; a service that adds rows (a decision, a
SEF version) tells the cache with the `note_*` methods.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from review_engine.store.models import (
    Cluster,
    Cycle,
    Review,
    ReviewState,
    School,
    TransitionLog,
)
from review_engine.store.phase_tables import (
    SelfEvaluation,
    SupportAction,
    TriadPlace,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)


class CycleRecords:
    """The rows of one cycle a transaction has loaded, loaded at most once each."""

    def __init__(self, session: Session, cycle: Cycle, cluster: Cluster) -> None:
        self.session = session
        self.cycle = cycle
        self.cluster = cluster
        self._reviews: dict[int, Review | None] = {}
        self._states: dict[int, dict[str, str]] = {}
        self._places: dict[int, list[TriadPlace]] = {}
        self._plans: dict[int, VisitPlan | None] = {}
        self._writeups: dict[int, WriteUp | None] = {}
        self._decisions: dict[tuple[int, int], list[WriteUpDecision]] = {}
        self._sef_versions: dict[int, int] = {}
        self._names: dict[int, str] = {}

    @property
    def cycle_id(self) -> int:
        assert self.cycle.id is not None
        return self.cycle.id

    # --- a school's review and its phase states ------------------------------------------------

    def review(self, urn: int) -> Review | None:
        """The school's review row in this cycle, with its states (one query for both)."""
        if urn not in self._reviews:
            rows = self.session.exec(
                select(Review, ReviewState.machine, ReviewState.state)
                .join(ReviewState, col(ReviewState.review_id) == Review.id, isouter=True)
                .where(Review.cycle_id == self.cycle_id, Review.school_urn == urn)
            ).all()
            review = rows[0][0] if rows else None
            self._reviews[urn] = review
            if review is not None and review.id is not None:
                self._states[review.id] = {m: s for _, m, s in rows if m is not None}
        return self._reviews[urn]

    def preload(self, urns: list[int]) -> None:
        """Reviews and states of many schools, and their hosts' places, in two queries."""
        wanted = [u for u in urns if u not in self._reviews]
        if wanted:
            rows = self.session.exec(
                select(Review, ReviewState.machine, ReviewState.state)
                .join(ReviewState, col(ReviewState.review_id) == Review.id, isouter=True)
                .where(Review.cycle_id == self.cycle_id, col(Review.school_urn).in_(wanted))
            ).all()
            for urn in wanted:
                self._reviews[urn] = None
            for review, machine, state in rows:
                assert review.id is not None
                self._reviews[review.school_urn] = review
                states = self._states.setdefault(review.id, {})
                if machine is not None:
                    states[machine] = state
        hosts = [u for u in urns if u not in self._places]
        if hosts:
            for urn in hosts:
                self._places[urn] = []
            for place in self.session.exec(
                select(TriadPlace)
                .where(TriadPlace.cycle_id == self.cycle_id, col(TriadPlace.host_urn).in_(hosts))
                .order_by(col(TriadPlace.id))
            ):
                self._places[place.host_urn].append(place)

    def states(self, review: Review) -> dict[str, str]:
        assert review.id is not None
        if review.id not in self._states:
            rows = self.session.exec(
                select(ReviewState.machine, ReviewState.state).where(
                    ReviewState.review_id == review.id
                )
            ).all()
            self._states[review.id] = dict(rows)
        return self._states[review.id]

    def note_state(self, review_id: int, machine: str, state: str) -> None:
        self._states.setdefault(review_id, {})[machine] = state

    # --- triads, visit plans, write-ups ----------------------------------------------------------

    def places(self, host: int) -> list[TriadPlace]:
        """The visitor places of a host (its reviewers), lead included."""
        if host not in self._places:
            self._places[host] = list(
                self.session.exec(
                    select(TriadPlace)
                    .where(TriadPlace.cycle_id == self.cycle_id, TriadPlace.host_urn == host)
                    .order_by(col(TriadPlace.id))
                )
            )
        return self._places[host]

    def forget_places(self, host: int | None = None) -> None:
        if host is None:
            self._places.clear()
        else:
            self._places.pop(host, None)

    def visit_plan(self, review: Review) -> VisitPlan | None:
        assert review.id is not None
        if review.id not in self._plans:
            self._plans[review.id] = self.session.exec(
                select(VisitPlan).where(VisitPlan.review_id == review.id)
            ).first()
        return self._plans[review.id]

    def note_visit_plan(self, plan: VisitPlan) -> None:
        self._plans[plan.review_id] = plan

    def writeup(self, review: Review) -> WriteUp | None:
        assert review.id is not None
        if review.id not in self._writeups:
            self._writeups[review.id] = self.session.exec(
                select(WriteUp).where(WriteUp.review_id == review.id)
            ).first()
        return self._writeups[review.id]

    def note_writeup(self, writeup: WriteUp) -> None:
        self._writeups[writeup.review_id] = writeup

    def decisions(self, writeup: WriteUp) -> list[WriteUpDecision]:
        """Decisions on the write-up's current version, oldest first."""
        assert writeup.id is not None
        key = (writeup.id, writeup.version)
        if key not in self._decisions:
            self._decisions[key] = list(
                self.session.exec(
                    select(WriteUpDecision)
                    .where(
                        WriteUpDecision.writeup_id == writeup.id,
                        WriteUpDecision.version == writeup.version,
                    )
                    .order_by(col(WriteUpDecision.id))
                )
            )
        return self._decisions[key]

    def note_decision(self, writeup: WriteUp, decision: WriteUpDecision) -> None:
        """A decision just added to the session (and flushed by the next write)."""
        self.decisions(writeup).append(decision)

    def school_names(self, urns: set[int]) -> dict[int, str]:
        """School names by URN (each read once per transaction)."""
        wanted = urns - self._names.keys()
        if wanted:
            self._names.update(
                self.session.exec(
                    select(School.urn, School.name).where(col(School.urn).in_(wanted))
                ).all()
            )
        return {u: self._names[u] for u in urns if u in self._names}

    # --- counts the guards need ------------------------------------------------------------------

    def sef_versions(self, review: Review) -> int:
        """How many SEF versions the school has submitted (versions are numbered 1..n)."""
        assert review.id is not None
        if review.id not in self._sef_versions:
            self._sef_versions[review.id] = self.session.exec(
                select(func.count()).where(SelfEvaluation.review_id == review.id)
            ).one()
        return self._sef_versions[review.id]

    def note_sef_version(self, review: Review) -> int:
        """A new SEF version is being added; its number."""
        assert review.id is not None
        self._sef_versions[review.id] = self.sef_versions(review) + 1
        return self._sef_versions[review.id]

    def times_fired(self, urn: int, machine: str, trigger: str) -> int:
        return self.session.exec(
            select(func.count()).where(
                TransitionLog.cycle_id == self.cycle_id,
                TransitionLog.school_urn == urn,
                TransitionLog.machine == machine,
                TransitionLog.trigger == trigger,
            )
        ).one()

    def open_actions(self, review: Review, complete: str) -> list[int]:
        return sorted(
            self.session.exec(
                select(SupportAction.number).where(
                    SupportAction.review_id == review.id, SupportAction.rag != complete
                )
            ).all()
        )
