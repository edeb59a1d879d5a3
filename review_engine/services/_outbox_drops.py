"""Which queued messages are no longer worth sending, decided when a sender claims them (so a
message that waited, failed or was retried is judged as of the moment it would go out):

- a reminder about work now done, or whose moment has passed ("due in 7 days" once the due
  date is tomorrow or gone: the next reminder of the series follows instead), and the same
  for feedback and reflections due;
- a visit reminder after the visit day, or for a visit held, moved or no longer planned;
- anything about a support action that is complete, whose school's support plan is closed,
  or a plan to agree that has been agreed since;
- any of these in a cycle that is closed or cancelled.

Other notices (a SEF returned, a visit cancelled with its CANCEL invite...) report an event
that happened and always go. A sign-in link is about no work: it goes unless it lapsed before
it could be sent (the server refused it until then). Set-based: a fixed number of queries per
claimed batch, however many messages it holds.

The dedupe keys read here are written by `_due_work` (`cycle:urn:item:[date:]kind>email`)
and `notices` (`event:cycle:urn[:occasion]>email`; an action's occasion is `#N:...`,
feedback's and reflections' `URN:kind`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from review_engine.clock import as_utc
from review_engine.core.domain import Rag
from review_engine.core.notices import Event
from review_engine.core.phases import Part, VisitState, cycle_words
from review_engine.core.workflow import WorkflowDef
from review_engine.services._compiled import compiled_for
from review_engine.services._due_work import OpenCycle, owed_work
from review_engine.services._visit_reminders import VISIT_ITEM
from review_engine.store.batch import in_
from review_engine.store.models import Cycle, Review, ReviewState
from review_engine.store.phase_tables import Feedback, SupportAction, VisitPlan
from review_engine.store.schedule_tables import OutboxMessage

REMINDER = "reminder"  # OutboxMessage.notice of the tick's reminders ("" before notices had one)
ACTION_ITEM = "action#"  # + the action's number, on the tick's reminders of an action
DROPPED = "dropped: "  # how last_error starts on a dropped message; the reason follows
_KIND = re.compile(r"(due|overdue)-\d+")
ACTION_EVENTS = {Event.ACTION_ASSIGNED, Event.ACTION_UPDATED, Event.ACTION_NOTE}
FEEDBACK_EVENTS = {Event.FEEDBACK_DUE: "immediate", Event.REFLECTION_DUE: "reflection"}

WORK_DONE = "the work was done before it was sent"
FEEDBACK_GIVEN = "the feedback was given before it was sent"
VISIT_PASSED = "the visit day had passed"
VISIT_CHANGED = "the visit was held, moved or cancelled since"
ACTION_COMPLETE = "the support action is complete"
PLAN_CLOSED = "the school's support plan is closed"
PLAN_AGREED = "the support plan was agreed before it was sent"
LINK_LAPSED = "the sign-in link had lapsed before it could be sent"


@dataclass(frozen=True)
class _About:
    """What a watched message is about, read from its dedupe key."""

    family: str  # reminder, visit, action, plan or feedback
    kind: str | None = None  # the reminder of its series: due-7, due-1, overdue-N
    day: str | None = None  # a visit reminder's visit day (ISO)
    action: str | None = None  # a support action's number
    owed: str | None = None  # feedback's owed item as the tick names it (immediate@URN)
    giver: int | None = None  # the school that owes the feedback


def is_dropped(m: OutboxMessage) -> bool:
    return bool(m.last_error and m.last_error.startswith(DROPPED.rstrip()))


def about(m: OutboxMessage) -> _About | None:
    """What `m` is about when it is one the sender judges, else None (it always goes)."""
    if m.cycle_id is None:
        return None
    fields = m.dedupe_key.split(">", 1)[0].split(":")
    if m.notice in (REMINDER, ""):
        if len(fields) < 4 or not _KIND.fullmatch(fields[-1]):
            return None
        if m.item.startswith(VISIT_ITEM):
            return _About("visit", fields[-1], day=fields[3] if len(fields) >= 5 else None)
        number = m.item.removeprefix(ACTION_ITEM) if m.item.startswith(ACTION_ITEM) else None
        return _About("reminder", fields[-1], action=number)
    if m.notice in ACTION_EVENTS and len(fields) >= 4 and fields[3].startswith("#"):
        return _About("action", action=fields[3].removeprefix("#"))
    if m.notice == Event.PLAN_TO_AGREE:
        return _About("plan")
    feedback = m.notice in FEEDBACK_EVENTS and len(fields) >= 5 and fields[3].isdigit()
    if feedback and _KIND.fullmatch(fields[4]):
        owed = f"{FEEDBACK_EVENTS[Event(m.notice)]}@{fields[3]}"
        return _About("feedback", fields[4], owed=owed, giver=int(fields[3]))
    return None


def why_dropped(
    session: Session, pending: list[OutboxMessage], today: date, now: datetime | None = None
) -> dict[int, str]:
    """The reason, in words, not to send each of `pending` that should not go (by row id), as
    of `today` (London); given `now`, sign-in links that lapsed meanwhile too."""
    from review_engine.services.signin import LINK_LIFETIME, SIGNIN_ITEM  # it imports the outbox

    lapsed = {
        m.id: LINK_LAPSED
        for m in pending
        if now is not None
        and m.id is not None
        and m.item == SIGNIN_ITEM
        and as_utc(m.created_at) + LINK_LIFETIME <= now
    }
    watched = {m.id: (m, a) for m in pending if m.id is not None and (a := about(m)) is not None}
    if not watched:
        return lapsed
    return lapsed | _about_work(session, watched, today)


def _about_work(
    session: Session, watched: dict[int, tuple[OutboxMessage, _About]], today: date
) -> dict[int, str]:
    """The reasons not to send messages about a cycle's work, as of `today` (London)."""
    cycle_ids = sorted({m.cycle_id for m, _ in watched.values() if m.cycle_id is not None})
    cycles = {c.id: c for c in session.exec(select(Cycle).where(in_(session, Cycle.id, cycle_ids)))}
    definitions = {cid: compiled_for(session, c).definition for cid, c in cycles.items()}
    closed = {
        cid: f"the cycle is {cycle_words(c.state).lower()}"
        for cid, c in cycles.items()
        if c.state in definitions[cid].cycle_machine.final
    }
    open_ids = [c for c in cycle_ids if c not in closed]
    urns = sorted({m.school_urn for m, _ in watched.values() if m.school_urn is not None})
    families = {a.family for _, a in watched.values()}
    states = _states(session, open_ids, urns)
    complete = (
        _complete_actions(session, open_ids, urns) if families & {"action", "reminder"} else set()
    )
    visit_days = _visit_days(session, open_ids, urns) if "visit" in families else {}
    given = _feedback_given(session, open_ids, urns) if "feedback" in families else set()
    due: dict[tuple[int, int | None, str], date] = {}
    if families & {"reminder", "feedback"}:
        opened = {
            cid: OpenCycle(cid, c.cluster_id, c.academic_year, c.workflow_hash, c.state)
            for cid, c in cycles.items()
            if cid in open_ids and cid is not None
        }
        due = {(o.cycle_id, o.urn, o.item): o.due for o in owed_work(session, opened, today)}
    reasons: dict[int, str] = {}
    for row_id, (m, a) in watched.items():
        assert m.cycle_id is not None
        if m.cycle_id in closed:
            reasons[row_id] = closed[m.cycle_id]
            continue
        definition = definitions[m.cycle_id]
        machines = states.get((m.cycle_id, m.school_urn), {})
        reason = _support_reason(a, m, definition, machines, complete)
        if reason is None and a.family == "reminder":
            reason = _reminder_reason(m, a, definition, machines, due, today)
        elif reason is None and a.family == "visit":
            reason = _visit_reason(m, a, definition, machines, visit_days, today)
        elif reason is None and a.family == "feedback":
            reason = _feedback_reason(m, a, given, due, today)
        if reason is not None:
            reasons[row_id] = reason
    return reasons


