"""The catalogue of event notices: every event in a cycle that sends a notice, the kind of
notice it is (what a person turns on, off or into their daily digest), whether it is
essential (sent whatever they chose), who it goes to relative to the record it concerns, and
the template that words it (`templates/email/<event>.txt.j2`).

The services queue an event's notices through the outbox in the transaction that makes the
change (`services/notices`); `docs/notices.md` lists them for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from review_engine.core.domain import NoticeKind
from review_engine.core.phases import (
    Part,
    SelfReviewTrigger,
    VisitTrigger,
    WriteUpTrigger,
)


class Audience(StrEnum):
    """Who receives a notice, relative to the school whose record changed (the host)."""

    HOST = "host school"  # the school the record belongs to
    VISITORS = "visiting schools"  # every school in the host's triad
    LEAD_REVIEWER = "lead reviewer"  # the visiting school that writes the write-up
    CO_REVIEWERS = "co-reviewers"  # the visiting schools other than the lead
    SHARED_WITH = "schools it is shared with"  # those a published write-up now reaches
    SUPPORTING_SCHOOL = "supporting school"  # the school supporting an action
    FACILITATOR = "facilitator"  # the cluster's facilitator (a person, not a school)


class Event(StrEnum):
    """An event that sends a notice; the value is the outbox's `notice` and the template's
    name."""

    SEF_SUBMITTED = "sef_submitted"
    SEF_ACCEPTED = "sef_accepted"
    SEF_RETURNED = "sef_returned"
    TRIAD_ASSIGNED = "triad_assigned"
    VISIT_DATED = "visit_dated"
    VISIT_MOVED = "visit_moved"
    VISIT_CANCELLED = "visit_cancelled"
    WRITEUP_TO_AGREE = "writeup_to_agree"
    WRITEUP_TO_AGREE_HOST = "writeup_to_agree_host"
    WRITEUP_RETURNED = "writeup_returned"
    WRITEUP_SHARED = "writeup_shared"
    ACTION_ASSIGNED = "action_assigned"
    ACTION_UPDATED = "action_updated"
    ACTION_NOTE = "action_note"
    PLAN_TO_AGREE = "plan_to_agree"
    FEEDBACK_DUE = "feedback_due"
    REFLECTION_DUE = "reflection_due"

    @property
    def template(self) -> str:
        return f"email/{self.value}.txt.j2"


@dataclass(frozen=True)
class Notice:
    """What the catalogue knows of one event's notice."""

    event: Event
    kind: NoticeKind
    to: tuple[Audience, ...]
    when: str  # when it goes, in words (docs/notices.md)
    essential: bool = False  # sent whatever the person chose; no unsubscribe link

    @property
    def template(self) -> str:
        return self.event.template


E, A, K = Event, Audience, NoticeKind

