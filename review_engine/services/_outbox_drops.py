"""Which queued messages are no longer worth sending, decided when a sender claims them (so a
message that waited, failed or was retried is judged as of the moment it would go out):

- a reminder about work now done, or whose moment has passed ("due in 7 days" once the due
  date is tomorrow or gone: the next reminder of the series follows instead);
- a visit reminder after the visit day, or for a visit held, moved or no longer planned;
- a reminder of a cycle that is closed or cancelled;
- anything about a support action that is complete, whose school's support plan is closed, or
  whose cycle is closed or cancelled.

A message of no cycle (a sign-in link) is about no work and is never dropped. Set-based: a
fixed number of queries per claimed batch, however many messages it holds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from sqlmodel import Session, col, select

from review_engine.core.domain import Rag
from review_engine.core.phases import Part, VisitState, cycle_words
from review_engine.core.workflow import WorkflowDef
from review_engine.services._compiled import compiled_for
from review_engine.services._due_work import OpenCycle, owed_work
from review_engine.services._visit_reminders import VISIT_ITEM
from review_engine.store.batch import in_
from review_engine.store.models import Cycle, Review, ReviewState
from review_engine.store.phase_tables import SupportAction, VisitPlan
from review_engine.store.schedule_tables import OutboxMessage

REMINDER = "reminder"  # OutboxMessage.notice of the tick's reminders ("" before notices had one)
ACTION_ITEM = "action#"  # + the action's number
DROPPED = "dropped: "  # how last_error starts on a dropped message; the reason follows
_KIND = re.compile(r"(due|overdue)-\d+")

WORK_DONE = "the work was done before it was sent"
VISIT_PASSED = "the visit day had passed"
VISIT_CHANGED = "the visit was held, moved or cancelled since"
ACTION_COMPLETE = "the support action is complete"
PLAN_CLOSED = "the school's support plan is closed"


def is_dropped(m: OutboxMessage) -> bool:
    return bool(m.last_error and m.last_error.startswith(DROPPED.rstrip()))


def reminder_parts(m: OutboxMessage) -> tuple[str, str | None] | None:
    """(kind, visit date) of a tick reminder from its dedupe key
    (`cycle:urn:item:[date:]kind` then `>email`), or None for any other message."""
    if m.notice not in (REMINDER, "") or m.cycle_id is None:
        return None
    fields = m.dedupe_key.split(">", 1)[0].split(":")
    if len(fields) < 4 or not _KIND.fullmatch(fields[-1]):
        return None
    day = fields[3] if m.item.startswith(VISIT_ITEM) and len(fields) >= 5 else None
    return fields[-1], day


def why_dropped(session: Session, pending: list[OutboxMessage], today: date) -> dict[int, str]:
    """The reason, in words, not to send each of `pending` that should not go (by row id)."""
    about = [m for m in pending if m.cycle_id is not None and m.id is not None]
    reminders = {m.id: r for m in about if (r := reminder_parts(m)) is not None}
    actions = [m for m in about if m.item.startswith(ACTION_ITEM)]
    if not (reminders or actions):
        return {}
    watched = [m for m in about if m.id in reminders or m.item.startswith(ACTION_ITEM)]
    cycle_ids = sorted({m.cycle_id for m in watched if m.cycle_id is not None})
    cycles = {c.id: c for c in session.exec(select(Cycle).where(in_(session, Cycle.id, cycle_ids)))}
    definitions = {cid: compiled_for(session, c).definition for cid, c in cycles.items()}
    closed = {
        cid: f"the cycle is {cycle_words(c.state).lower()}"
        for cid, c in cycles.items()
        if c.state in definitions[cid].cycle_machine.final
    }
    open_cycles = {
        cid: OpenCycle(cid, c.cluster_id, c.academic_year, c.workflow_hash, c.state)
        for cid, c in cycles.items()
        if cid is not None and cid not in closed
    }
    urns = sorted({m.school_urn for m in watched if m.school_urn is not None})
    states = _states(session, cycle_ids, urns)
    complete = _complete_actions(session, [c for c in cycle_ids if c not in closed], urns)
    due = _due_dates(session, open_cycles, today) if reminders else {}
    visit_days = _visit_days(session, cycle_ids, urns) if reminders else {}
    reasons: dict[int, str] = {}
    for m in watched:
        assert m.id is not None and m.cycle_id is not None
        where = (m.cycle_id, m.school_urn)
        definition = definitions[m.cycle_id]
        if m.cycle_id in closed:
            reason: str | None = closed[m.cycle_id]
        elif m.item.startswith(ACTION_ITEM):
            reason = _action_reason(m, definition, states.get(where, {}), complete)
        else:
            reason = None
        if reason is None and m.id in reminders:
            kind, day = reminders[m.id]
            if m.item.startswith(VISIT_ITEM):
                reason = _visit_reason(
                    kind, definition, states.get(where, {}), visit_days, m, day, today
                )
            else:
                reason = _reminder_reason(m, kind, definition, states.get(where, {}), due, today)
        if reason is not None:
            reasons[m.id] = reason
    return reasons


def _action_reason(
    m: OutboxMessage,
    definition: WorkflowDef,
    states: dict[str, str],
    complete: set[tuple[int, int, str]],
) -> str | None:
    support = definition.parts.get(Part.SUPPORT)
    if support is not None and states.get(support.name) in support.final:
        return PLAN_CLOSED
    number = m.item.removeprefix(ACTION_ITEM)
    if (m.cycle_id, m.school_urn, number) in complete:
        return ACTION_COMPLETE
    return None


def _visit_reason(
    kind: str,
    definition: WorkflowDef,
    states: dict[str, str],
    visit_days: dict[tuple[int, int | None], str],
    m: OutboxMessage,
    day: str | None,
    today: date,
) -> str | None:
    if day is not None and day < today.isoformat():
        return VISIT_PASSED
    visit = definition.parts.get(Part.PEER_VISIT)
    scheduled = visit is None or states.get(visit.name) == VisitState.SCHEDULED
    assert m.cycle_id is not None
    if day is None or not scheduled or visit_days.get((m.cycle_id, m.school_urn)) != day:
        return VISIT_CHANGED
    return moment_passed(kind, date.fromisoformat(day), today)


def _reminder_reason(
    m: OutboxMessage,
    kind: str,
    definition: WorkflowDef,
    states: dict[str, str],
    due: dict[tuple[int, int | None, str], date],
    today: date,
) -> str | None:
    spec = definition.deadlines.get(m.item)
    if spec is not None and states.get(m.item) in set(spec.get("done", ())):
        return WORK_DONE
    assert m.cycle_id is not None
    when = due.get((m.cycle_id, m.school_urn, m.item))
    if when is None:  # not due within a week (a clock set back), or work the tick does not know
        return None
    return moment_passed(kind, when, today)


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


def _due_dates(
    session: Session, cycles: dict[int, OpenCycle], today: date
) -> dict[tuple[int, int | None, str], date]:
    """When each piece of work still owed in these cycles is due, as the tick computes it."""
    return {(o.cycle_id, o.urn, o.item): o.due for o in owed_work(session, cycles, today)}
