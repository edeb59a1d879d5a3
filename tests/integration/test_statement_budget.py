"""SQL statements per phase command: each reads what it needs once (the transaction's
CycleRecords) and fires each guard once, so the count stays within a fixed budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event

from review_engine.core.domain import Rag, SharingLevel, Slot
from review_engine.core.sef_file import SefFormat
from review_engine.runtime import Runtime
from review_engine.services import actions, sef, transitions, visits, writeups
from review_engine.testing import FakeClock
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    at,
    draft_writeup,
    plan_visit,
    sample_sef,
    set_rotation_triads,
)

URNS = sorted(HEADS)
HOST = URNS[0]

# The most statements each command may issue (transaction control included); the last
# co-reviewer's agreement records a decision, moves the write-up and writes its history.
# A command that writes history reads its cycle's chain head once (store/history_chain.py).
BUDGET = {
    "sef submit": 17,
    "raw trigger (sef accept)": 8,
    "visit schedule": 16,
    "writeup draft": 13,
    "writeup agree (first co-reviewer)": 9,
    "writeup agree (last co-reviewer)": 13,
    "writeup agree (host)": 13,
    "writeup publish": 15,
    "action update": 13,
}


@contextmanager
def counting(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


def _within(rt: Runtime, name: str, action: Callable[[], object]) -> int:
    with counting(rt) as seen:
        action()
    assert len(seen) <= BUDGET[name], f"{name}: {len(seen)} statements\n" + "\n".join(seen)
    return len(seen)


def _as(rt: Runtime, urn: int) -> Runtime:
    return rt.acting_as(HEADS[urn])


def test_phase_commands_stay_within_their_statement_budget(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    rt = cycle_rt
    head = _as(rt, HOST)
    _within(
        rt,
        "sef submit",
        lambda: sef.submit_sef(
            head, cycle=CYCLE, urn=HOST, text=sample_sef(HOST), fmt=SefFormat.MD
        ),
    )
    _within(
        rt,
        "raw trigger (sef accept)",
        lambda: transitions.fire(
            rt, cycle=CYCLE, machine="self_review", trigger="accept", school_urn=HOST
        ),
    )
    by_host = set_rotation_triads(rt, CYCLE, URNS)
    lead, first, second = by_host[HOST]
    plan_visit(rt, CYCLE, HOST, date(2026, 11, 10))
    _within(
        rt,
        "visit schedule",
        lambda: visits.schedule(
            head, cycle=CYCLE, host=HOST, on=date(2026, 11, 17), slot=Slot.AFTERNOON
        ),
    )
    clock.set(at(date(2026, 11, 17)))
    visits.complete(head, cycle=CYCLE, host=HOST)
    _within(rt, "writeup draft", lambda: draft_writeup(rt, CYCLE, HOST, lead))
    _within(
        rt,
        "writeup agree (first co-reviewer)",
        lambda: writeups.agree(_as(rt, first), cycle=CYCLE, host=HOST),
    )
    last = _within(
        rt,
        "writeup agree (last co-reviewer)",
        lambda: writeups.agree(_as(rt, second), cycle=CYCLE, host=HOST),
    )
    assert last <= 15  # the issue's own figure for this command
    _within(rt, "writeup agree (host)", lambda: writeups.agree(head, cycle=CYCLE, host=HOST))
    _within(
        rt,
        "writeup publish",
        lambda: writeups.publish(head, cycle=CYCLE, host=HOST, sharing=SharingLevel.CLUSTER),
    )
    actions.add_action(
        head,
        cycle=CYCLE,
        urn=HOST,
        ebi=1,
        title="Keep-up sessions",
        owner="English lead",
        success_criteria="Seen in every class",
        due=date(2027, 3, 1),
    )
    transitions.fire(head, cycle=CYCLE, machine="support", trigger="agree_plan", school_urn=HOST)
    _within(
        rt,
        "action update",
        lambda: actions.update_action(
            head, cycle=CYCLE, urn=HOST, number=1, rag=Rag.GREEN, note="on track"
        ),
    )