def _support_reason(
    a: _About,
    m: OutboxMessage,
    definition: WorkflowDef,
    machines: dict[str, str],
    complete: set[tuple[int, int, str]],
) -> str | None:
    """A closed plan, a completed action, or a plan to agree that was agreed."""
    if a.family not in ("action", "plan") and a.action is None:
        return None
    support = definition.parts.get(Part.SUPPORT)
    state = machines.get(support.name) if support is not None else None
    if support is not None and state in support.final:
        return PLAN_CLOSED
    if a.family == "plan":
        agreed = support is not None and state is not None and state != support.initial
        return PLAN_AGREED if agreed else None
    if (m.cycle_id, m.school_urn, a.action) in complete:
        return ACTION_COMPLETE
    return None


def _visit_reason(
    m: OutboxMessage,
    a: _About,
    definition: WorkflowDef,
    machines: dict[str, str],
    visit_days: dict[tuple[int, int | None], str],
    today: date,
) -> str | None:
    if a.day is not None and a.day < today.isoformat():
        return VISIT_PASSED
    visit = definition.parts.get(Part.PEER_VISIT)
    scheduled = visit is None or machines.get(visit.name) == VisitState.SCHEDULED
    assert m.cycle_id is not None and a.kind is not None
    if a.day is None or not scheduled or visit_days.get((m.cycle_id, m.school_urn)) != a.day:
        return VISIT_CHANGED
    return moment_passed(a.kind, date.fromisoformat(a.day), today)


