"""What Inside Knowledge's services return: frozen dataclasses, in the domain's words.

States come with their words for people (`state_words`); schools with their names; dates as
dates (a page formats them). Nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class TopicView:
    id: int
    code: str
    title: str
    description: str
    phases: tuple[str, ...]  # PhaseKey values; () for every phase
    phases_words: str  # "Primary" or "All phases"


@dataclass(frozen=True)
class StakeholderView:
    email: str
    name: str
    organisation: str


@dataclass(frozen=True)
class ProgrammeView:
    id: int
    name: str
    year: str
    title: str  # "Inside Knowledge 2026-27"
    region_rule: str  # core.knowledge.RegionRule
    region_rule_words: str
    reflection_weeks: int
    reminder_days: int
    workflow: str
    topics: tuple[TopicView, ...] = ()
    stakeholders: tuple[StakeholderView, ...] = ()


@dataclass(frozen=True)
class NominationView:
    id: int
    programme_id: int
    topic_code: str
    topic_title: str
    school_urn: int
    school_name: str
    region: str | None
    nominated_by: str  # the stakeholder's name
    organisation: str
    reason: str
    status: str  # pending | approved | declined
    status_words: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


@dataclass(frozen=True)
class Practitioner:
    """A named practitioner coming on a visit (need not be registered)."""

    name: str
    email: str = ""
    role: str = ""


@dataclass(frozen=True)
class OfferView:
    """An offer as a list or the prospectus shows it."""

    id: int
    programme_id: int
    topic_code: str
    topic_title: str
    title: str
    summary: str  # what visitors will see
    host_urn: int
    host_name: str
    host_town: str | None
    region: str | None
    visit_date: date
    slot: str  # morning | afternoon
    slot_words: str
    phases: tuple[str, ...]
    phases_words: str
    schools_max: int
    practitioners_per_school: int
    places_left: int  # schools
    waiting: int  # schools on the waiting list
    booking_deadline: date
    state: str
    state_words: str
    bookable: bool  # open, before its deadline (a full offer takes the waiting list)
    distance_km: float | None = None  # from the reader's school, when searched by distance


@dataclass(frozen=True)
class QuestionView:
    id: int
    school_urn: int
    school_name: str
    text: str
    asked_at: datetime


@dataclass(frozen=True)
class BookingView:
    id: int
    offer_id: int
    offer_title: str
    host_urn: int
    host_name: str
    visit_date: date
    slot: str
    school_urn: int
    school_name: str
    state: str
    state_words: str
    practitioners: tuple[Practitioner, ...]
    waitlist_position: int | None  # 1 = next to be offered a place; None unless waitlisted
    agenda_acknowledged: bool  # acknowledged the agenda as now published
    requested_by: str
    requested_at: datetime
    questions: tuple[QuestionView, ...] = ()
    reflection_due: date | None = None


@dataclass(frozen=True)
class AgendaView:
    offer_id: int
    text: str  # '' until the host publishes it
    version: int  # 0 until published
    published_at: datetime | None
    questions: tuple[QuestionView, ...]  # proposed by visiting schools
    acknowledged: tuple[tuple[str, bool], ...]  # (school name, acknowledged) per confirmed school


@dataclass(frozen=True)
class OfferDetail:
    """One offer as its page shows it: what anyone may read, plus what the reader may see of
    its bookings (the host and an admin: all; a visiting school: its own)."""

    offer: OfferView
    programme_title: str
    host_postcode: str | None
    agenda: AgendaView | None  # host, admin and booked schools; None for the public
    bookings: tuple[BookingView, ...]  # host and admin: all; a visiting school: its own
    your_booking: BookingView | None
    may_book: bool  # the reader's school may book it now (signed in, eligible, open)
    why_not: str  # why not, in words ('' when it may, or for the public)
    may_manage: bool  # host staff or an admin: publish, hold, agenda, attendance
    allowed: tuple[str, ...] = ()  # offer triggers the reader may fire now
    history: tuple[TransitionView, ...] = ()  # host and admin only


@dataclass(frozen=True)
class TransitionView:
    machine: str
    booking_id: int | None
    school_name: str | None
    from_words: str
    to_words: str
    trigger: str
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class FilterChoices:
    """What a prospectus search form offers."""

    topics: tuple[TopicView, ...]
    regions: tuple[str, ...]
    phases: tuple[tuple[str, str], ...]  # (PhaseKey value, words)


@dataclass(frozen=True)
class ProspectusPage:
    offers: tuple[OfferView, ...]
    total: int
    page: int
    per_page: int
    pages: int
    programme_id: int | None
    programme_title: str
    near_name: str | None  # the school distances are measured from
    choices: FilterChoices


@dataclass(frozen=True)
class FeedbackView:
    id: int
    offer_id: int
    school_urn: int
    school_name: str
    kind: str  # visitor | host | reflection
    rating: int | None
    comment: str
    changed_practice: bool | None
    what_changed: str
    given_at: datetime


@dataclass(frozen=True)
class FeedbackDue:
    """Feedback or a reflection a school owes."""

    offer_id: int
    offer_title: str
    school_urn: int
    school_name: str
    kind: str  # visitor | host | reflection
    due: date


@dataclass(frozen=True)
class QualityRow:
    """One line of the quality report: a host, a topic or the whole programme."""

    label: str
    offers: int
    places_offered: int  # schools x offers published
    places_booked: int  # schools confirmed (and later attended or not)
    waitlisted: int  # schools that joined a waiting list (whether or not a place came free)
    attended: int
    no_shows: int
    visitor_rating: float | None  # mean 1-5 on the day
    host_rating: float | None
    visitor_ratings: int
    reflections: int
    changed: int  # reflections reporting a change in practice
    changed_share: float | None  # changed / reflections


@dataclass(frozen=True)
class ChangeNote:
    host_name: str
    topic_title: str
    school_name: str
    what_changed: str


@dataclass(frozen=True)
class QualityReport:
    programme_id: int
    programme_title: str
    generated_at: datetime
    programme: QualityRow
    by_host: tuple[QualityRow, ...]
    by_topic: tuple[QualityRow, ...]
    changes: tuple[ChangeNote, ...]
    chart_svg: str = ""  # bars: attended and share changed per topic (safe SVG markup)


@dataclass(frozen=True)
class VisitPack:
    """The host's visit pack: the offer, its visitors and their practitioners, the agenda."""

    offer: OfferView
    programme_title: str
    visitors: tuple[BookingView, ...]
    waiting: tuple[BookingView, ...]
    agenda: AgendaView
    generated_at: datetime


@dataclass(frozen=True)
class Document:
    """A rendered document: its file name, media type and bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class MyInsideKnowledge:
    """What a signed-in person has to do in the programme: their school's offers (as host),
    bookings (as visitor), nominations to decide (admin) and feedback owed."""

    school_urn: int | None
    school_name: str | None
    offers: tuple[OfferView, ...] = ()
    bookings: tuple[BookingView, ...] = ()
    pending_nominations: tuple[NominationView, ...] = ()
    approved_topics: tuple[TopicView, ...] = ()  # topics the school may offer visits in
    feedback_due: tuple[FeedbackDue, ...] = field(default_factory=tuple)
    is_admin: bool = False
    is_stakeholder: bool = False
