"""A year of the demo with the scheduler's delivery running against a real SMTP server
(aiosmtpd): every notice reaches its people once, and nothing is sent about work already done.

The scheduler sends the outbox after every tick and every few minutes. Here the demo's own
ticks are followed by a send, and so is every move of its clock (the minutes between one
person's step and the next), so each message goes out at the moment the scheduler would send
it. Then the mail received is compared with what the database says happened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from review_engine import demo
from review_engine.core.notices import Event
from review_engine.services import outbox
from review_engine.services.tick import TickReport
from review_engine.services.tick import tick as real_tick
from review_engine.store.models import Person, Review, TransitionLog
from review_engine.store.phase_tables import ActionUpdate, SupportAction
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.integration.test_outbox_smtp import Mailbox, serving


class _ScheduledClock(FakeClock):
    """The demo's clock; before it moves on, the scheduler's send runs (once it has ticked)."""

    made: list[_ScheduledClock] = []  # noqa: RUF012 - the demo makes one; the test finds it
    deliver: Callable[[], None] | None = None

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start)
        _ScheduledClock.made.append(self)

    def set(self, instant: datetime) -> None:
        if self.deliver is not None:
            self.deliver()
        super().set(instant)

    def advance(self, **delta: float) -> datetime:
        if self.deliver is not None:
            self.deliver()
        return super().advance(**delta)


@dataclass
class Year:
    mailbox: Mailbox
    rows: list[OutboxMessage]
    history: list[TransitionLog]
    updates: list[tuple[int, int, str, datetime]]  # cycle, school, action item, completed at
    people: dict[str, Person]
    heads: dict[int, str]
    sends: int


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    mp = pytest.MonkeyPatch()
    sends = 0
    with serving() as (mailbox, settings):
        _ScheduledClock.made.clear()
        mp.setattr(demo, "FakeClock", _ScheduledClock)

        def ticking(rt: Any) -> TickReport:
            report = real_tick(rt)
            clock = _ScheduledClock.made[-1]

            def deliver() -> None:
                nonlocal sends
                sent = outbox.send_outbox(rt, smtp=settings)
                assert sent.failed == 0, sent.errors
                sends += 1

            clock.deliver = deliver
            deliver()  # the send that follows every tick
            return report

        mp.setattr(demo, "tick", ticking)
        work = tmp_path_factory.mktemp("demo-year")
        ran = demo.run(work, out=work / "out", say=lambda _line: None)
        deliver = _ScheduledClock.made[-1].deliver
        assert deliver is not None
        deliver()  # the scheduler's next send after the last step of the year
        with ran.runtime.db.transaction() as session:
            rows = list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
            history = list(session.exec(select(TransitionLog).order_by(col(TransitionLog.id))))
            updates = [
                (cycle_id, urn, f"action#{number}", at)
                for cycle_id, urn, number, at in session.exec(
                    select(
                        Review.cycle_id, Review.school_urn, SupportAction.number, ActionUpdate.at
                    )
                    .join(SupportAction, col(SupportAction.review_id) == Review.id)
                    .join(ActionUpdate, col(ActionUpdate.action_id) == SupportAction.id)
                    .where(ActionUpdate.rag == "complete")
                )
            ]
            people = {p.email: p for p in session.exec(select(Person))}
            for row in [*rows, *history, *people.values()]:
                session.expunge(row)
        mp.undo()
    yield Year(mailbox, rows, history, updates, people, ran.heads, sends)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_each_message_the_outbox_sent_arrived_exactly_once(year: Year) -> None:
    sent = [r for r in year.rows if r.sent_at is not None]
    assert len(sent) > 100, "a year of the demo sends many notices"
    assert year.sends > 10, "the scheduler's send ran after each tick and between steps"
    ids = [m["Message-ID"].strip("<>").split("@")[0] for m in year.mailbox.received]
    assert len(ids) == len(set(ids)), "a message arrived twice"
    assert len(year.mailbox.received) == len(sent)
    assert {r.message_id for r in sent} == set(ids)
    # Nothing is left waiting: what was not sent was dropped with its reason.
    waiting = [
        r for r in year.rows if r.sent_at is None and not (r.last_error or "").startswith("dropped")
    ]
    assert waiting == []


def test_every_notice_of_the_cycle_goes_to_a_person_who_takes_part(year: Year) -> None:
    """Never a school's single address: each is a registered, active person (Inside
    Knowledge's confirmations also go to the practitioners a booking names)."""
    for row in year.rows:
        if row.sent_at is None or row.cycle_id is None:
            continue
        person = year.people.get(row.recipient)
        assert person is not None, f"{row.subject!r} went to {row.recipient}, who is nobody here"
        assert person.active


