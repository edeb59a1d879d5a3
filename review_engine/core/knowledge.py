"""Inside Knowledge, the pure part: topics, phases, slots, regions, the offer and booking
machines' contract, search filters, distance on the National Grid and capacity arithmetic.

Inside Knowledge is a programme, not a cluster's cycle: stakeholders nominate schools that
excel in a topic, approved hosts publish half-day visit offers in a national prospectus, and
schools in the host's region book places for named practitioners. A programme-kind workflow
(`workflows/inside-knowledge.yaml`) has two machines, `offer` and `booking`; this module
declares the states, triggers and transitions the services rely on, the guard names and the
actors a transition may list, and loading a workflow checks that contract
(`core.workflow`). Nothing here reads the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import StrEnum

from review_engine.core.domain import Slot
from review_engine.errors import InvalidInput

# --- the machines' contract ------------------------------------------------------------------


class RecordScope(StrEnum):
    """What a programme workflow's machine runs on: each visit offer, or each booking."""

    OFFER = "offer"
    BOOKING = "booking"


class ProgrammeActor(StrEnum):
    """Who may fire a programme transition, relative to the offer or booking it concerns."""

    ADMIN = "admin"  # a programme admin (or the operator at the database)
    HOST = "host"  # staff of the host school that made the offer
    VISITOR = "visitor"  # staff of the school that made the booking
    SYSTEM = "system"  # the programme itself: a consequence (a place freed, an offer filled)


class OfferState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    FULL = "full"
    HELD = "held"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OfferTrigger(StrEnum):
    PUBLISH = "publish"
    FILL = "fill"
    REOPEN = "reopen"
    HOLD = "hold"
    RESUME = "resume"
    CLOSE = "close"
    CANCEL = "cancel"


