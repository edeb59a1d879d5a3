"""Event notices: each event of a cycle queues its notice once to the people who take it (by
role at the right school, or the facilitator), worded from its template with the school names,
the cycle by name and a link into the web app; a person who turned the kind off gets none."""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Calendar
from sqlmodel import col, select

from review_engine.core.domain import Rag, SharingLevel, Slot
from review_engine.core.notices import Event
from review_engine.runtime import Runtime
from review_engine.services import actions, feedback, sef, transitions, triads, visits, writeups
from review_engine.services.tick import tick
from review_engine.store.models import Person
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    DEPUTY,
    HEADS,
    agree_writeup,
    draft_writeup,
    hold_visit,
    plan_visit,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]  # Northbrook Primary School, whose deputy is DEPUTY
HOST_NAME = "Northbrook Primary School"
WORDS = "Northbrook 2026-27"
LINK = "http://127.0.0.1:8000/cycles/Northbrook/2026-27"
VISIT = date(2026, 11, 17)


def sent(rt: Runtime, event: Event) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.notice == event.value)
                .order_by(col(OutboxMessage.recipient), col(OutboxMessage.id))
            )
        )


def to(rt: Runtime, event: Event) -> list[str]:
    return sorted(m.recipient for m in sent(rt, event))


def choose(rt: Runtime, email: str, notices: str | None) -> None:
    """The person's stored choice of notices (what `review people notices` writes)."""
    with rt.db.transaction() as session:
        person = session.exec(select(Person).where(Person.email == email)).one()
        person.notices = notices
        session.add(person)


def heads(*urns: int) -> list[str]:
    return sorted(HEADS[u] for u in urns)


# --- the SEF ---------------------------------------------------------------------------------


def test_a_submitted_sef_reaches_the_facilitator_once(cycle_rt: Runtime) -> None:
    submit_sef(cycle_rt, CYCLE, HOST)
    [message] = sent(cycle_rt, Event.SEF_SUBMITTED)
    assert message.recipient == FACILITATOR
    assert message.subject == f"{HOST_NAME} has submitted its SEF ({WORDS})"
    assert "accept it or return it" in message.body
    assert f"{LINK}/sefs" in message.body
    assert "/notices/unsubscribe?email=facilitator%40example.org&kind=facilitator" in message.body
    assert str(HOST) not in message.subject + message.body.split("http")[0]
    # Returned and submitted again: a second notice, for the second version.
    sef.decide_sef(cycle_rt, cycle=CYCLE, urn=HOST, accept=False, reason="More on reading")
    submit_sef(cycle_rt, CYCLE, HOST)
    second = sent(cycle_rt, Event.SEF_SUBMITTED)
    assert len(second) == 2 and "version 2" in second[1].body


def test_a_facilitator_who_turned_the_notice_off_gets_none(cycle_rt: Runtime) -> None:
    choose(cycle_rt, FACILITATOR, "")
    submit_sef(cycle_rt, CYCLE, HOST)
    assert sent(cycle_rt, Event.SEF_SUBMITTED) == []


def test_a_returned_sef_tells_the_school_why(cycle_rt: Runtime) -> None:
    choose(cycle_rt, DEPUTY, "sef_decisions:digest")  # the deputy takes it in their digest
    submit_sef(cycle_rt, CYCLE, HOST)
    reason = "Please add the Year 2 phonics results\nand the reading catch-up data."
    sef.decide_sef(cycle_rt, cycle=CYCLE, urn=HOST, accept=False, reason=reason)
    messages = sent(cycle_rt, Event.SEF_RETURNED)
    assert [m.recipient for m in messages] == sorted([DEPUTY, HEADS[HOST]])
    held = {m.recipient: m.held_for_digest for m in messages}
    assert held == {DEPUTY: True, HEADS[HOST]: False}
    head = next(m for m in messages if m.recipient == HEADS[HOST])
    assert head.subject == f"Your SEF has been returned ({WORDS})"
    assert f"SEF) of {HOST_NAME} for {WORDS}" in head.body
    assert "    Please add the Year 2 phonics results\n    and the reading catch-up data." in (
        head.body
    )
    assert f"{LINK}/schools/{HOST}/sef" in head.body
    assert "kind=sef_decisions" in head.body


