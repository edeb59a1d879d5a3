"""Inside Knowledge from nomination to reflection, through the services as the people who
would do each step, on SQLite and PostgreSQL: who may do what (and that an outsider learns
nothing), the rules the workflow's guards enforce, the waiting list, the notices queued once,
the log of every transition and the quality report's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from review_engine.errors import (
    AlreadyExists,
    GuardRejected,
    InvalidInput,
    NotFound,
    NotPermitted,
    TransitionNotAllowed,
)
from review_engine.runtime import Runtime
from review_engine.services.knowledge import (
    agenda,
    bookings,
    feedback,
    mine,
    nominations,
    offers,
    programme,
    reminders,
    report,
)
from review_engine.services.knowledge.views import Practitioner
from review_engine.store.knowledge_tables import IkTransition
from review_engine.store.privacy_tables import AccessLog
from review_engine.store.schedule_tables import OutboxMessage
from tests.integration.knowledge_helpers import (
    CLOSED,
    HOST,
    LONDON,
    OFFICER,
    PROGRAMME,
    SECONDARY,
    VISITORS,
    World,
    build_world,
    head,
    make_offer,
    two,
)

A, B, C, D = VISITORS


@pytest.fixture
def w(rt: Runtime) -> World:
    return build_world(rt)


def _outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _log(rt: Runtime, offer: int) -> list[tuple[str, str, str, str]]:
    with rt.db.transaction() as session:
        rows = session.exec(
            select(IkTransition)
            .where(IkTransition.offer_id == offer)
            .order_by(col(IkTransition.id))
        ).all()
        return [(r.machine, r.from_state, r.to_state, r.trigger) for r in rows]


def test_nominations_need_a_stakeholder_and_an_admin_decides(w: World) -> None:
    with pytest.raises(NotPermitted, match="only the programme's stakeholders"):
        nominations.nominate(
            w.visitor(A), programme=PROGRAMME, topic="budgets", school=A, reason="good"
        )
    made = nominations.nominate(
        w.officer, programme=PROGRAMME, topic="budgets", school=A, reason="Balanced for years"
    )
    assert (made.status, made.organisation, made.nominated_by) == (
        "pending",
        "Leeds City Council",
        "Olu Officer",
    )
    with pytest.raises(AlreadyExists):
        nominations.nominate(w.officer, programme=PROGRAMME, topic="budgets", school=A, reason="x")
    with pytest.raises(InvalidInput, match="Pupils' writing at Key Stage 2 is for primary"):
        nominations.nominate(
            w.officer, programme=PROGRAMME, topic="ks2-writing", school=SECONDARY, reason="x"
        )
    with pytest.raises(NotPermitted, match="only a programme admin may"):
        nominations.approve(w.officer, nomination=made.id)
    with pytest.raises(InvalidInput, match="say why"):
        nominations.decline(w.admin, nomination=made.id, note=" ")
    declined = nominations.decline(w.admin, nomination=made.id, note="Show us the evidence")
    assert declined.status_words == "Declined"
    with pytest.raises(InvalidInput, match="already declined"):
        nominations.approve(w.admin, nomination=made.id)
    # The officer sees their own; the school its own; a stranger school none of them.
    assert {n.school_urn for n in nominations.list_nominations(w.officer)} == {HOST, A}
    assert [n.topic_code for n in nominations.list_nominations(w.visitor(A))] == ["budgets"]
    assert nominations.list_nominations(w.visitor(B)) == []


def test_only_an_approved_host_offers_and_a_draft_is_hidden(w: World) -> None:
    with pytest.raises(NotPermitted, match="Ash Primary School is not an approved host"):
        offers.create_offer(
            w.visitor(A),
            programme=PROGRAMME,
            topic="ks2-writing",
            title="Ours",
            summary="x",
            visit_date=date(2026, 10, 14),
            slot="morning",
            schools=3,
            practitioners=2,
            booking_deadline=date(2026, 10, 1),
        )
    with pytest.raises(InvalidInput, match="cannot suit Secondary"):
        offers.create_offer(
            w.host,
            programme=PROGRAMME,
            topic="ks2-writing",
            title="Ours",
            summary="x",
            visit_date=date(2026, 10, 14),
            slot="morning",
            schools=3,
            practitioners=2,
            booking_deadline=date(2026, 10, 1),
            phases="secondary",
        )
    draft = make_offer(w, publish=False)
    assert draft.state == "draft" and draft.phases == ("primary",)
    public = w.rt.acting_as("web")
    for reader in (public, w.visitor(A)):
        with pytest.raises(NotFound, match=f"offer {draft.id} not found"):
            offers.show_offer(reader, offer=draft.id)
        with pytest.raises(NotFound, match=f"offer {draft.id} not found"):
            offers.publish(reader, offer=draft.id)
    with pytest.raises(NotFound):
        bookings.book(w.visitor(A), offer=draft.id, practitioners=two(A))
    published = offers.publish(w.host, offer=draft.id)
    assert published.state_words == "Open for booking"
    assert offers.show_offer(public, offer=draft.id).offer.bookable
    with pytest.raises(TransitionNotAllowed, match="is open for booking: it cannot be published"):
        offers.publish(w.host, offer=draft.id)


def test_booking_fills_the_offer_then_waits_in_order_and_a_cancellation_moves_the_queue(
    w: World,
) -> None:
    offer = make_offer(w, schools=2)
    first = bookings.book(
        w.visitor(A), offer=offer.id, practitioners=two(A), questions="How do you edit?"
    )
    second = bookings.book(w.visitor(B), offer=offer.id, practitioners=two(B))
    third = bookings.book(w.visitor(C), offer=offer.id, practitioners=two(C))
    fourth = bookings.book(w.visitor(D), offer=offer.id, practitioners=two(D))
    assert [b.state for b in (first, second, third, fourth)] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]
    assert (third.waitlist_position, fourth.waitlist_position) == (1, 2)
    shown = offers.show_offer(w.rt.acting_as("web"), offer=offer.id)
    assert shown.offer.state_words == "Full (waiting list open)"
    assert (shown.offer.places_left, shown.offer.waiting) == (0, 2)
    assert shown.bookings == () and shown.agenda is None  # the public sees no bookings
    with pytest.raises(InvalidInput, match="Ash Primary School has already booked this visit"):
        bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))

    cancelled = bookings.cancel(w.visitor(A), booking=first.id, reason="Staff illness")
    assert cancelled.state == "cancelled"
    moved = bookings.show_booking(w.visitor(C), booking=third.id)
    assert moved.state == "confirmed"
    assert bookings.show_booking(w.visitor(D), booking=fourth.id).waitlist_position == 1
    assert offers.show_offer(w.host, offer=offer.id).offer.state == "full"
    # With nobody waiting, a cancellation opens the offer again.
    bookings.cancel(w.host, booking=fourth.id, reason="asked by phone")
    bookings.cancel(w.visitor(B), booking=second.id)
    assert offers.show_offer(w.host, offer=offer.id).offer.state_words == "Open for booking"
    assert _log(w.rt, offer.id)[:6] == [
        ("offer", "", "draft", "create"),
        ("offer", "draft", "published", "publish"),
        ("booking", "", "requested", "request"),
        ("booking", "requested", "confirmed", "confirm"),
        ("booking", "", "requested", "request"),
        ("booking", "requested", "confirmed", "confirm"),
    ]
    triggers = [t for _, _, _, t in _log(w.rt, offer.id)]
    assert triggers.count("fill") == 1 and triggers.count("offer_place") == 1
    assert triggers[-1] == "reopen"

    sent = {(m.notice, m.recipient) for m in _outbox(w.rt)}
    assert ("ik_confirmed", head(A)) in sent and ("ik_confirmed", f"a{A}@example.org") in sent
    assert ("ik_waitlisted", head(C)) in sent
    assert ("ik_place_offered", head(C)) in sent and ("ik_place_offered", head(D)) not in sent
    assert ("ik_cancelled", head(A)) in sent
    to_host = [m for m in _outbox(w.rt) if m.notice == "ik_host_booking"]
    assert {m.recipient for m in to_host} == {"head@oak.example.org"}
    day = "your visit on Wednesday 14 October 2026"
    assert [m.subject.removeprefix("Inside Knowledge: ") for m in to_host][:3] == [
        f"Ash Primary School has a place on {day}",
        f"Birch Primary School has a place on {day}",
        f"Cedar Primary School joined the waiting list for {day}",
    ]
    assert "Places left: 0; schools on the waiting list: 1." in to_host[2].body
    confirmed = next(m for m in _outbox(w.rt) if m.notice == "ik_confirmed")
    assert confirmed.cycle_id is None and confirmed.attachment_name is not None
    assert "UID:ik-offer-" in (confirmed.attachment or "")
    assert "at Oak Primary School, Manchester, on Wednesday 14 October 2026, morning" in (
        confirmed.body
    )
    assert confirmed.body.startswith("Hello Head of 710002,")


def test_the_rules_say_why_in_one_line_and_change_nothing(w: World) -> None:
    offer = make_offer(w)
    cases = [
        (LONDON, "Bow Primary School is in London; this programme's visits are for schools"),
        (SECONDARY, "this visit suits Primary schools; Hollins High School is Secondary"),
    ]
    for urn, why in cases:
        with pytest.raises(GuardRejected, match=why):
            bookings.book(w.visitor(urn), offer=offer.id, practitioners=two(urn))
    with pytest.raises(GuardRejected, match="a host cannot book its own visit"):
        bookings.book(w.host, offer=offer.id, practitioners=two(HOST))
    with pytest.raises(InvalidInput, match="takes 2 practitioners per school; 3 named"):
        bookings.book(
            w.visitor(A),
            offer=offer.id,
            practitioners=[*two(A), Practitioner("Third", "c@example.org")],
        )
    with pytest.raises(InvalidInput, match="name at least one practitioner"):
        bookings.book(w.visitor(A), offer=offer.id, practitioners=[])
    with pytest.raises(NotPermitted, match="you do not act for school 710003"):
        bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A), school=B)
    with pytest.raises(NotPermitted, match="sign in first"):
        bookings.book(w.rt.acting_as("web"), offer=offer.id, practitioners=two(A))
    w.rt.clock.set(datetime(2026, 10, 2, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    with pytest.raises(GuardRejected, match="bookings closed on 01 Oct 2026"):
        bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    assert offers.show_offer(w.host, offer=offer.id).bookings == ()
    assert [t for *_, t in _log(w.rt, offer.id)] == ["create", "publish"]
    # The programme's rule can let schools book anywhere.
    programme.update_settings(w.admin, programme=PROGRAMME, region_rule="anywhere")
    w.rt.clock.set(datetime(2026, 9, 2, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    assert bookings.book(w.visitor(LONDON), offer=offer.id, practitioners=two(LONDON)).state == (
        "confirmed"
    )


def test_outsiders_see_a_booking_as_missing(w: World) -> None:
    offer = make_offer(w)
    booked = bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    for outsider in (w.visitor(B), w.rt.acting_as("web"), w.officer):
        for call in (
            lambda r: bookings.show_booking(r, booking=booked.id),
            lambda r: bookings.cancel(r, booking=booked.id),
            lambda r: agenda.propose(r, booking=booked.id, text="hello"),
            lambda r: bookings.offer_bookings(r, offer=offer.id),
            lambda r: report.visit_pack(r, offer=offer.id),
        ):
            with pytest.raises(NotFound):
                call(outsider)
    assert bookings.show_booking(w.host, booking=booked.id).school_name == "Ash Primary School"
    with pytest.raises(NotPermitted, match="only the visiting school or an admin may"):
        agenda.propose(w.host, booking=booked.id, text="a host's question")
    with pytest.raises(NotFound):
        bookings.show_booking(w.visitor(A), booking=99999)


def test_agenda_visit_feedback_reflection_and_the_quality_report(w: World) -> None:
    offer = make_offer(w, schools=2)
    a = bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    b = bookings.book(w.visitor(B), offer=offer.id, practitioners=two(B))
    waiting = bookings.book(w.visitor(C), offer=offer.id, practitioners=two(C))
    agenda.propose(w.visitor(A), booking=a.id, text="How do you teach editing?")
    with pytest.raises(InvalidInput, match="has not published the agenda yet"):
        agenda.acknowledge(w.visitor(A), booking=a.id)
    published = agenda.publish_agenda(w.host, offer=offer.id, text="9:00 welcome\n9:30 lessons")
    assert published.version == 1
    assert [q.school_name for q in published.questions] == ["Ash Primary School"]
    assert agenda.acknowledge(w.visitor(A), booking=a.id).agenda_acknowledged
    assert agenda.show_agenda(w.host, offer=offer.id).acknowledged == (
        ("Ash Primary School", True),
        ("Birch Primary School", False),
    )
    with pytest.raises(InvalidInput, match="only confirmed schools acknowledge"):
        agenda.acknowledge(w.visitor(C), booking=waiting.id)
    agenda_mails = [m for m in _outbox(w.rt) if m.notice == "ik_agenda"]
    assert {m.recipient for m in agenda_mails} >= {head(A), head(B)}
    assert head(C) not in {m.recipient for m in agenda_mails}

    with pytest.raises(GuardRejected, match="the visit is not until 14 Oct 2026"):
        bookings.mark(w.host, booking=a.id, attended=True)
    with pytest.raises(InvalidInput, match="feedback comes after it"):
        feedback.give(w.visitor(A), offer=offer.id, rating=5)

    w.rt.clock.set(datetime(2026, 10, 7, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    first = reminders.tick(w.admin)
    assert first.queued > 0 and reminders.tick(w.admin).queued == 0  # each goes once
    before = len(_outbox(w.rt))
    reminders.tick(w.admin)
    assert len(_outbox(w.rt)) == before  # each reminder goes once
    reminder = next(m for m in _outbox(w.rt) if m.notice == "ik_reminder")
    assert "9:30 lessons" in reminder.body

    w.rt.clock.set(datetime(2026, 10, 14, 13, tzinfo=UTC))  # type: ignore[attr-defined]
    assert bookings.mark(w.host, booking=a.id, attended=True).state_words == "Attended"
    assert bookings.mark(w.host, booking=b.id, attended=False).state_words == "Did not attend"
    with pytest.raises(GuardRejected, match=r"the visit day \(14 Oct 2026\) has come"):
        bookings.cancel(w.visitor(C), booking=waiting.id)
    feedback.give(w.visitor(A), offer=offer.id, rating=5, comment="Practical")
    feedback.give(w.host, offer=offer.id, rating=4, comment="Good questions")
    with pytest.raises(AlreadyExists):
        feedback.give(w.visitor(A), offer=offer.id, rating=3)
    with pytest.raises(InvalidInput, match=r"from 1 \(not useful\) to 5"):
        feedback.give(w.host, offer=offer.id, rating=6)
    with pytest.raises(InvalidInput, match="has no place on offer"):
        feedback.give(w.visitor(D), offer=offer.id, rating=4)
    assert [d.kind for d in feedback.due(w.visitor(A))] == ["reflection"]

    w.rt.clock.set(datetime(2026, 12, 9, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    done = reminders.tick(w.rt.acting_as("scheduler"))
    assert done.closed == 1
    assert offers.show_offer(w.host, offer=offer.id).offer.state == "closed"
    assert bookings.show_booking(w.visitor(C), booking=waiting.id).state == "cancelled"
    due = [m for m in _outbox(w.rt) if m.notice == "ik_reflection_due"]
    assert {m.recipient for m in due} >= {head(A)}
    assert "It is 8 weeks since Ash Primary School visited Oak Primary School" in due[0].body
    with pytest.raises(InvalidInput, match="say what your school changed"):
        feedback.reflect(w.visitor(A), offer=offer.id, changed_practice=True)
    feedback.reflect(
        w.visitor(A), offer=offer.id, changed_practice=True, what_changed="Daily editing"
    )
    assert feedback.due(w.visitor(A)) == []

    with pytest.raises(NotPermitted):
        report.quality_report(w.host)
    quality = report.quality_report(w.admin)
    p = quality.programme
    assert (p.offers, p.places_offered, p.places_booked, p.waitlisted) == (1, 2, 2, 1)
    assert (p.attended, p.no_shows, p.visitor_rating, p.host_rating) == (1, 1, 5.0, 4.0)
    assert (p.reflections, p.changed, p.changed_share) == (1, 1, 1.0)
    assert [r.label for r in quality.by_host] == ["Oak Primary School"]
    assert [r.label for r in quality.by_topic] == ["Pupils' writing at Key Stage 2"]
    assert [c.what_changed for c in quality.changes] == ["Daily editing"]
    html = report.quality_document(w.admin, fmt="html").content.decode()
    assert "Daily editing" in html and "<svg" in html and "Places by topic" in html
    csv_text = report.quality_document(w.admin, fmt="csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[1] == "programme,Whole programme,1,2,2,1,1,1,5.00,4.00,1,1,1.000"
    with pytest.raises(InvalidInput, match="format 'docx'"):
        report.quality_document(w.admin, fmt="docx")
    pack = report.visit_pack_document(w.host, offer=offer.id).content.decode()
    assert "Teacher A 710002" in pack and "How do you teach editing?" in pack
    with w.rt.db.transaction() as session:  # it names people: its reading is logged
        logged = session.exec(select(AccessLog)).all()
    assert [(a.actor, a.action, a.record, a.cycle_id, a.school_urn) for a in logged] == [
        ("head@oak.example.org", "downloaded", "visit_pack", None, HOST)
    ]


def test_cancelling_an_offer_cancels_and_tells_its_schools(w: World) -> None:
    offer = make_offer(w, schools=1)
    kept = bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    queued = bookings.book(w.visitor(B), offer=offer.id, practitioners=two(B))
    with pytest.raises(InvalidInput, match="needs a reason"):
        offers.cancel(w.host, offer=offer.id, reason="")
    with pytest.raises(NotPermitted, match="only a programme admin or the host school may"):
        offers.cancel(w.visitor(A), offer=offer.id, reason="not mine")
    done = offers.cancel(w.host, offer=offer.id, reason="Building works")
    assert done.state == "cancelled"
    for booking, reader in ((kept, w.visitor(A)), (queued, w.visitor(B))):
        assert bookings.show_booking(reader, booking=booking.id).state == "cancelled"
    told = [m for m in _outbox(w.rt) if m.notice == "ik_cancelled"]
    assert {m.recipient for m in told} >= {head(A), head(B)}
    assert "The host cancelled the visit: Building works" in told[0].body
    assert "METHOD:CANCEL" in (told[0].attachment or "")
    with pytest.raises(NotFound):  # a cancelled offer is no longer public
        offers.show_offer(w.rt.acting_as("web"), offer=offer.id)


def test_hold_and_resume_keep_bookings(w: World) -> None:
    offer = make_offer(w, schools=1)
    bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    held = offers.hold(w.host, offer=offer.id, reason="Ofsted this week")
    assert held.state_words == "On hold"
    with pytest.raises(NotFound):
        bookings.book(w.visitor(B), offer=offer.id, practitioners=two(B))
    assert offers.resume(w.host, offer=offer.id).state == "full"


def test_my_inside_knowledge(w: World) -> None:
    offer = make_offer(w)
    bookings.book(w.visitor(A), offer=offer.id, practitioners=two(A))
    host = mine.my_inside_knowledge(w.host)
    assert [o.id for o in host.offers] == [offer.id]
    assert {t.code for t in host.approved_topics} == {"ks2-writing", "sustainability"}
    visitor = mine.my_inside_knowledge(w.visitor(A))
    assert [b.offer_id for b in visitor.bookings] == [offer.id] and visitor.offers == ()
    assert mine.my_inside_knowledge(w.rt.acting_as(OFFICER)).is_stakeholder
    with pytest.raises(NotPermitted):
        mine.my_inside_knowledge(w.rt.acting_as("web"))
    closed = w.rt.acting_as("operator")
    with pytest.raises(InvalidInput, match="Old Mill Primary is closed"):
        nominations.nominate(
            closed, programme=PROGRAMME, topic="budgets", school=CLOSED, reason="x"
        )


def test_the_log_is_append_only_even_by_hand(w: World) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    make_offer(w)
    for statement in (
        "UPDATE ik_transition SET actor = 'someone else'",
        "DELETE FROM ik_transition",
    ):
        with (
            pytest.raises(DBAPIError, match="history is append-only"),
            w.rt.db.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    assert len(_log(w.rt, 1)) == 2
