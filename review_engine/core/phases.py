"""The phase contract: which part a workflow machine plays, and what each part needs of it.

A content module (self-review, peer visit, write-up, support) works on the machine of a
workflow that plays its part, found by the machine's name or an explicit `role:`. It relies
on the states and triggers declared here as enums, and on the transitions between them, so a
workflow that claims a part but lacks any of them is refused when it loads, naming the machine,
the part and what is missing. Guards belong to parts too: a guard that reads a write-up may only
sit on the machine that plays the write-up part.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Part(StrEnum):
    """The parts a per-school machine can play; the value is the default machine name."""

    SELF_REVIEW = "self_review"
    PEER_VISIT = "peer_visit"
    WRITE_UP = "write_up"
    SUPPORT = "support"


class SelfReviewState(StrEnum):
    NOT_STARTED = "not_started"
    DRAFTING = "drafting"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class SelfReviewTrigger(StrEnum):
    START = "start"
    SUBMIT = "submit"
    ACCEPT = "accept"
    RETURN = "return"
    REDRAFT = "redraft"


class VisitState(StrEnum):
    AWAITING_TRIAD = "awaiting_triad"
    TRIAD_ASSIGNED = "triad_assigned"
    FOCUS_AGREED = "focus_agreed"
    SCHEDULED = "scheduled"
    VISITED = "visited"
    CANCELLED = "cancelled"


class VisitTrigger(StrEnum):
    ASSIGN_TRIAD = "assign_triad"
    REASSIGN_TRIAD = "reassign_triad"
    AGREE_FOCUS = "agree_focus"
    SCHEDULE = "schedule"
    RESCHEDULE = "reschedule"
    COMPLETE = "complete"
    CANCEL = "cancel"


class WriteUpState(StrEnum):
    AWAITING_DRAFT = "awaiting_draft"
    DRAFTED = "drafted"
    REVIEWERS_AGREED = "reviewers_agreed"
    HOST_AGREED = "host_agreed"
    PUBLISHED = "published"


class WriteUpTrigger(StrEnum):
    DRAFT = "draft"
    REVIEWERS_AGREE = "reviewers_agree"
    HOST_AGREE = "host_agree"
    RETURN = "return"
    PUBLISH = "publish"


class SupportState(StrEnum):
    AWAITING_PLAN = "awaiting_plan"
    PLAN_AGREED = "plan_agreed"
    IN_PROGRESS = "in_progress"
    IMPACT_REVIEWED = "impact_reviewed"
    CLOSED = "closed"


class SupportTrigger(StrEnum):
    AGREE_PLAN = "agree_plan"
    START = "start"
    REVIEW_IMPACT = "review_impact"
    CLOSE = "close"


class GuardName(StrEnum):
    """Every guard a workflow file may name; `review_engine.rules.guards` implements each."""

    SEF_COMPLETE = "sef_complete"
    TRIAD_FORMED = "triad_formed"
    FOCUS_SET = "focus_set"
    VISIT_DATED = "visit_dated"
    VISIT_DAY_REACHED = "visit_day_reached"
    VISIT_HAPPENED = "visit_happened"
    DRAFT_WRITTEN = "draft_written"
    REVIEWERS_AGREED = "reviewers_agreed"
    HOST_AGREED = "host_agreed"
    SHARING_CHOSEN = "sharing_chosen"
    ACTIONS_CLOSED = "actions_closed"


Edge = tuple[str, str, str]  # trigger, from, to


@dataclass(frozen=True)
class PhaseContract:
    """What a part needs of the machine that plays it."""

    part: Part
    label: str  # the part in words, for people: "write-up"
    states: type[StrEnum]
    triggers: type[StrEnum]
    edges: tuple[Edge, ...]
    guards: frozenset[GuardName]  # guards that read this part's records


def _edges(*rows: tuple[StrEnum, StrEnum, StrEnum]) -> tuple[Edge, ...]:
    return tuple((str(t), str(a), str(b)) for t, a, b in rows)


S, ST = SelfReviewState, SelfReviewTrigger
V, VT = VisitState, VisitTrigger
W, WT = WriteUpState, WriteUpTrigger
P, PT = SupportState, SupportTrigger

CONTRACTS: dict[Part, PhaseContract] = {
    Part.SELF_REVIEW: PhaseContract(
        Part.SELF_REVIEW,
        "self-review",
        SelfReviewState,
        SelfReviewTrigger,
        _edges(
            (ST.START, S.NOT_STARTED, S.DRAFTING),
            (ST.SUBMIT, S.DRAFTING, S.SUBMITTED),
            (ST.ACCEPT, S.SUBMITTED, S.ACCEPTED),
            (ST.RETURN, S.SUBMITTED, S.RETURNED),
            (ST.REDRAFT, S.RETURNED, S.DRAFTING),
        ),
        frozenset({GuardName.SEF_COMPLETE}),
    ),
    Part.PEER_VISIT: PhaseContract(
        Part.PEER_VISIT,
        "peer visit",
        VisitState,
        VisitTrigger,
        _edges(
            (VT.ASSIGN_TRIAD, V.AWAITING_TRIAD, V.TRIAD_ASSIGNED),
            (VT.REASSIGN_TRIAD, V.TRIAD_ASSIGNED, V.TRIAD_ASSIGNED),
            (VT.AGREE_FOCUS, V.TRIAD_ASSIGNED, V.FOCUS_AGREED),
            (VT.SCHEDULE, V.FOCUS_AGREED, V.SCHEDULED),
            (VT.RESCHEDULE, V.SCHEDULED, V.SCHEDULED),
            (VT.COMPLETE, V.SCHEDULED, V.VISITED),
            (VT.CANCEL, V.SCHEDULED, V.CANCELLED),
        ),
        frozenset(
            {
                GuardName.TRIAD_FORMED,
                GuardName.FOCUS_SET,
                GuardName.VISIT_DATED,
                GuardName.VISIT_DAY_REACHED,
            }
        ),
    ),
    Part.WRITE_UP: PhaseContract(
        Part.WRITE_UP,
        "write-up",
        WriteUpState,
        WriteUpTrigger,
        _edges(
            (WT.DRAFT, W.AWAITING_DRAFT, W.DRAFTED),
            (WT.REVIEWERS_AGREE, W.DRAFTED, W.REVIEWERS_AGREED),
            (WT.HOST_AGREE, W.REVIEWERS_AGREED, W.HOST_AGREED),
            (WT.RETURN, W.DRAFTED, W.DRAFTED),
            (WT.RETURN, W.REVIEWERS_AGREED, W.DRAFTED),
            (WT.PUBLISH, W.HOST_AGREED, W.PUBLISHED),
        ),
        frozenset(
            {
                GuardName.DRAFT_WRITTEN,
                GuardName.REVIEWERS_AGREED,
                GuardName.HOST_AGREED,
                GuardName.SHARING_CHOSEN,
            }
        ),
    ),
    Part.SUPPORT: PhaseContract(
        Part.SUPPORT,
        "support",
        SupportState,
        SupportTrigger,
        _edges(
            (PT.AGREE_PLAN, P.AWAITING_PLAN, P.PLAN_AGREED),
            (PT.START, P.PLAN_AGREED, P.IN_PROGRESS),
            (PT.REVIEW_IMPACT, P.IN_PROGRESS, P.IMPACT_REVIEWED),
            (PT.CLOSE, P.IMPACT_REVIEWED, P.CLOSED),
        ),
        frozenset({GuardName.ACTIONS_CLOSED}),
    ),
}

# Guards that read another part's state (the write-up's draft needs the visit to have happened).
GUARD_NEEDS: dict[GuardName, Part] = {GuardName.VISIT_HAPPENED: Part.PEER_VISIT}


def part_of_guard(name: str) -> Part | None:
    """The part whose records a guard reads (None for a guard any machine may use)."""
    for contract in CONTRACTS.values():
        if name in contract.guards:
            return contract.part
    return None


def missing(contract: PhaseContract, states: set[str], edges: set[Edge]) -> list[str]:
    """What a machine lacks to play a part: states, then transitions (trigger from -> to)."""
    lacks = [f"state {s}" for s in contract.states if s.value not in states]
    lacks += [f"transition {t} {a} -> {b}" for t, a, b in contract.edges if (t, a, b) not in edges]
    return lacks


# --- the states in people's words --------------------------------------------------------------

#: Each part's states as a head teacher would say them; the one place documents take them from
#: (a state a workflow adds beyond its part's is shown from its name, see `state_words`).
STATE_WORDS: dict[Part, dict[str, str]] = {
    Part.SELF_REVIEW: {
        S.NOT_STARTED: "Not started",
        S.DRAFTING: "Being drafted",
        S.SUBMITTED: "Submitted: to accept or return",
        S.RETURNED: "Returned to the school",
        S.ACCEPTED: "Accepted",
    },
    Part.PEER_VISIT: {
        V.AWAITING_TRIAD: "Waiting for the triad",
        V.TRIAD_ASSIGNED: "Triad formed: focus to choose",
        V.FOCUS_AGREED: "Focus chosen: day to pick",
        V.SCHEDULED: "Visit booked",
        V.VISITED: "Visit held",
        V.CANCELLED: "Cancelled",
    },
    Part.WRITE_UP: {
        W.AWAITING_DRAFT: "Waiting for the draft",
        W.DRAFTED: "Drafted: reviewers to agree",
        W.REVIEWERS_AGREED: "Reviewers agreed: host to agree",
        W.HOST_AGREED: "Host agreed: to publish",
        W.PUBLISHED: "Published",
    },
    Part.SUPPORT: {
        P.AWAITING_PLAN: "No plan yet",
        P.PLAN_AGREED: "Plan agreed",
        P.IN_PROGRESS: "Under way",
        P.IMPACT_REVIEWED: "Impact reviewed",
        P.CLOSED: "Closed",
    },
}

#: The cycle's phases (the default workflow's cycle machine) as a facilitator says them.
CYCLE_WORDS: dict[str, str] = {
    "planned": "Not started yet",
    "self_review": "Self-review",
    "peer_review": "Peer visits",
    "write_up": "Write-ups",
    "support": "Support",
    "closed": "Closed",
    "cancelled": "Cancelled",
}


#: What a trigger did, as history shows it to a person.
TRIGGER_WORDS: dict[str, str] = {
    "start": "Started",
    "open_self_review": "Self-review opened",
    "open_peer_review": "Peer visits opened",
    "open_write_up": "Write-ups opened",
    "open_support": "Support opened",
    "close": "Closed",
    "cancel": "Cancelled",
    "submit": "Submitted",
    "accept": "Accepted",
    "return": "Returned",
    "redraft": "Redrafting started",
    "assign_triad": "Visitors assigned",
    "reassign_triad": "Visitors changed",
    "agree_focus": "Focus agreed",
    "schedule": "Visit dated",
    "reschedule": "Visit moved",
    "complete": "Visit held",
    "draft": "Write-up drafted",
    "reviewers_agree": "Agreed by the reviewers",
    "host_agree": "Agreed by the host",
    "publish": "Published",
    "agree_plan": "Support plan agreed",
    "review_impact": "Impact reviewed",
    "mark_overdue": "Marked overdue",
    "move_deadline": "Deadline moved",
}


def as_words(name: str) -> str:
    """A name a workflow file gave (a state, a machine) as words: "impact_reviewed" ->
    "Impact reviewed"."""
    return name.replace("_", " ").strip().capitalize()


def state_words(part: Part | None, state: str) -> str:
    """A per-school state in words: its part's words, else its name as words; "" stays ""."""
    if not state:
        return ""
    return STATE_WORDS.get(part, {}).get(state, as_words(state)) if part else as_words(state)


def cycle_words(state: str) -> str:
    """The cycle's state in words: "peer_review" -> "Peer visits"."""
    return CYCLE_WORDS.get(state, as_words(state))


def any_state_words(state: str) -> str:
    """A per-school state in words when its part is not at hand (states of the contract's
    parts have distinct names, but for the final ones every part shares)."""
    for words in STATE_WORDS.values():
        if state in words:
            return words[state]
    return as_words(state)


def trigger_words(trigger: str) -> str:
    """What a trigger did, in words: "agree_focus" -> "Focus agreed"."""
    return TRIGGER_WORDS.get(trigger, as_words(trigger))
