"""Typed, frozen contexts for every document the engine renders (pure values, no database).

The document service loads rows and builds one of these; ``documents.render`` turns it into a
file. Every field is plain (str, int, float, date, time, datetime, domain enums, tuples of
nested frozen dataclasses), so contexts pickle cleanly into a PDF worker process. Free text a
person typed is kept exactly as typed: templates escape it, they never evaluate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from review_engine.core.domain import HalfTerm, Rag, SharingLevel, Slot, VisitFocus

# --- shared pieces ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolRef:
    """A school named in a document: its name and URN."""

    name: str
    urn: str


@dataclass(frozen=True, slots=True)
class Person:
    """A person named in a document; school is the school's name when it matters."""

    name: str
    email: str | None = None
    school: str | None = None
    job_title: str | None = None


@dataclass(frozen=True, slots=True)
class Reviewer:
    """A visiting head (or senior leader) on a triad; one per visit is the lead reviewer."""

    name: str
    school: str
    is_lead: bool = False


@dataclass(frozen=True, slots=True)
class GoodPractice:
    """Practice agreed worth sharing: the area, what it is, and whom to contact."""

    area: str
    description: str
    contact: str
    school: str | None = None


# --- 1. SEF summary --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolProfile:
    """The school context at the top of a SEF summary (from GIAS and Ofsted)."""

    name: str
    urn: str
    phase: str
    school_type: str
    local_authority: str
    pupils: int | None = None
    trust: str | None = None
    ofsted_rating: str | None = None
    ofsted_date: date | None = None


@dataclass(frozen=True, slots=True)
class SefArea:
    """One area of the framework as the school judges itself."""

    name: str
    grade_label: str | None = None
    strengths: tuple[str, ...] = ()
    areas_for_development: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SefSummaryContext:
    """A school's self-evaluation, area by area, as submitted."""

    cycle: str
    school: SchoolProfile
    framework: str
    areas: tuple[SefArea, ...] = ()
    enquiry_question: str | None = None
    submitted_on: date | None = None
    version: int = 1


# --- 2. Visit pack ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One line of the visit agenda (start is None for a time the host has still to agree)."""

    start: time | None
    activity: str
    who: str
    end: time | None = None


@dataclass(frozen=True, slots=True)
class HostSef:
    """The host's self-evaluation as its reviewers read it before the visit."""

    framework: str
    version: int
    areas: tuple[SefArea, ...] = ()
    submitted_on: date | None = None


@dataclass(frozen=True, slots=True)
class VisitPackContext:
    """Everything visitors need for a half-day visit: who, when, where, what."""

    cycle: str
    host: SchoolRef
    visit_date: date
    slot: Slot
    focus: VisitFocus
    reviewers: tuple[Reviewer, ...] = ()
    host_head: Person | None = None
    focus_detail: str | None = None
    enquiry_question: str | None = None
    agenda: tuple[AgendaItem, ...] = ()
    host_staff: tuple[Person, ...] = ()
    address: str | None = None
    postcode: str | None = None
    arrival_time: time | None = None
    contact: Person | None = None
    practical_notes: str | None = None
    host_sef: HostSef | None = None
    #: An outline for the slot, shown while no agenda is agreed (morning or afternoon times).
    suggested_agenda: tuple[AgendaItem, ...] = ()


# --- 3. WWW/EBI report -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A What Went Well or Even Better If item and the evidence (activity) behind it."""

    text: str
    evidence: str | None = None
    activity: str | None = None


@dataclass(frozen=True, slots=True)
class LineOfEnquiry:
    """One line of enquiry with its WWW and EBI findings."""

    question: str
    www: tuple[Finding, ...] = ()
    ebi: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class WriteupReportContext:
    """The lead reviewer's WWW/EBI write-up of one visit."""

    cycle: str
    host: SchoolRef
    visit_date: date
    reviewers: tuple[Reviewer, ...] = ()
    activities: tuple[str, ...] = ()
    lines_of_enquiry: tuple[LineOfEnquiry, ...] = ()
    good_practice: tuple[GoodPractice, ...] = ()
    next_steps: tuple[str, ...] = ()
    sharing: SharingLevel = SharingLevel.REVIEWERS
    shared_with: tuple[str, ...] = ()
    agreed_on: date | None = None

    @property
    def lead(self) -> Reviewer | None:
        """The nominated lead reviewer, if one is marked."""
        return next((r for r in self.reviewers if r.is_lead), None)