def test_each_event_reached_its_people_once(year: Year) -> None:
    events = {e.value for e in Event}
    delivered = [r for r in year.rows if r.notice in events and r.sent_at is not None]
    seen = Counter(r.notice for r in delivered)
    for event in (
        Event.SEF_SUBMITTED,
        Event.SEF_ACCEPTED,
        Event.SEF_RETURNED,
        Event.TRIAD_ASSIGNED,
        Event.VISIT_DATED,
        Event.VISIT_MOVED,
        Event.WRITEUP_TO_AGREE,
        Event.WRITEUP_TO_AGREE_HOST,
        Event.WRITEUP_RETURNED,
        Event.WRITEUP_SHARED,
        Event.ACTION_ASSIGNED,
        Event.PLAN_TO_AGREE,
        Event.FEEDBACK_DUE,
        Event.REFLECTION_DUE,
    ):
        assert seen[event.value] > 0, f"the demo year sent no {event.value} notice"
    # Once: one message per reason and person, and one reason per event that happened.
    keys = Counter(r.dedupe_key for r in delivered)
    assert [k for k, n in keys.items() if n > 1] == []

    def fired(machine: str, trigger: str) -> list[TransitionLog]:
        return [h for h in year.history if h.machine == machine and h.trigger == trigger]

    facilitator = demo.FACILITATOR
    submitted = [r for r in delivered if r.notice == Event.SEF_SUBMITTED]
    assert {r.recipient for r in submitted} == {facilitator}
    assert len(submitted) == len(fired("self_review", "submit"))
    accepted = [r for r in delivered if r.notice == Event.SEF_ACCEPTED]
    assert sorted(r.school_urn or 0 for r in accepted) == sorted(
        h.school_urn or 0 for h in fired("self_review", "accept")
    )
    for row in accepted:
        assert row.recipient == year.heads[row.school_urn or 0]
    returned = [r for r in delivered if r.notice == Event.WRITEUP_RETURNED]
    assert len({r.school_urn for r in returned}) == len(
        {h.school_urn for h in fired("write_up", "return")}
    )
    # Every head heard of their triad: as host and as a visitor.
    told = defaultdict(set)
    for row in delivered:
        if row.notice == Event.TRIAD_ASSIGNED:
            told[row.recipient].add(row.school_urn)
    assert set(told) == set(year.heads.values())


def test_nothing_was_sent_about_work_already_done(year: Year) -> None:
    done_states = {
        "self_review": {"submitted", "accepted"},
        "write_up": {"drafted", "reviewers_agreed", "host_agreed", "published"},
    }
    finished: dict[tuple[int, int | None, str], datetime] = {}
    for h in year.history:
        key = (h.cycle_id, h.school_urn, h.machine)
        if h.to_state in done_states.get(h.machine, set()) and key not in finished:
            finished[key] = _utc(h.at)
        if h.machine == "support" and h.to_state == "closed":
            finished.setdefault((h.cycle_id, h.school_urn, "support closed"), _utc(h.at))
    for cycle_id, urn, item, at in year.updates:
        finished.setdefault((cycle_id, urn, item), _utc(at))
    late = []
    for row in year.rows:
        if (
            row.sent_at is None
            or row.cycle_id is None
            or row.notice
            not in {
                "reminder",
                Event.FEEDBACK_DUE,
                Event.REFLECTION_DUE,
                Event.PLAN_TO_AGREE,
            }
        ):
            continue
        sent_at = _utc(row.sent_at)
        keys = [(row.cycle_id, row.school_urn, row.item)]
        if row.item.startswith("action"):
            keys.append((row.cycle_id, row.school_urn, "support closed"))
        if any(key in finished and finished[key] < sent_at for key in keys):
            late.append(f"{row.subject} to {row.recipient}, sent {sent_at:%d %b %Y}")
    assert late == []