class BookingState(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class BookingTrigger(StrEnum):
    CONFIRM = "confirm"
    WAITLIST = "waitlist"
    OFFER_PLACE = "offer_place"
    ATTEND = "attend"
    NO_SHOW = "no_show"
    CANCEL = "cancel"
    LAPSE = "lapse"  # a waiting school when the offer closes: no place came free


class KnowledgeGuard(StrEnum):
    """Every guard a programme workflow may name; `rules.knowledge_guards` implements each."""

    OFFER_COMPLETE = "offer_complete"  # title, what visitors see, date, places, deadline
    HOST_APPROVED = "host_approved"  # the host's nomination for the topic was approved
    PLACE_LEFT = "place_left"  # fewer schools confirmed than the offer takes
    NO_PLACE_LEFT = "no_place_left"  # every place taken
    BOOKING_OPEN = "booking_open"  # the offer is open and its booking deadline not passed
    SCHOOL_ELIGIBLE = "school_eligible"  # region rule and the offer's phases
    BEFORE_VISIT_DAY = "before_visit_day"
    VISIT_DAY_REACHED = "visit_day_reached"


Edge = tuple[str, str, str]  # trigger, from, to


@dataclass(frozen=True)
class RecordContract:
    """What the services need of the machine running on one kind of record."""

    scope: RecordScope
    label: str
    states: type[StrEnum]
    triggers: type[StrEnum]
    edges: tuple[Edge, ...]


OFFER_CONTRACT = RecordContract(
    scope=RecordScope.OFFER,
    label="visit offer",
    states=OfferState,
    triggers=OfferTrigger,
    edges=(
        (OfferTrigger.PUBLISH, OfferState.DRAFT, OfferState.PUBLISHED),
        (OfferTrigger.FILL, OfferState.PUBLISHED, OfferState.FULL),
        (OfferTrigger.REOPEN, OfferState.FULL, OfferState.PUBLISHED),
        (OfferTrigger.HOLD, OfferState.PUBLISHED, OfferState.HELD),
        (OfferTrigger.HOLD, OfferState.FULL, OfferState.HELD),
        (OfferTrigger.RESUME, OfferState.HELD, OfferState.PUBLISHED),
        (OfferTrigger.CLOSE, OfferState.PUBLISHED, OfferState.CLOSED),
        (OfferTrigger.CLOSE, OfferState.FULL, OfferState.CLOSED),
        (OfferTrigger.CANCEL, OfferState.DRAFT, OfferState.CANCELLED),
        (OfferTrigger.CANCEL, OfferState.PUBLISHED, OfferState.CANCELLED),
        (OfferTrigger.CANCEL, OfferState.FULL, OfferState.CANCELLED),
        (OfferTrigger.CANCEL, OfferState.HELD, OfferState.CANCELLED),
    ),
)
BOOKING_CONTRACT = RecordContract(
    scope=RecordScope.BOOKING,
    label="booking",
    states=BookingState,
    triggers=BookingTrigger,
    edges=(
        (BookingTrigger.CONFIRM, BookingState.REQUESTED, BookingState.CONFIRMED),
        (BookingTrigger.WAITLIST, BookingState.REQUESTED, BookingState.WAITLISTED),
        (BookingTrigger.OFFER_PLACE, BookingState.WAITLISTED, BookingState.CONFIRMED),
        (BookingTrigger.ATTEND, BookingState.CONFIRMED, BookingState.ATTENDED),
        (BookingTrigger.NO_SHOW, BookingState.CONFIRMED, BookingState.NO_SHOW),
        (BookingTrigger.CANCEL, BookingState.REQUESTED, BookingState.CANCELLED),
        (BookingTrigger.CANCEL, BookingState.CONFIRMED, BookingState.CANCELLED),
        (BookingTrigger.CANCEL, BookingState.WAITLISTED, BookingState.CANCELLED),
        (BookingTrigger.LAPSE, BookingState.WAITLISTED, BookingState.CANCELLED),
    ),
)
CONTRACTS: dict[RecordScope, RecordContract] = {
    RecordScope.OFFER: OFFER_CONTRACT,
    RecordScope.BOOKING: BOOKING_CONTRACT,
}


def contract_gaps(contract: RecordContract, states: set[str], edges: set[Edge]) -> list[str]:
    """What a machine lacks of its contract, in words ([] when it has everything)."""
    gaps = [f"state {s}" for s in contract.states if s.value not in states]
    gaps += [f"{t} from {a} to {b}" for t, a, b in contract.edges if (t, a, b) not in edges]
    return gaps


OFFER_STATE_WORDS: dict[str, str] = {
    OfferState.DRAFT: "Draft (not yet in the prospectus)",
    OfferState.PUBLISHED: "Open for booking",
    OfferState.FULL: "Full (waiting list open)",
    OfferState.HELD: "On hold",
    OfferState.CLOSED: "Closed",
    OfferState.CANCELLED: "Cancelled",
}
BOOKING_STATE_WORDS: dict[str, str] = {
    BookingState.REQUESTED: "Requested",
    BookingState.CONFIRMED: "Confirmed",
    BookingState.WAITLISTED: "On the waiting list",
    BookingState.ATTENDED: "Attended",
    BookingState.NO_SHOW: "Did not attend",
    BookingState.CANCELLED: "Cancelled",
}
#: Offers a reader of the prospectus sees (a held, draft or cancelled offer is not shown).
LISTED_OFFER_STATES = (OfferState.PUBLISHED, OfferState.FULL)
#: Bookings that hold a place or a turn on the waiting list.
ACTIVE_BOOKING_STATES = (BookingState.REQUESTED, BookingState.CONFIRMED, BookingState.WAITLISTED)


def offer_state_words(state: str) -> str:
    return OFFER_STATE_WORDS.get(state, state.replace("_", " "))


def booking_state_words(state: str) -> str:
    return BOOKING_STATE_WORDS.get(state, state.replace("_", " "))


# --- topics, phases, regions, slots ----------------------------------------------------------


class PhaseKey(StrEnum):
    """The phases an offer can suit (from GIAS PhaseOfEducation, grouped)."""

    NURSERY = "nursery"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    POST16 = "post16"
    SPECIAL = "special"
    ALTERNATIVE_PROVISION = "alternative_provision"


PHASE_WORDS: dict[PhaseKey, str] = {
    PhaseKey.NURSERY: "Nursery",
    PhaseKey.PRIMARY: "Primary",
    PhaseKey.SECONDARY: "Secondary",
    PhaseKey.ALL_THROUGH: "All-through",
    PhaseKey.POST16: "16 plus",
    PhaseKey.SPECIAL: "Special",
    PhaseKey.ALTERNATIVE_PROVISION: "Alternative provision",
}
_GIAS_PHASES: dict[str, PhaseKey] = {
    "nursery": PhaseKey.NURSERY,
    "primary": PhaseKey.PRIMARY,
    "middle deemed primary": PhaseKey.PRIMARY,
    "secondary": PhaseKey.SECONDARY,
    "middle deemed secondary": PhaseKey.SECONDARY,
    "16 plus": PhaseKey.POST16,
    "all-through": PhaseKey.ALL_THROUGH,
    "special": PhaseKey.SPECIAL,
    "alternative provision": PhaseKey.ALTERNATIVE_PROVISION,
}


def school_phase(gias_phase: str | None) -> PhaseKey | None:
    """A school's phase key from its GIAS phase (None when GIAS gives none we know)."""
    if not gias_phase:
        return None
    return _GIAS_PHASES.get(" ".join(gias_phase.split()).casefold())


def fits_phases(gias_phase: str | None, phases: Iterable[str]) -> bool:
    """Whether a school of this GIAS phase may visit an offer suiting `phases`: an all-through
    school fits a primary or a secondary offer too; an offer for every phase lists none."""
    wanted = set(phases)
    if not wanted:
        return True
    key = school_phase(gias_phase)
    if key is None:
        return False
    if key is PhaseKey.ALL_THROUGH:
        return bool(wanted & {PhaseKey.ALL_THROUGH, PhaseKey.PRIMARY, PhaseKey.SECONDARY})
    return key in wanted


def parse_phases(text: str | Iterable[str] | None) -> tuple[PhaseKey, ...]:
    """Phases from 'primary,secondary' (or a list), in their canonical order; words accepted."""
    if text is None:
        return ()
    items = text.split(",") if isinstance(text, str) else list(text)
    found: set[PhaseKey] = set()
    for raw in items:
        word = " ".join(raw.split()).casefold().replace("-", " ").replace(" ", "_")
        if not word:
            continue
        aliases = {"all_through": "all_through", "16_plus": "post16", "post_16": "post16"}
        word = aliases.get(word, word)
        try:
            found.add(PhaseKey(word))
        except ValueError:
            raise InvalidInput(
                f"phase {raw.strip()!r}: one of {', '.join(p.value for p in PhaseKey)}"
            ) from None
    return tuple(p for p in PhaseKey if p in found)


def phases_text(phases: Iterable[str]) -> str:
    """Stored form: comma-separated keys ('' for every phase)."""
    return ",".join(p for p in PhaseKey if p in set(phases))


def phases_words(phases: Iterable[str]) -> str:
    keys = [PhaseKey(p) for p in PhaseKey if p in set(phases)]
    return ", ".join(PHASE_WORDS[k] for k in keys) if keys else "All phases"


def split_phases(stored: str | None) -> tuple[PhaseKey, ...]:
    return parse_phases(stored or "")


#: England's government office regions, as GIAS names them (`GOR (name)`).
REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)