def _reminder_reason(
    m: OutboxMessage,
    a: _About,
    definition: WorkflowDef,
    machines: dict[str, str],
    due: dict[tuple[int, int | None, str], date],
    today: date,
) -> str | None:
    spec = definition.deadlines.get(m.item)
    if spec is not None and machines.get(m.item) in set(spec.get("done", ())):
        return WORK_DONE
    assert m.cycle_id is not None and a.kind is not None
    when = due.get((m.cycle_id, m.school_urn, m.item))
    if when is None:  # not due within a week (a clock set back), or work the tick does not know
        return None
    return moment_passed(a.kind, when, today)


def _feedback_reason(
    m: OutboxMessage,
    a: _About,
    given: set[tuple[int, int | None, int, str]],
    due: dict[tuple[int, int | None, str], date],
    today: date,
) -> str | None:
    assert m.cycle_id is not None and a.owed is not None and a.kind is not None
    assert a.giver is not None
    if (m.cycle_id, m.school_urn, a.giver, a.owed.split("@")[0]) in given:
        return FEEDBACK_GIVEN
    when = due.get((m.cycle_id, m.school_urn, a.owed))
    return moment_passed(a.kind, when, today) if when is not None else None


def moment_passed(kind: str, due: date, today: date) -> str | None:
    """Why a reminder of `kind` ("due-7", "due-1", "overdue-N", see `reminder_kind`) about
    work due on `due` is stale today, or None while it still holds. A reminder sent early
    still holds; one whose successor in the series is owed does not."""
    name, _, number = kind.partition("-")
    days, n = (due - today).days, int(number)
    on = f"{due:%d %b %Y}"
    if name == "due":
        if days < 0:
            return f"its moment had passed (due {on}): the overdue reminder follows"
        if n > 1 and days <= 1:
            return f"its moment had passed (due {on}): the reminder of the day before follows"
        return None
    if days >= 0:
        return f"it is no longer overdue (now due {on})"
    if (-days - 1) // 7 > n:
        return f"its moment had passed (due {on}): a later overdue reminder replaces it"
    return None


def _states(
    session: Session, cycle_ids: list[int], urns: list[int]
) -> dict[tuple[int, int | None], dict[str, str]]:
    """Each (cycle, school)'s state of every machine, for the schools in the batch."""
    found: dict[tuple[int, int | None], dict[str, str]] = defaultdict(dict)
    if not (cycle_ids and urns):
        return found
    for cycle_id, urn, machine, state in session.exec(
        select(Review.cycle_id, Review.school_urn, ReviewState.machine, ReviewState.state)
        .join(ReviewState, col(ReviewState.review_id) == Review.id)
        .where(in_(session, Review.cycle_id, cycle_ids), in_(session, Review.school_urn, urns))
    ):
        found[(cycle_id, urn)][machine] = state
    return found


def _complete_actions(
    session: Session, cycle_ids: list[int], urns: list[int]
) -> set[tuple[int, int, str]]:
    if not (cycle_ids and urns):
        return set()
    return {
        (cycle_id, urn, str(number))
        for cycle_id, urn, number in session.exec(
            select(Review.cycle_id, Review.school_urn, SupportAction.number)
            .join(SupportAction, col(SupportAction.review_id) == Review.id)
            .where(
                in_(session, Review.cycle_id, cycle_ids),
                in_(session, Review.school_urn, urns),
                SupportAction.rag == Rag.COMPLETE,
            )
        )
    }


def _visit_days(
    session: Session, cycle_ids: list[int], urns: list[int]
) -> dict[tuple[int, int | None], str]:
    """The planned day of each host's visit (ISO), as the reminders' keys carry it."""
    if not (cycle_ids and urns):
        return {}
    return {
        (cycle_id, urn): str(day)
        for cycle_id, urn, day in session.exec(
            select(Review.cycle_id, Review.school_urn, col(VisitPlan.visit_date))
            .join(VisitPlan, col(VisitPlan.review_id) == Review.id)
            .where(in_(session, Review.cycle_id, cycle_ids), in_(session, Review.school_urn, urns))
        )
    }


def _feedback_given(
    session: Session, cycle_ids: list[int], urns: list[int]
) -> set[tuple[int, int | None, int, str]]:
    """(cycle, host, school that gave it, kind) of the feedback given on the batch's visits."""
    if not (cycle_ids and urns):
        return set()
    return {
        (cycle_id, host, giver, kind)
        for cycle_id, host, giver, kind in session.exec(
            select(Review.cycle_id, Review.school_urn, Feedback.from_urn, Feedback.kind)
            .join(Review, col(Review.id) == Feedback.review_id)
            .where(in_(session, Review.cycle_id, cycle_ids), in_(session, Review.school_urn, urns))
        )
    }