CATALOGUE: dict[Event, Notice] = {
    n.event: n
    for n in (
        Notice(
            E.SEF_SUBMITTED,
            K.FACILITATOR,
            (A.FACILITATOR,),
            "a school submits its SEF: the facilitator accepts or returns it",
        ),
        Notice(E.SEF_ACCEPTED, K.SEF_DECISIONS, (A.HOST,), "the facilitator accepts the SEF"),
        Notice(
            E.SEF_RETURNED,
            K.SEF_DECISIONS,
            (A.HOST,),
            "the facilitator returns the SEF, with the reason",
        ),
        Notice(
            E.TRIAD_ASSIGNED,
            K.TRIADS,
            (A.HOST, A.VISITORS),
            "a host's visiting schools are assigned or changed",
        ),
        Notice(
            E.VISIT_DATED,
            K.VISITS,
            (A.HOST, A.VISITORS),
            "the visit is dated (with the calendar invite, METHOD:REQUEST)",
        ),
        Notice(
            E.VISIT_MOVED,
            K.VISITS,
            (A.HOST, A.VISITORS),
            "the visit is moved (the invite again, with a higher SEQUENCE)",
        ),
        Notice(
            E.VISIT_CANCELLED,
            K.VISITS,
            (A.HOST, A.VISITORS),
            "the visit is cancelled, with the reason (METHOD:CANCEL if it was dated)",
        ),
        Notice(
            E.WRITEUP_TO_AGREE,
            K.WRITEUPS,
            (A.CO_REVIEWERS,),
            "the lead reviewer drafts the write-up: the co-reviewers read and agree it",
        ),
        Notice(
            E.WRITEUP_TO_AGREE_HOST,
            K.WRITEUPS,
            (A.HOST,),
            "the reviewers have agreed the write-up: the host fact-checks and agrees it",
        ),
        Notice(
            E.WRITEUP_RETURNED,
            K.WRITEUPS,
            (A.LEAD_REVIEWER,),
            "a co-reviewer or the host returns the write-up, with the reason",
        ),
        Notice(
            E.WRITEUP_SHARED,
            K.WRITEUPS,
            (A.SHARED_WITH,),
            "the host publishes the write-up, or its sharing is widened, to the schools it "
            "now reaches",
        ),
        Notice(
            E.ACTION_ASSIGNED,
            K.SUPPORT,
            (A.SUPPORTING_SCHOOL,),
            "a school names yours as the supporting school of a support action",
        ),
        Notice(
            E.ACTION_UPDATED,
            K.SUPPORT,
            (A.SUPPORTING_SCHOOL,),
            "the school updates an action your school supports (RAG and note)",
        ),
        Notice(
            E.ACTION_NOTE,
            K.SUPPORT,
            (A.HOST,),
            "the supporting school adds a note to one of the school's actions",
        ),
        Notice(
            E.PLAN_TO_AGREE,
            K.SUPPORT,
            (A.HOST,),
            "support opens and the school's support plan is still to agree",
        ),
        Notice(
            E.FEEDBACK_DUE,
            K.FEEDBACK,
            (A.HOST, A.VISITORS),
            "the day after the visit, to each school that has not given its feedback; "
            "then weekly while it is overdue",
        ),
        Notice(
            E.REFLECTION_DUE,
            K.FEEDBACK,
            (A.VISITORS,),
            "a week and a day before the reflection is due (six weeks after the visit), "
            "to each visiting school that has not given it; then weekly while overdue",
        ),
    )
}

#: The notices fired transitions send: (part of the machine, trigger) -> event.
ON_TRIGGER: dict[tuple[Part, str], Event] = {
    (Part.SELF_REVIEW, SelfReviewTrigger.SUBMIT): E.SEF_SUBMITTED,
    (Part.SELF_REVIEW, SelfReviewTrigger.ACCEPT): E.SEF_ACCEPTED,
    (Part.SELF_REVIEW, SelfReviewTrigger.RETURN): E.SEF_RETURNED,
    (Part.PEER_VISIT, VisitTrigger.ASSIGN_TRIAD): E.TRIAD_ASSIGNED,
    (Part.PEER_VISIT, VisitTrigger.REASSIGN_TRIAD): E.TRIAD_ASSIGNED,
    (Part.PEER_VISIT, VisitTrigger.SCHEDULE): E.VISIT_DATED,
    (Part.PEER_VISIT, VisitTrigger.RESCHEDULE): E.VISIT_MOVED,
    (Part.PEER_VISIT, VisitTrigger.CANCEL): E.VISIT_CANCELLED,
    (Part.WRITE_UP, WriteUpTrigger.DRAFT): E.WRITEUP_TO_AGREE,
    (Part.WRITE_UP, WriteUpTrigger.REVIEWERS_AGREE): E.WRITEUP_TO_AGREE_HOST,
    (Part.WRITE_UP, WriteUpTrigger.RETURN): E.WRITEUP_RETURNED,
    (Part.WRITE_UP, WriteUpTrigger.PUBLISH): E.WRITEUP_SHARED,
}

#: The state of the cycle's own machine in which support plans are agreed (PLAN_TO_AGREE).
SUPPORT_PHASE = Part.SUPPORT.value


def notice(event: Event | str) -> Notice:
    return CATALOGUE[Event(event)]