class RegionRule(StrEnum):
    """Which offers a school may book: only its own region's (the first round's rule), or any."""

    OWN_REGION = "own_region"
    ANYWHERE = "anywhere"


REGION_RULE_WORDS = {
    RegionRule.OWN_REGION: "schools book visits in their own region",
    RegionRule.ANYWHERE: "schools book visits in any region",
}


def may_book_region(rule: str, school_region: str | None, offer_region: str | None) -> bool:
    if rule == RegionRule.ANYWHERE:
        return True
    return bool(school_region) and school_region == offer_region


SLOT_TIMES: dict[Slot, tuple[time, time]] = {
    Slot.MORNING: (time(9, 0), time(12, 30)),
    Slot.AFTERNOON: (time(13, 0), time(16, 0)),
}
SLOT_WORDS = {Slot.MORNING: "Morning (9:00 to 12:30)", Slot.AFTERNOON: "Afternoon (13:00 to 16:00)"}


def parse_slot(text: str) -> Slot:
    try:
        return Slot(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"slot {text!r}: morning or afternoon") from None


@dataclass(frozen=True)
class TopicSeed:
    code: str
    title: str
    phases: tuple[PhaseKey, ...] = ()
    description: str = ""


#: The five topics of the first round.
FIRST_ROUND_TOPICS: tuple[TopicSeed, ...] = (
    TopicSeed("disadvantaged", "Narrowing the gap for disadvantaged pupils"),
    TopicSeed("sustainability", "Sustainability"),
    TopicSeed("assessment", "Effective use of assessment data for pupil progress"),
    TopicSeed("ks2-writing", "Pupils' writing at Key Stage 2", (PhaseKey.PRIMARY,)),
    TopicSeed("budgets", "Managing school budgets for best value"),
)

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def check_code(code: str, what: str = "topic code") -> str:
    """A short code: lower-case letters, digits and hyphens (e.g. ks2-writing)."""
    code = code.strip().lower()
    if not _CODE.match(code):
        raise InvalidInput(
            f"{what} {code!r}: use lower-case letters, digits and hyphens, up to 40 (ks2-writing)"
        )
    return code


# --- capacity --------------------------------------------------------------------------------


def places_left(schools_max: int, taken: int) -> int:
    return max(0, schools_max - taken)