def test_an_accepted_sef_tells_the_school_and_not_a_head_who_turned_it_off(
    cycle_rt: Runtime,
) -> None:
    other = URNS[1]
    choose(cycle_rt, HEADS[other], "reminders,visits")
    for urn in (HOST, other):
        submit_sef(cycle_rt, CYCLE, urn)
        transitions.fire(
            cycle_rt, cycle=CYCLE, machine="self_review", trigger="accept", school_urn=urn
        )
    [message] = sent(cycle_rt, Event.SEF_ACCEPTED)
    assert message.recipient == HEADS[HOST]
    assert message.subject == f"Your SEF has been accepted ({WORDS})"
    assert f"accepted the self-evaluation (SEF) of {HOST_NAME}" in message.body


# --- triads and visits -----------------------------------------------------------------------


def test_an_assigned_triad_tells_the_host_and_its_visitors_naming_the_schools(
    cycle_rt: Runtime,
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    lead, first, second = by_host[HOST]
    mine = [m for m in sent(cycle_rt, Event.TRIAD_ASSIGNED) if m.school_urn == HOST]
    assert sorted(m.recipient for m in mine) == heads(HOST, lead, first, second)
    for_host = next(m for m in mine if m.recipient == HEADS[HOST])
    assert for_host.subject == f"Your triad for the peer review visit ({WORDS})"
    assert "- St Aidan’s Church of England Primary School (lead reviewer)" in for_host.body
    assert "choose the focus of your visit" in for_host.body
    for_lead = next(m for m in mine if m.recipient == HEADS[lead])
    assert for_lead.subject == f"Your school will visit {HOST_NAME} ({WORDS})"
    assert "Your school is the lead reviewer" in for_lead.body
    assert str(HOST) not in for_host.body.split("http")[0]
    # Every school hears once of each triad it is in: 8 hosts, each told with its 3 visitors.
    total = len(sent(cycle_rt, Event.TRIAD_ASSIGNED))
    assert total == 8 * 4  # (the deputy of Northbrook does not take it until they choose)
    # The same triad set again sends nothing; a changed one tells everyone in it.
    triads.set_triad(cycle_rt, cycle=CYCLE, host=HOST, visitors=[lead, first, second], lead=lead)
    assert len(sent(cycle_rt, Event.TRIAD_ASSIGNED)) == total
    fourth = next(u for u in URNS if u not in (HOST, lead, first, second))
    triads.set_triad(cycle_rt, cycle=CYCLE, host=HOST, visitors=[lead, first, fourth], lead=lead)
    before = {m.id for m in mine}
    changed = [
        m
        for m in sent(cycle_rt, Event.TRIAD_ASSIGNED)
        if m.school_urn == HOST and m.id not in before
    ]
    assert sorted(m.recipient for m in changed) == heads(HOST, lead, first, fourth)
    assert all("changed" in m.subject for m in changed)
    assert HEADS[fourth] in {m.recipient for m in changed}


def test_a_dated_visit_sends_the_invite_then_a_move_then_a_cancellation(
    cycle_rt: Runtime,
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    choose(cycle_rt, DEPUTY, "visits")  # the deputy takes visit notices too
    everyone = sorted([DEPUTY, *heads(HOST, *by_host[HOST])])
    plan_visit(cycle_rt, CYCLE, HOST, VISIT)
    dated = sent(cycle_rt, Event.VISIT_DATED)
    assert [m.recipient for m in dated] == everyone
    first = dated[0]
    assert first.subject == (
        f"Peer review visit to {HOST_NAME}: Tuesday 17 November 2026 ({WORDS})"
    )
    assert "booked for Tuesday 17 November 2026, morning (09:00 to 12:30)" in first.body
    assert first.attachment_name == "visit-Northbrook-Primary-School-990101.ics"
    calendar = Calendar.from_ical(first.attachment or "")
    assert str(calendar["method"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("sequence") == 0
    attendees = sorted(str(a).removeprefix("mailto:") for a in event.get("attendee"))
    assert attendees == everyone  # the people told, not one address per school
    # Moved: a new date and a higher SEQUENCE.
    moved = date(2026, 11, 19)
    visits.schedule(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, on=moved, slot=Slot.AFTERNOON
    )
    [again] = [m for m in sent(cycle_rt, Event.VISIT_MOVED) if m.recipient == HEADS[HOST]]
    assert (
        again.subject
        == f"Peer review visit to {HOST_NAME} moved to Thursday 19 November 2026 ({WORDS})"
    )
    assert "afternoon (13:00 to 16:00)" in again.body
    [event] = Calendar.from_ical(again.attachment or "").walk("VEVENT")
    assert event.decoded("sequence") == 1
    assert len(sent(cycle_rt, Event.VISIT_DATED)) == len(everyone)  # not sent again
    # Cancelled: the reason, and METHOD:CANCEL.
    visits.cancel(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, reason="The school is closed"
    )
    cancelled = sent(cycle_rt, Event.VISIT_CANCELLED)
    assert [m.recipient for m in cancelled] == everyone
    assert cancelled[0].subject == f"Peer review visit to {HOST_NAME} cancelled ({WORDS})"
    assert "    The school is closed" in cancelled[0].body
    calendar = Calendar.from_ical(cancelled[0].attachment or "")
    assert str(calendar["method"]) == "CANCEL"
    assert calendar.walk("VEVENT")[0].decoded("sequence") == 2


def test_a_visitor_who_turned_visits_off_is_not_told(cycle_rt: Runtime) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    lead = by_host[HOST][0]
    choose(cycle_rt, HEADS[lead], "reminders")
    plan_visit(cycle_rt, CYCLE, HOST, VISIT)
    assert HEADS[lead] not in to(cycle_rt, Event.VISIT_DATED)
    assert to(cycle_rt, Event.VISIT_DATED) == heads(HOST, *by_host[HOST][1:])


# --- write-ups -------------------------------------------------------------------------------


def _visited(rt: Runtime, clock: FakeClock) -> list[int]:
    """The triads formed and the visit to HOST held; its visitors, lead first."""
    by_host = set_rotation_triads(rt, CYCLE, URNS)
    hold_visit(rt, clock, CYCLE, HOST, VISIT)
    return by_host[HOST]


def test_a_write_up_goes_to_the_co_reviewers_then_the_host_and_back_to_the_lead(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    lead, first, second = _visited(cycle_rt, clock)
    draft_writeup(cycle_rt, CYCLE, HOST, lead)
    to_agree = sent(cycle_rt, Event.WRITEUP_TO_AGREE)
    assert [m.recipient for m in to_agree] == heads(first, second)  # not the lead, not the host
    assert to_agree[0].subject == (
        f"Write-up of the visit to {HOST_NAME} ready for your agreement ({WORDS})"
    )
    assert "St Aidan’s Church of England Primary School, the lead reviewer" in to_agree[0].body
    assert f"{LINK}/schools/{HOST}/write-up" in to_agree[0].body
    for visitor in (first, second):
        writeups.agree(cycle_rt.acting_as(HEADS[visitor]), cycle=CYCLE, host=HOST)
    [host] = sent(cycle_rt, Event.WRITEUP_TO_AGREE_HOST)
    assert host.recipient == HEADS[HOST]
    assert host.subject == f"The write-up of your visit is ready for your agreement ({WORDS})"
    writeups.return_(
        cycle_rt.acting_as(HEADS[HOST]),
        cycle=CYCLE,
        host=HOST,
        reason="The second EBI names a class teacher",
    )
    [back] = sent(cycle_rt, Event.WRITEUP_RETURNED)
    assert back.recipient == HEADS[lead]
    assert back.subject == (f"The write-up of the visit to {HOST_NAME} has been returned ({WORDS})")
    assert f"{HOST_NAME}, the host school, has returned the write-up" in back.body
    assert "    The second EBI names a class teacher" in back.body
    assert len(sent(cycle_rt, Event.WRITEUP_TO_AGREE)) == 2  # drafting again is not a new draft


def test_a_published_write_up_tells_the_schools_it_is_shared_with(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    visitors = _visited(cycle_rt, clock)
    choose(cycle_rt, HEADS[URNS[-1]], "reminders")  # one head takes no write-up notices
    draft_writeup(cycle_rt, CYCLE, HOST, visitors[0])
    agree_writeup(cycle_rt, CYCLE, HOST, visitors)
    writeups.publish(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, sharing=SharingLevel.CLUSTER
    )
    shared = sent(cycle_rt, Event.WRITEUP_SHARED)
    others = [u for u in URNS if u not in (HOST, URNS[-1])]
    assert [m.recipient for m in shared] == heads(*others)  # the host chose it: not told
    message = shared[0]
    assert message.subject == (
        f"The write-up of the visit to {HOST_NAME} is shared with you ({WORDS})"
    )
    assert "has published the write-up of its peer review visit" in message.body


def test_sharing_widened_later_tells_only_the_schools_it_now_reaches(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    from review_engine.services import notices

    visitors = _visited(cycle_rt, clock)
    draft_writeup(cycle_rt, CYCLE, HOST, visitors[0])
    agree_writeup(cycle_rt, CYCLE, HOST, visitors)
    writeups.publish(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, sharing=SharingLevel.REVIEWERS
    )
    assert to(cycle_rt, Event.WRITEUP_SHARED) == heads(*visitors)
    outsider = next(u for u in URNS if u not in (HOST, *visitors))
    for _ in range(2):  # told once, however often it is asked
        with cycle_rt.db.transaction() as session:
            notices.writeup_shared(
                session,
                cycle_id=1,
                host=HOST,
                schools=[outsider, HOST],
                at=clock.now(),
                base_url="https://review.example.org/",
            )
    assert to(cycle_rt, Event.WRITEUP_SHARED) == heads(*visitors, outsider)
    [widened] = [m for m in sent(cycle_rt, Event.WRITEUP_SHARED) if m.recipient == HEADS[outsider]]
    assert "https://review.example.org/cycles/Northbrook/2026-27/schools/990101/write-up" in (
        widened.body
    )


# --- support ---------------------------------------------------------------------------------


def _published(rt: Runtime, clock: FakeClock) -> list[int]:
    visitors = _visited(rt, clock)
    draft_writeup(rt, CYCLE, HOST, visitors[0])
    agree_writeup(rt, CYCLE, HOST, visitors)
    writeups.publish(
        rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, sharing=SharingLevel.CLUSTER
    )
    return visitors


def test_an_action_tells_its_supporting_school_and_each_update_goes_both_ways(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    _published(cycle_rt, clock)
    supporter = URNS[4]  # Brookside Special School
    head = cycle_rt.acting_as(HEADS[HOST])
    for number, supporting in ((1, supporter), (2, None)):
        actions.add_action(
            head,
            cycle=CYCLE,
            urn=HOST,
            ebi=1,
            title=f"Keep-up sessions {number}",
            owner="English lead",
            success_criteria="Seen in every class",
            due=date(2027, 3, 1),
            supporting_urn=supporting,
        )
    [assigned] = sent(cycle_rt, Event.ACTION_ASSIGNED)  # action 2 has no supporting school
    assert assigned.recipient == HEADS[supporter]
    assert assigned.subject == (f"{HOST_NAME} has asked your school to support an action ({WORDS})")
    assert "named Brookside Special School as the supporting school" in assigned.body
    assert 'support action 1, "Keep-up sessions 1"' in assigned.body
    assert "Due: 1 March 2027" in assigned.body
    actions.update_action(head, cycle=CYCLE, urn=HOST, number=1, rag=Rag.RED, note="Staff absence")
    actions.update_action(head, cycle=CYCLE, urn=HOST, number=2, rag=Rag.RED, note="Nobody told")
    [updated] = sent(cycle_rt, Event.ACTION_UPDATED)
    assert updated.recipient == HEADS[supporter]
    assert updated.subject == f"{HOST_NAME} has updated action 1 ({WORDS})"
    assert "It is now Red:\n\n    Staff absence" in updated.body
    actions.add_supporting_note(
        cycle_rt.acting_as(HEADS[supporter]),
        cycle=CYCLE,
        urn=HOST,
        number=1,
        note="Our English lead visited on Tuesday",
    )
    [note] = sent(cycle_rt, Event.ACTION_NOTE)
    assert note.recipient == HEADS[HOST]
    assert note.subject == f"Brookside Special School has added a note on action 1 ({WORDS})"
    assert "    Our English lead visited on Tuesday" in note.body
    assert len(sent(cycle_rt, Event.ACTION_UPDATED)) == 1


def test_support_opening_asks_each_school_to_agree_its_plan_once(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    choose(cycle_rt, HEADS[URNS[1]], "reminders")
    for trigger in ("open_peer_review", "open_write_up", "open_support"):
        transitions.fire(cycle_rt, cycle=CYCLE, machine="cycle", trigger=trigger)
    plans = sent(cycle_rt, Event.PLAN_TO_AGREE)
    assert [m.recipient for m in plans] == heads(*(u for u in URNS if u != URNS[1]))
    mine = next(m for m in plans if m.recipient == HEADS[HOST])
    assert mine.subject == f"Your support plan is ready to agree ({WORDS})"
    assert f"{HOST_NAME}'s published write-up" in mine.body
    assert f"{LINK}/schools/{HOST}/support" in mine.body
    transitions.fire(
        cycle_rt.acting_as(HEADS[HOST]),
        cycle=CYCLE,
        machine="support",
        trigger="agree_plan",
        school_urn=HOST,
    )
    clock.set(datetime(2027, 5, 4, 6, tzinfo=UTC))
    tick(cycle_rt.acting_as("scheduler"))  # the tick finds the same plans: nothing again
    assert len(sent(cycle_rt, Event.PLAN_TO_AGREE)) == len(plans)


def test_support_opened_by_the_tick_asks_for_plans(cycle_rt: Runtime, clock: FakeClock) -> None:
    clock.set(datetime(2027, 4, 20, 6, tzinfo=UTC))  # Summer 1 has begun: support opens
    tick(cycle_rt.acting_as("scheduler"))
    assert to(cycle_rt, Event.PLAN_TO_AGREE) == heads(*URNS)
    mine = next(m for m in sent(cycle_rt, Event.PLAN_TO_AGREE) if m.recipient == HEADS[HOST])
    assert f"{HOST_NAME}'s published write-up" in mine.body
    tick(cycle_rt.acting_as("scheduler"))
    assert len(sent(cycle_rt, Event.PLAN_TO_AGREE)) == len(URNS)


# --- feedback and reflections ----------------------------------------------------------------


def _tick_on(rt: Runtime, clock: FakeClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC))
    tick(rt.acting_as("scheduler"))


def test_feedback_is_asked_for_the_day_after_the_visit_and_reminded_until_given(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    lead, first, second = _visited(cycle_rt, clock)
    _tick_on(cycle_rt, clock, VISIT)  # the day itself: not yet
    assert sent(cycle_rt, Event.FEEDBACK_DUE) == []
    _tick_on(cycle_rt, clock, date(2026, 11, 18))
    _tick_on(cycle_rt, clock, date(2026, 11, 18))  # twice on one day: once each
    asked = sent(cycle_rt, Event.FEEDBACK_DUE)
    assert [m.recipient for m in asked] == heads(HOST, lead, first, second)
    to_lead = next(m for m in asked if m.recipient == HEADS[lead])
    assert to_lead.subject == (
        f"Your feedback on the visit to {HOST_NAME} is due 24 November 2026 ({WORDS})"
    )
    assert "peer review visit to Northbrook Primary School on Tuesday 17 November 2026" in (
        to_lead.body
    )
    assert "feedback of St Aidan’s Church of England Primary School on the visit" in to_lead.body
    assert f"{LINK}/schools/{HOST}/feedback" in to_lead.body
    feedback.give(
        cycle_rt.acting_as(HEADS[lead]), cycle=CYCLE, host=HOST, kind="immediate", usefulness=5
    )
    _tick_on(cycle_rt, clock, date(2026, 11, 23))  # the day before it is due
    reminded = [m for m in sent(cycle_rt, Event.FEEDBACK_DUE) if m.id not in {a.id for a in asked}]
    assert [m.recipient for m in reminded] == heads(HOST, first, second)  # not the lead: given
    _tick_on(cycle_rt, clock, date(2026, 11, 25))  # overdue
    late = [m for m in sent(cycle_rt, Event.FEEDBACK_DUE) if m.subject.startswith("Overdue")]
    assert [m.recipient for m in late] == heads(HOST, first, second)
    assert late[0].subject.startswith("Overdue: your feedback on the visit to")
    assert "was due on Tuesday 24 November 2026 and has not been given yet" in late[0].body


def test_a_reflection_is_asked_of_each_visiting_school_that_has_not_given_it(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    lead, first, second = _visited(cycle_rt, clock)
    choose(cycle_rt, HEADS[second], "reminders,visits")  # takes no feedback notices
    feedback.give(
        cycle_rt.acting_as(HEADS[first]),
        cycle=CYCLE,
        host=HOST,
        kind="reflection",
        changed_practice="We started keep-up sessions in Year 1",
    )
    _tick_on(cycle_rt, clock, date(2026, 12, 22))  # 7 days before it is due (29 December)
    asked = sent(cycle_rt, Event.REFLECTION_DUE)
    assert [m.recipient for m in asked] == heads(lead)
    assert asked[0].subject == (
        f"Your reflection on the visit to {HOST_NAME} is due 29 December 2026 ({WORDS})"
    )
    assert "what St Aidan’s Church of England Primary School has changed" in asked[0].body


# --- reminders -------------------------------------------------------------------------------


def test_a_visit_reminder_names_the_school_and_invites_the_people_told(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    by_host = set_rotation_triads(cycle_rt, CYCLE, URNS)
    choose(cycle_rt, DEPUTY, "visits:digest")
    plan_visit(cycle_rt, CYCLE, HOST, VISIT)
    _tick_on(cycle_rt, clock, date(2026, 11, 10))
    with cycle_rt.db.transaction() as session:
        reminders = list(
            session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.notice == "reminder",
                    col(OutboxMessage.item).startswith("visit@"),
                )
            )
        )
    everyone = sorted([DEPUTY, *heads(HOST, *by_host[HOST])])
    assert sorted(m.recipient for m in reminders) == everyone
    assert {m.held_for_digest for m in reminders if m.recipient == DEPUTY} == {True}
    subject = reminders[0].subject
    assert subject == (
        f"Reminder: the peer review visit to {HOST_NAME} is due 17 Nov 2026 ({WORDS})"
    )
    [event] = Calendar.from_ical(reminders[0].attachment or "").walk("VEVENT")
    assert sorted(str(a).removeprefix("mailto:") for a in event.get("attendee")) == everyone


def test_a_returned_write_up_drafted_again_goes_back_to_the_co_reviewers_once(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    from review_engine.services import notices
    from review_engine.services._context import open_cycle

    lead, first, second = _visited(cycle_rt, clock)
    draft_writeup(cycle_rt, CYCLE, HOST, lead)
    writeups.return_(
        cycle_rt.acting_as(HEADS[first]), cycle=CYCLE, host=HOST, reason="Add the evidence"
    )
    assert to(cycle_rt, Event.WRITEUP_RETURNED) == heads(lead)
    returned = sent(cycle_rt, Event.WRITEUP_RETURNED)[0]
    assert "Hollinsgate" in returned.body and "a co-reviewer, has returned" in returned.body
    draft_writeup(cycle_rt, CYCLE, HOST, lead)  # version 2: the service tells them
    as_lead = cycle_rt.acting_as(HEADS[lead])
    with as_lead.db.transaction() as session:  # once per version, however often asked
        notices.writeup_redrafted(open_cycle(session, as_lead, CYCLE), HOST)
    again = sent(cycle_rt, Event.WRITEUP_TO_AGREE)
    assert [m.recipient for m in again] == sorted(heads(first, second) * 2)
    assert {m.dedupe_key.split(">")[0].rsplit(":", 1)[1] for m in again} == {"v1", "v2"}


def test_people_who_turned_every_kind_off_get_no_notice_of_any_event(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    lead, first, second = URNS[1:4]  # as the rotation forms the triads
    supporter = URNS[4]
    for urn in (lead, supporter):
        choose(cycle_rt, HEADS[urn], "")  # every kind off
    assert set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST] == [lead, first, second]
    plan_visit(cycle_rt, CYCLE, HOST, VISIT)
    visits.schedule(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, on=VISIT, slot=Slot.AFTERNOON
    )
    clock.set(datetime(2026, 11, 17, 16, tzinfo=UTC))
    visits.complete(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST)
    _tick_on(cycle_rt, clock, date(2026, 11, 18))
    draft_writeup(cycle_rt, CYCLE, HOST, lead)
    writeups.return_(cycle_rt.acting_as(HEADS[first]), cycle=CYCLE, host=HOST, reason="Evidence")
    draft_writeup(cycle_rt, CYCLE, HOST, lead)
    agree_writeup(cycle_rt, CYCLE, HOST, [lead, first, second])
    writeups.publish(
        cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST, sharing=SharingLevel.CLUSTER
    )
    head = cycle_rt.acting_as(HEADS[HOST])
    actions.add_action(
        head,
        cycle=CYCLE,
        urn=HOST,
        ebi=1,
        title="Keep-up sessions",
        owner="English lead",
        success_criteria="Seen in every class",
        due=date(2027, 3, 1),
        supporting_urn=supporter,
    )
    actions.update_action(head, cycle=CYCLE, urn=HOST, number=1, rag=Rag.GREEN, note="On track")
    with cycle_rt.db.transaction() as session:
        rows = list(session.exec(select(OutboxMessage)))
    told = {(m.notice, m.recipient) for m in rows}
    assert not {(n, r) for n, r in told if r in (HEADS[lead], HEADS[supporter])}
    # ...while every event of the flow told the others.
    assert {n for n, _ in told} >= {
        e.value
        for e in (
            Event.TRIAD_ASSIGNED,
            Event.VISIT_DATED,
            Event.VISIT_MOVED,
            Event.FEEDBACK_DUE,
            Event.WRITEUP_TO_AGREE,
            Event.WRITEUP_TO_AGREE_HOST,
            Event.WRITEUP_SHARED,
        )
    }
