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
from tests.conftest import use_sample_calendar
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
# A command whose event sends notices (services/notices.py) adds a fixed few, however many
# people they reach: the school names, who takes the kind (the schools' routing and their
# people, two), the key of the unsubscribe links (made on the first use in a database: two
# more) and one insert into the outbox; the facilitator (and a visit's organiser) one more.
NOTICES = 5
BUDGET = {
    "sef submit": 17 + NOTICES + 1,  # to the facilitator: no school's people, the key made
    "raw trigger (sef accept)": 8 + NOTICES,
    "visit schedule": 17 + NOTICES + 1,  # one read of the day's other visits: no school on
    # two at once; the invite's location and its organiser
    "writeup draft": 13 + NOTICES - 1,  # the names were to be read anyway
    "writeup agree (first co-reviewer)": 9,
    "writeup agree (last co-reviewer)": 13 + NOTICES - 1,
    "writeup agree (host)": 13,
    "writeup publish": 15 + NOTICES,
    "action update": 13,  # no supporting school: nobody to tell
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
    assert last <= 15 + 2  # the issue's own figure for this command, and telling the host
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


# --- my work: the same statements for a cluster of 12 schools as for one of 40 -----------------


def _cluster_of(rt: Runtime, tmp_path: Any, name: str, first_urn: int, size: int) -> None:
    """A cluster of `size` new schools (a head each) run by its own facilitator, with its
    cycle's self-review open and one SEF returned."""
    from review_engine.core.domain import Role
    from review_engine.runtime import OPERATOR
    from review_engine.services import clusters, cycles, people, schools

    operator = rt.acting_as(OPERATOR)
    csv = tmp_path / f"{name}.csv"
    rows = ['"URN","EstablishmentName","LA (code)","EstablishmentStatus (name)"']
    rows += [f'{first_urn + n},"{name} School {n}","352","Open"' for n in range(size)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    schools.import_gias(operator, path=csv)
    facilitator = f"facilitator@{name.lower()}.example"
    people.add_person(operator, email=facilitator, name=f"{name} F", role=Role.FACILITATOR)
    for n in range(size):
        people.add_person(
            operator,
            email=f"head{n}@{name.lower()}.example",
            name=f"Head {n}",
            role=Role.HEAD,
            school_urn=first_urn + n,
        )
    clusters.create_cluster(operator, name=name, facilitator_email=facilitator)
    use_sample_calendar(rt, las=("352",))
    as_facilitator = rt.acting_as(facilitator)
    clusters.add_schools(as_facilitator, cluster=name, urns=[first_urn + n for n in range(size)])
    cycle = cycles.start_cycle(as_facilitator, cluster=name, year="2026-27").cycle
    transitions.fire(as_facilitator, cycle=cycle, machine="cycle", trigger="open_self_review")
    for n in (1, 2):
        sef.submit_sef(
            rt.acting_as(f"head{n}@{name.lower()}.example"),
            cycle=cycle,
            urn=first_urn + n,
            text=sample_sef(first_urn + n),
            fmt=SefFormat.MD,
        )
    transitions.fire(
        as_facilitator,
        cycle=cycle,
        machine="self_review",
        trigger="return",
        school_urn=first_urn + 2,
        reason="more evidence",
    )


def test_my_work_issues_as_many_statements_for_40_schools_as_for_12(
    rt: Runtime, tmp_path: Any
) -> None:
    from review_engine.services import mywork

    _cluster_of(rt, tmp_path, "Twelve", 880000, 12)
    _cluster_of(rt, tmp_path, "Forty", 890000, 40)
    counts: dict[str, int] = {}
    for name in ("Twelve", "Forty"):
        for who in ("facilitator", "head0", "head2"):
            person = rt.acting_as(f"{who}@{name.lower()}.example")
            mywork.my_work(person)  # compiled workflows are cached once per process
            with counting(rt) as seen:
                items = mywork.my_work(person)
            assert items, (name, who)
            counts[f"{name} {who}"] = len(seen)
    assert counts["Twelve facilitator"] == counts["Forty facilitator"], counts
    assert counts["Twelve head0"] == counts["Forty head0"] == counts["Forty head2"], counts
    assert max(counts.values()) <= 16, counts