def check_places(schools: int, practitioners: int) -> None:
    """Places are schools x practitioners per school: a half-day visit takes 1-20 schools
    (about seven is usual) of 1-6 practitioners each (usually two)."""
    if not 1 <= schools <= 20:
        raise InvalidInput(f"places: {schools} schools; a visit takes 1 to 20 visiting schools")
    if not 1 <= practitioners <= 6:
        raise InvalidInput(
            f"places: {practitioners} practitioners per school; between 1 and 6 may come"
        )


def check_offer_dates(*, visit_date: date, deadline: date, today: date) -> None:
    if visit_date <= today:
        raise InvalidInput(f"the visit date {visit_date:%d %b %Y} has passed or is today")
    if visit_date.weekday() >= 5:
        raise InvalidInput(f"{visit_date:%A %d %b %Y} is a weekend; visits are on school days")
    if deadline >= visit_date:
        raise InvalidInput("the booking deadline must be before the visit date")
    if deadline < today:
        raise InvalidInput(f"the booking deadline {deadline:%d %b %Y} has passed")


def reflection_due(visit_date: date, weeks: int) -> date:
    """When a visitor's reflection on what they changed is due."""
    return visit_date + timedelta(weeks=weeks)


def check_reflection_weeks(weeks: int) -> int:
    if not 1 <= weeks <= 52:
        raise InvalidInput(f"reflection after {weeks} weeks: between 1 and 52")
    return weeks


def check_rating(rating: int) -> int:
    if not 1 <= rating <= 5:
        raise InvalidInput(f"rating {rating}: from 1 (not useful) to 5 (very useful)")
    return rating


# --- distance --------------------------------------------------------------------------------


def distance_km(e1: int, n1: int, e2: int, n2: int) -> float:
    """Straight-line distance between two National Grid points (metres) in kilometres."""
    return math.hypot(e1 - e2, n1 - n2) / 1000.0


def bounding_box(easting: int, northing: int, km: float) -> tuple[int, int, int, int]:
    """(min easting, max easting, min northing, max northing) of a square around a point: an
    index can narrow to it before the exact distance is checked."""
    metres = math.ceil(km * 1000)
    return easting - metres, easting + metres, northing - metres, northing + metres


# --- search ----------------------------------------------------------------------------------

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_TERMS = 6
MAX_KM = 1000.0
MAX_PAGE = 10_000
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


def normalise_postcode(text: str) -> str | None:
    """'m1  1aa' -> 'M1 1AA'; None when it is not a UK postcode."""
    found = _POSTCODE.match(" ".join(text.upper().split()))
    return f"{found.group(1)} {found.group(2)}" if found else None


def search_terms(text: str | None) -> tuple[str, ...]:
    """Free text as lower-case words (each must appear); at most MAX_TERMS, each 2+ letters."""
    if not text:
        return ()
    words = [w for w in re.split(r"[^\w']+", text.casefold()) if len(w) >= 2]
    return tuple(dict.fromkeys(words))[:MAX_TERMS]


def search_text(*parts: str | None) -> str:
    """What free-text search matches against, stored with each offer: lower case, one line."""
    return " ".join(" ".join((p or "").casefold().split()) for p in parts if p)


@dataclass(frozen=True)
class ProspectusQuery:
    """A search of the public prospectus. Every filter is optional; `near` is a URN or the
    postcode of a known school, and orders results by distance (within `within_km` if given)."""

    programme: str | None = None  # the programme's name; None: the newest
    topic: str | None = None  # a topic code
    region: str | None = None
    phase: str | None = None  # a PhaseKey value
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    near: str | None = None
    within_km: float | None = None
    include_full: bool = True
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def checked(self) -> ProspectusQuery:
        """The query, or InvalidInput naming the first bad filter."""
        if not 1 <= self.page <= MAX_PAGE:
            raise InvalidInput(f"page {self.page}: pages run from 1 to {MAX_PAGE:,}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInput(f"{self.per_page} per page: between 1 and {MAX_PER_PAGE}")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise InvalidInput("the date range ends before it starts")
        if self.region and self.region not in REGIONS:
            raise InvalidInput(f"region {self.region!r}: one of {', '.join(REGIONS)}")
        if self.phase:
            parse_phases(self.phase)
        if self.within_km is not None:
            if not 0 < self.within_km <= MAX_KM:
                raise InvalidInput(f"within {self.within_km} km: between 0 and {MAX_KM:.0f}")
            if not self.near:
                raise InvalidInput("a distance needs a school to measure from (URN or postcode)")
        return self


@dataclass(frozen=True)
class Page:
    """Which rows a page shows."""

    page: int
    per_page: int
    total: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", max(1, -(-self.total // self.per_page)))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def average(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