# --- 4. Support plan -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SupportAction:
    """One action of a support plan; due either by a date or by a half-term."""

    action: str
    owner: str
    success_criteria: str
    rag: Rag
    supporting_school: str | None = None
    due_date: date | None = None
    due_half_term: HalfTerm | None = None
    latest_update: str | None = None
    latest_update_on: date | None = None


@dataclass(frozen=True, slots=True)
class SupportPlanContext:
    """A school's support plan after review: actions with owners, dates and RAG."""

    cycle: str
    school: SchoolRef
    actions: tuple[SupportAction, ...] = ()
    agreed_on: date | None = None
    reviewed_on: date | None = None


# --- 5. Cluster cycle report -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolStatus:
    """One row of the status table: a school and its state in each phase, in column order."""

    school: SchoolRef
    states: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OverdueItem:
    """Work past its deadline: whose, what, when it was due."""

    school: str
    item: str
    due: date
    days_overdue: int


@dataclass(frozen=True, slots=True)
class TriadSummary:
    """A host and the schools visiting it, with the lead reviewer."""

    host: str
    visitors: tuple[str, ...]
    lead: str | None = None
    visit_date: date | None = None


@dataclass(frozen=True, slots=True)
class RagCounts:
    """How many support actions are at each RAG status."""

    red: int = 0
    amber: int = 0
    green: int = 0
    complete: int = 0

    def items(self) -> tuple[tuple[Rag, int], ...]:
        """(status, count) pairs in RAG order."""
        return (
            (Rag.RED, self.red),
            (Rag.AMBER, self.amber),
            (Rag.GREEN, self.green),
            (Rag.COMPLETE, self.complete),
        )

    @property
    def total(self) -> int:
        """All actions counted."""
        return self.red + self.amber + self.green + self.complete


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """Feedback from visits: how many replied, average usefulness, comments worth reading."""

    responses: int = 0
    average_usefulness: float | None = None
    scale_max: int = 5
    notable_comments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterReportContext:
    """The facilitator's report on a cluster's cycle."""

    cluster: str
    cycle: str
    cycle_state: str
    as_of: date
    phases: tuple[str, ...] = ()
    schools: tuple[SchoolStatus, ...] = ()
    overdue: tuple[OverdueItem, ...] = ()
    triads: tuple[TriadSummary, ...] = ()
    rag_counts: RagCounts = field(default_factory=RagCounts)
    feedback: FeedbackSummary = field(default_factory=FeedbackSummary)
    good_practice: tuple[GoodPractice, ...] = ()

    def __post_init__(self) -> None:
        for row in self.schools:
            if len(row.states) != len(self.phases):
                raise ValueError(
                    f"school {row.school.urn} has {len(row.states)} states "
                    f"for {len(self.phases)} phases"
                )


# --- 6. Good-practice directory --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PracticeGroup:
    """The practice entries of one area."""

    area: str
    entries: tuple[GoodPractice, ...]


@dataclass(frozen=True, slots=True)
class PracticeDirectoryContext:
    """Where to go for what: agreed good practice across a cluster, by area."""

    cluster: str
    as_of: date
    entries: tuple[GoodPractice, ...] = ()
    cycle: str | None = None

    def groups(self) -> tuple[PracticeGroup, ...]:
        """Entries grouped by area (areas in first-seen order, entries in given order)."""
        by_area: dict[str, list[GoodPractice]] = {}
        for entry in self.entries:
            by_area.setdefault(entry.area, []).append(entry)
        return tuple(PracticeGroup(area, tuple(items)) for area, items in by_area.items())


# --- calendar invite -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitInviteContext:
    """What a calendar invite for one peer visit needs; sequence is bumped on reschedule."""

    cycle_id: str
    host: SchoolRef
    visit_date: date
    slot: Slot
    organizer: Person
    attendees: tuple[Person, ...] = ()
    sequence: int = 0
    cancelled: bool = False
    location: str | None = None
    description: str | None = None
    start: time | None = None
    end: time | None = None


DocumentContext = (
    SefSummaryContext
    | VisitPackContext
    | WriteupReportContext
    | SupportPlanContext
    | ClusterReportContext
    | PracticeDirectoryContext
)
