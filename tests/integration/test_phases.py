"""The work of each phase, end to end through the services, on SQLite and PostgreSQL:
self-evaluation, triads, the visit plan, the WWW/EBI write-up, support actions and feedback,
and every guard of the default workflow refusing with its reason, then allowing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from sqlmodel import select

from review_engine.core.domain import HalfTerm, Rag, SharingLevel, Slot, VisitFocus
from review_engine.core.sef_file import SefFormat
from review_engine.errors import (
    AlreadyExists,
    GuardRejected,
    ImportRejected,
    InvalidInput,
    NotFound,
    NotPermitted,
    TransitionNotAllowed,
)
from review_engine.runtime import Runtime
from review_engine.services import (
    actions,
    cycles,
    feedback,
    history,
    practice,
    sef,
    transitions,
    triads,
    visits,
    writeups,
)
from review_engine.store.models import Cycle
from review_engine.store.phase_tables import (
    SelfEvaluation,
    TriadPlace,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    QUESTION,
    at,
    draft_writeup,
    hold_visit,
    plan_visit,
    propose_triads,
    publish_writeup,
    review_id,
    sample_draft,
    sample_sef,
    set_rotation_triads,
    submit_sef,
)

HOST = 990101  # Northbrook Primary School
HOST_NAME = "Northbrook Primary School"


@pytest.fixture
def rt(cycle_rt: Runtime) -> Runtime:
    """The sample cluster with its cycle started and self-review open, as the facilitator:
    a copy of a database built once per backend (see phase_helpers.cycle_template)."""
    return cycle_rt


@pytest.fixture
def cycle(rt: Runtime) -> str:
    return CYCLE


@pytest.fixture
def triad(rt: Runtime, cycle: str) -> triads.TriadRow:
    """The solver's triads; the host's row (its visitors, lead reviewer first)."""
    row = propose_triads(rt, cycle)[HOST]
    assert row.lead is not None
    return triads.TriadRow(
        **{**row.__dict__, "visitors": [row.lead, *(v for v in row.visitors if v != row.lead)]}
    )


def _as(rt: Runtime, urn: int) -> Runtime:
    return rt.acting_as(HEADS[urn])


def _states(rt: Runtime, urn: int) -> dict[str, str]:
    status = cycles.cycle_status(rt, cycle=CYCLE)
    return next(s.states for s in status.schools if s.urn == urn)


def _history(rt: Runtime, urn: int, machine: str) -> list[tuple[str, str, str, str, str | None]]:
    return [
        (h.trigger, h.from_state, h.to_state, h.actor, h.reason)
        for h in history.history(rt, cycle=CYCLE, school_urn=urn)
        if h.machine == machine
    ]


# --- self-evaluation ---------------------------------------------------------------------


def test_sef_template_renders_markdown_and_yaml_and_a_filled_yaml_is_submitted(
    rt: Runtime, cycle: str
) -> None:
    head = _as(rt, HOST)
    md = sef.sef_template(head, cycle=cycle, urn=HOST, fmt=SefFormat.MD)
    assert md.startswith(f"# Self-evaluation: {HOST_NAME} (URN {HOST})\n")
    for line in (
        "## Enquiry question",
        "## Quality of education",
        "Grade: (one of: Outstanding, Good, Requires improvement, Inadequate)",
        "### Areas for development",
        "## Sixth form (optional)",
    ):
        assert line in md.splitlines()

    blank = sef.sef_template(head, cycle=cycle, urn=HOST, fmt=SefFormat.YAML)
    data = yaml.safe_load(blank)
    assert (data["school"], data["framework"]) == (HOST, "eif2019")
    assert list(data["areas"]) == [
        "quality_of_education",
        "behaviour_and_attitudes",
        "personal_development",
        "leadership_and_management",
        "early_years",
        "sixth_form",
    ]
    data["enquiry_question"] = QUESTION
    for key in ("quality_of_education", "behaviour_and_attitudes"):
        data["areas"][key] = {
            "grade": "Good",
            "strengths": "Calm, purposeful classrooms",
            "areas_for_development": "Catch-up in Year 2",
            "evidence": "Learning walks",
        }
    for key in ("personal_development", "leadership_and_management"):
        data["areas"][key] = {
            "grade": "requires_improvement",
            "strengths": "Clubs",
            "areas_for_development": "Careers",
            "evidence": "Registers",
        }
    view = sef.submit_sef(
        head, cycle=cycle, urn=HOST, text=yaml.safe_dump(data, sort_keys=False), fmt=SefFormat.YAML
    )
    assert (view.version, view.versions, view.state) == (1, 1, "submitted")
    assert view.enquiry_question == QUESTION
    assert [(a.title, a.grade_label) for a in view.areas] == [
        ("Quality of education", "Good"),
        ("Behaviour and attitudes", "Good"),
        ("Personal development", "Requires improvement"),
        ("Leadership and management", "Requires improvement"),
    ]
    assert view.submitted_by == HEADS[HOST]


def _line_of(text: str, wanted: str, after: str = "") -> int:
    """1-based number of the first line equal to `wanted` (after the line `after`)."""
    lines = text.splitlines()
    start = lines.index(after) if after else 0
    return lines.index(wanted, start) + 1


@pytest.mark.parametrize(
    ("old", "new", "at_line", "after", "reason"),
    [
        (
            "## Personal development",
            "## Personal growth",
            "## Personal growth",
            "",
            "unknown area 'Personal growth' for eif2019 (known: Quality of education, ",
        ),
        (
            "Grade: Good",
            "Grade: Very good",
            "Grade: Very good",
            "",
            "Quality of education: grade 'Very good' is not on the scale (Outstanding, Good, "
            "Requires improvement, Inadequate)",
        ),
        (
            "Behaviour logs; attendance data by group; pupil voice survey (June 2026).",
            "",
            "### Evidence",  # an emptied field is reported at its heading
            "## Behaviour and attitudes",
            "Behaviour and attitudes: evidence is empty",
        ),
    ],
    ids=["unknown-area", "grade-not-on-scale", "empty-required-field"],
)
def test_a_bad_sef_is_refused_naming_its_line_and_nothing_is_written(
    rt: Runtime, cycle: str, old: str, new: str, at_line: str, after: str, reason: str
) -> None:
    text = sample_sef(HOST)
    assert old in text
    bad = text.replace(old, new, 1)
    line = _line_of(bad, at_line, after)
    with pytest.raises(ImportRejected) as refused:
        sef.submit_sef(
            _as(rt, HOST), cycle=cycle, urn=HOST, text=bad, fmt=SefFormat.MD, source="sef.md"
        )
    assert any(e.line == line and e.reason.startswith(reason) for e in refused.value.errors)
    message = str(refused.value)
    assert message.startswith("sef.md: self-evaluation refused, nothing written: ")
    assert f"line {line}: {reason}" in message
    assert message.endswith("; fix the file and submit it again")
    with pytest.raises(NotFound, match="none submitted yet"):
        sef.show_sef(rt, cycle=cycle, urn=HOST)
    assert _states(rt, HOST)["self_review"] == "not_started"


def test_a_returned_sef_is_resubmitted_and_every_version_is_kept(
    rt: Runtime, clock: FakeClock, cycle: str
) -> None:
    head = _as(rt, HOST)
    first = submit_sef(rt, cycle, HOST)
    assert (first.version, first.state) == (1, "submitted")
    with pytest.raises(InvalidInput, match="already submitted; wait for the facilitator"):
        submit_sef(rt, cycle, HOST)
    with pytest.raises(NotPermitted, match="only the facilitator may"):
        sef.decide_sef(head, cycle=cycle, urn=HOST, accept=True, reason=None)

    clock.advance(days=1)
    returned = sef.decide_sef(
        rt, cycle=cycle, urn=HOST, accept=False, reason="add evidence for attendance"
    )
    assert returned.state == "returned"
    revised = sample_sef(HOST).replace("Attendance is 95.8%.", "Attendance is 96.1% (2025-26).")
    second = sef.submit_sef(head, cycle=cycle, urn=HOST, text=revised, fmt=SefFormat.MD)
    assert (second.version, second.versions, second.state) == (2, 2, "submitted")

    latest = sef.show_sef(rt, cycle=cycle, urn=HOST)
    earlier = sef.show_sef(rt, cycle=cycle, urn=HOST, version=1)
    assert (latest.version, earlier.version, earlier.versions) == (2, 1, 2)
    assert "96.1%" in latest.areas[1].strengths
    assert "95.8%" in earlier.areas[1].strengths
    with pytest.raises(
        NotFound, match="self-evaluation version 3 not found; school 990101 has 1-2"
    ):
        sef.show_sef(rt, cycle=cycle, urn=HOST, version=3)

    assert sef.decide_sef(rt, cycle=cycle, urn=HOST, accept=True, reason=None).state == "accepted"
    with pytest.raises(InvalidInput, match="already accepted; it cannot be changed now"):
        submit_sef(rt, cycle, HOST)
    assert _history(rt, HOST, "self_review") == [
        ("start", "not_started", "drafting", HEADS[HOST], None),
        ("submit", "drafting", "submitted", HEADS[HOST], None),
        ("return", "submitted", "returned", FACILITATOR, "add evidence for attendance"),
        ("redraft", "returned", "drafting", HEADS[HOST], None),
        ("submit", "drafting", "submitted", HEADS[HOST], None),
        ("accept", "submitted", "accepted", FACILITATOR, None),
    ]


def test_a_return_without_a_reason_is_refused(rt: Runtime, cycle: str) -> None:
    submit_sef(rt, cycle, HOST)
    with pytest.raises(InvalidInput, match="reason"):
        sef.decide_sef(rt, cycle=cycle, urn=HOST, accept=False, reason=None)
    assert _states(rt, HOST)["self_review"] == "submitted"


# --- triads ------------------------------------------------------------------------------


def test_triads_set_by_hand_one_host_at_a_time(rt: Runtime, cycle: str) -> None:
    urns = sorted(HEADS)
    set_rotation_triads(rt, cycle, urns)
    rows = {r.host: r for r in triads.show(rt, cycle=cycle)}
    assert (rows[990101].visitors, rows[990101].lead) == ([990102, 990103, 990104], 990102)
    assert all(_states(rt, u)["peer_visit"] == "triad_assigned" for u in urns)
    triads.add_conflict(rt, cluster="Northbrook", a=990101, b=990103, reason="federation")
    with pytest.raises(InvalidInput, match=r"triad for 990101 refused: 990103 may not visit"):
        triads.set_triad(rt, cycle=cycle, host=990101, visitors=[990102, 990103, 990104])


# --- the visit plan ----------------------------------------------------------------------


def test_visit_plan_from_focus_to_visited(
    rt: Runtime, clock: FakeClock, cycle: str, triad: triads.TriadRow
) -> None:
    host = _as(rt, HOST)
    with pytest.raises(NotPermitted, match="only the facilitator or the school itself may"):
        visits.set_focus(
            _as(rt, triad.visitors[0]),
            cycle=cycle,
            host=HOST,
            focus=VisitFocus.LEARNING_WALK,
            question=QUESTION,
        )
    with pytest.raises(TransitionNotAllowed, match="cannot schedule on peer_visit in state"):
        visits.schedule(host, cycle=cycle, host=HOST, on=date(2026, 11, 10), slot=Slot.MORNING)
    focused = visits.set_focus(
        host,
        cycle=cycle,
        host=HOST,
        focus=VisitFocus.JOINT_LESSON_OBSERVATIONS,
        question=QUESTION,
        area="quality_of_education",
    )
    assert (focused.state, focused.focus, focused.enquiry_question) == (
        "focus_agreed",
        "joint_lesson_observations",
        QUESTION,
    )

    with pytest.raises(InvalidInput) as inset:
        visits.schedule(host, cycle=cycle, host=HOST, on=date(2026, 11, 27), slot=Slot.MORNING)
    assert str(inset.value) == f"{HOST_NAME} is closed on Fri 27 Nov 2026 (INSET day)"
    with pytest.raises(InvalidInput) as weekend:
        visits.schedule(host, cycle=cycle, host=HOST, on=date(2026, 11, 28), slot=Slot.MORNING)
    assert str(weekend.value) == "Saturday 28 November 2026 is a weekend"
    assert visits.show(rt, cycle=cycle, host=HOST).visit_date is None

    late = visits.schedule(host, cycle=cycle, host=HOST, on=date(2027, 3, 2), slot=Slot.AFTERNOON)
    assert (late.state, late.visit_date, late.slot, late.sequence) == (
        "scheduled",
        date(2027, 3, 2),
        "afternoon",
        0,
    )
    assert late.warnings == [
        "02 Mar 2027 is outside the cycle's peer-review window (26 Oct to 22 Feb 2027)"
    ]
    moved = visits.schedule(host, cycle=cycle, host=HOST, on=date(2026, 11, 10), slot=Slot.MORNING)
    assert (moved.state, moved.visit_date, moved.sequence, moved.warnings) == (
        "scheduled",
        date(2026, 11, 10),
        1,
        [],
    )

    agenda = visits.set_agenda(
        host,
        cycle=cycle,
        host=HOST,
        host_staff=["Deputy head", "English lead"],
        items=[
            visits.AgendaItem("09:00", "Welcome and context", "Head"),
            visits.AgendaItem("09:30", "Joint observations in Year 2", "English lead"),
        ],
    )
    assert [(a.time, a.activity) for a in agenda.agenda] == [
        ("09:00", "Welcome and context"),
        ("09:30", "Joint observations in Year 2"),
    ]
    assert agenda.host_staff == ["Deputy head", "English lead"]
    seen = visits.show(_as(rt, triad.visitors[1]), cycle=cycle, host=HOST)
    assert len(seen.visitors) == 3 and seen.lead is not None and seen.agenda == agenda.agenda

    clock.set(at(date(2026, 11, 10)))
    done = visits.complete(host, cycle=cycle, host=HOST)
    assert done.state == "visited"
    assert [row[:3] for row in _history(rt, HOST, "peer_visit")] == [
        ("assign_triad", "awaiting_triad", "triad_assigned"),
        ("agree_focus", "triad_assigned", "focus_agreed"),
        ("schedule", "focus_agreed", "scheduled"),
        ("reschedule", "scheduled", "scheduled"),
        ("complete", "scheduled", "visited"),
    ]


def test_a_visit_cannot_be_recorded_before_its_date(
    rt: Runtime, clock: FakeClock, cycle: str, triad: triads.TriadRow
) -> None:
    plan_visit(rt, cycle, HOST, date(2026, 11, 10))
    clock.set(at(date(2026, 11, 9)))
    with pytest.raises(GuardRejected, match="has not come yet"):
        visits.complete(_as(rt, HOST), cycle=cycle, host=HOST)
    assert _states(rt, HOST)["peer_visit"] == "scheduled"
    clock.set(at(date(2026, 11, 10), hour=9))
    assert visits.complete(_as(rt, HOST), cycle=cycle, host=HOST).state == "visited"


# --- the write-up ------------------------------------------------------------------------


def test_writeup_from_draft_to_published(
    rt: Runtime, clock: FakeClock, cycle: str, triad: triads.TriadRow
) -> None:
    lead, first, second = triad.visitors
    plan_visit(rt, cycle, HOST, date(2026, 11, 10))
    with pytest.raises(GuardRejected) as early:
        draft_writeup(rt, cycle, HOST, lead)
    assert str(early.value) == (
        f"{CYCLE} school {HOST}: cannot draft on write_up: "
        "the visit has not happened yet (peer visit is scheduled)"
    )
    clock.set(at(date(2026, 11, 10)))
    visits.complete(_as(rt, HOST), cycle=cycle, host=HOST)
    for not_lead in (first, HOST):
        with pytest.raises(NotPermitted, match="only the facilitator or the lead reviewer may"):
            draft_writeup(rt, cycle, HOST, not_lead)

    drafted = draft_writeup(rt, cycle, HOST, lead)
    assert (drafted.state, drafted.version, len(drafted.www), len(drafted.ebi)) == (
        "drafted",
        1,
        2,
        2,
    )
    one = writeups.agree(_as(rt, first), cycle=cycle, host=HOST)
    assert one.state == "drafted"
    assert [a.endswith("(reviewer)") for a in one.agreed_by] == [True]
    returned = writeups.return_(
        _as(rt, second), cycle=cycle, host=HOST, reason="the second EBI needs its evidence"
    )
    assert returned.state == "drafted"
    redrafted = draft_writeup(rt, cycle, HOST, lead)
    assert (redrafted.version, redrafted.agreed_by) == (2, [])

    writeups.agree(_as(rt, first), cycle=cycle, host=HOST)
    both = writeups.agree(_as(rt, second), cycle=cycle, host=HOST)
    assert (both.state, len(both.agreed_by)) == ("reviewers_agreed", 2)
    with pytest.raises(NotPermitted, match="only the facilitator or the school itself may"):
        writeups.agree(_as(rt, lead), cycle=cycle, host=HOST)
    back = writeups.return_(_as(rt, HOST), cycle=cycle, host=HOST, reason="a fact is wrong")
    assert back.state == "drafted"
    assert draft_writeup(rt, cycle, HOST, lead).version == 3
    writeups.agree(_as(rt, first), cycle=cycle, host=HOST)
    writeups.agree(_as(rt, second), cycle=cycle, host=HOST)
    agreed = writeups.agree(_as(rt, HOST), cycle=cycle, host=HOST)
    assert agreed.state == "host_agreed"
    assert agreed.agreed_by[-1] == f"{HOST_NAME} (host)"

    with pytest.raises(NotPermitted, match="only the facilitator or the school itself may"):
        writeups.publish(_as(rt, lead), cycle=cycle, host=HOST, sharing=SharingLevel.CLUSTER)
    with pytest.raises(InvalidInput, match="needs --with URN"):
        writeups.publish(_as(rt, HOST), cycle=cycle, host=HOST, sharing=SharingLevel.NAMED)
    published = writeups.publish(
        _as(rt, HOST), cycle=cycle, host=HOST, sharing=SharingLevel.CLUSTER
    )
    assert (published.state, published.sharing, published.version) == (
        "published",
        "cluster",
        3,
    )
    assert [(e.urn, e.area, e.description) for e in practice.list_practice(rt)] == [
        (HOST, "quality_of_education", "Whole-school phonics routines and the keep-up tracker")
    ]
    assert [
        (trigger, reason)
        for trigger, _, _, _, reason in _history(rt, HOST, "write_up")
        if trigger == "return"
    ] == [("return", "the second EBI needs its evidence"), ("return", "a fact is wrong")]


# --- support actions ---------------------------------------------------------------------


def test_support_actions_from_an_ebi_to_the_impact_review(
    rt: Runtime, clock: FakeClock, cycle: str, triad: triads.TriadRow
) -> None:
    hold_visit(rt, clock, cycle, HOST, date(2026, 11, 10))
    publish_writeup(rt, cycle, HOST, triad.visitors, SharingLevel.CLUSTER)
    head = _as(rt, HOST)
    helper = next(u for u in sorted(HEADS) if u not in (HOST, *triad.visitors))
    common: dict[str, Any] = {
        "cycle": cycle,
        "urn": HOST,
        "title": "Daily keep-up sessions in Key Stage 1",
        "owner": "English lead",
        "success_criteria": "Seen in every class on a learning walk",
    }
    with pytest.raises(InvalidInput, match=r"has 2 EBIs in its write-up; --ebi must be 1-2"):
        actions.add_action(head, ebi=3, due=date(2027, 1, 29), **common)
    for stranger in (HOST, 990109):  # itself; a closed school outside the cluster
        with pytest.raises(InvalidInput, match=f"supporting school {stranger} must be another"):
            actions.add_action(
                head, ebi=1, due=date(2027, 1, 29), supporting_urn=stranger, **common
            )
    with pytest.raises(NotPermitted):
        actions.add_action(_as(rt, helper), ebi=1, due=date(2027, 1, 29), **common)

    first = actions.add_action(head, ebi=1, due=date(2027, 1, 29), supporting_urn=helper, **common)
    assert (first.number, first.rag, first.supporting_urn) == (1, "amber", helper)
    assert first.ebi == sample_draft().items[2].text  # the first EBI (after the two WWWs)
    second = actions.add_action(head, ebi=2, due_half_term=HalfTerm.SUMMER_2, **common)
    assert (second.number, second.due_label) == (2, "Summer 2")
    assert second.due == date(2027, 7, 21)

    clock.set(at(date(2027, 1, 20)))
    updated = actions.update_action(
        head, cycle=cycle, urn=HOST, number=1, rag=Rag.GREEN, note="Running in 2 of 3 classes"
    )
    assert (updated.rag, updated.latest_update) == ("green", "Running in 2 of 3 classes")
    assert actions.list_actions(rt, cycle=cycle, overdue=True) == []
    clock.set(at(date(2027, 2, 1)))
    overdue = actions.list_actions(rt, cycle=cycle, overdue=True)
    assert [(a.urn, a.number, a.overdue) for a in overdue] == [(HOST, 1, True)]
    assert [a.number for a in actions.list_actions(_as(rt, helper), cycle=cycle)] == [1]

    for trigger in ("agree_plan", "start"):
        transitions.fire(head, cycle=cycle, machine="support", trigger=trigger, school_urn=HOST)
    with pytest.raises(GuardRejected) as still_open:
        actions.impact_review(rt, cycle=cycle, urn=HOST)
    assert still_open.value.guard == "actions_closed"
    assert still_open.value.why == (
        "support actions are still open (#1, #2); complete them, or the facilitator may "
        "override with --override and a reason"
    )
    with pytest.raises(GuardRejected, match="only the facilitator may override"):
        actions.impact_review(head, cycle=cycle, urn=HOST, override=True, reason="carry on")
    with pytest.raises(GuardRejected, match=r"an override needs a reason \(--reason\)"):
        actions.impact_review(rt, cycle=cycle, urn=HOST, override=True)
    assert _states(rt, HOST)["support"] == "in_progress"
    state = actions.impact_review(
        rt, cycle=cycle, urn=HOST, override=True, reason="carried into next year's plan"
    )
    assert state == "closed"
    assert _history(rt, HOST, "support")[-2:] == [
        ("review_impact", "in_progress", "impact_reviewed", FACILITATOR, None),
        ("close", "impact_reviewed", "closed", FACILITATOR, "carried into next year's plan"),
    ]


# --- feedback ----------------------------------------------------------------------------


def test_feedback_after_the_visit_from_host_and_visitors(
    rt: Runtime, clock: FakeClock, cycle: str, triad: triads.TriadRow
) -> None:
    lead, first, second = triad.visitors
    outsider = next(u for u in sorted(HEADS) if u not in (HOST, *triad.visitors))
    plan_visit(rt, cycle, HOST, date(2026, 11, 10))
    with pytest.raises(InvalidInput, match=f"the visit to {HOST} has not happened yet"):
        feedback.give(_as(rt, HOST), cycle=cycle, host=HOST, kind="immediate", usefulness=4)
    clock.set(at(date(2026, 11, 10)))
    visits.complete(_as(rt, HOST), cycle=cycle, host=HOST)

    with pytest.raises(NotPermitted, match="only the host and its visiting schools"):
        feedback.give(_as(rt, outsider), cycle=cycle, host=HOST, kind="immediate", usefulness=3)
    with pytest.raises(NotPermitted, match="only the host and its visiting schools"):
        feedback.give(rt, cycle=cycle, host=HOST, kind="immediate", usefulness=3)
    for bad in (0, 6, None):
        with pytest.raises(InvalidInput, match="--usefulness from 1"):
            feedback.give(_as(rt, lead), cycle=cycle, host=HOST, kind="immediate", usefulness=bad)
    given = feedback.give(
        _as(rt, HOST), cycle=cycle, host=HOST, kind="immediate", usefulness=4, comment="Sharp"
    )
    assert (given.from_urn, given.kind, given.usefulness, given.comment) == (
        HOST,
        "immediate",
        4,
        "Sharp",
    )
    feedback.give(_as(rt, lead), cycle=cycle, host=HOST, kind="immediate", usefulness=5)
    with pytest.raises(AlreadyExists) as twice:
        feedback.give(_as(rt, lead), cycle=cycle, host=HOST, kind="immediate", usefulness=2)
    assert (
        str(twice.value) == f"immediate feedback from {lead} on the visit to {HOST} already exists"
    )
    with pytest.raises(NotPermitted, match="reflections come from the visiting schools"):
        feedback.give(
            _as(rt, HOST), cycle=cycle, host=HOST, kind="reflection", changed_practice="x"
        )
    with pytest.raises(InvalidInput, match="--changed TEXT"):
        feedback.give(_as(rt, lead), cycle=cycle, host=HOST, kind="reflection")

    names = {r.urn: r.name for r in cycles.cycle_status(rt, cycle=cycle).schools}
    missing = cycles.cycle_status(rt, cycle=cycle).missing_feedback
    assert missing == [
        f"{names[v]}: immediate feedback on the visit to {HOST_NAME} (due 10 Nov 2026)"
        for v in sorted((first, second))
    ]
    clock.set(at(date(2026, 12, 22)))  # six weeks on: reflections are due
    feedback.give(_as(rt, first), cycle=cycle, host=HOST, kind="immediate", usefulness=3)
    feedback.give(
        _as(rt, lead),
        cycle=cycle,
        host=HOST,
        kind="reflection",
        changed_practice="We started keep-up sessions in Year 1",
    )
    missing = cycles.cycle_status(rt, cycle=cycle).missing_feedback
    assert missing == [
        f"{names[second]}: immediate feedback on the visit to {HOST_NAME} (due 10 Nov 2026)",
        *(
            f"{names[v]}: reflection feedback on the visit to {HOST_NAME} (due 22 Dec 2026)"
            for v in sorted((first, second))
        ),
    ]
    assert [(f.from_urn, f.kind) for f in feedback.list_feedback(rt, cycle=cycle)] == [
        (HOST, "immediate"),
        (lead, "immediate"),
        (first, "immediate"),
        (lead, "reflection"),
    ]


# --- every guard, through the raw trigger ------------------------------------------------


def _refused(rt: Runtime, guard: str, why: str, machine: str, trigger: str, **kw: Any) -> None:
    with pytest.raises(GuardRejected) as refused:
        transitions.fire(rt, cycle=CYCLE, machine=machine, trigger=trigger, school_urn=HOST, **kw)
    assert (refused.value.guard, str(refused.value)) == (
        guard,
        f"{CYCLE} school {HOST}: cannot {trigger} on {machine}: {why}",
    )


def _fire(rt: Runtime, machine: str, trigger: str, **kw: Any) -> str:
    return transitions.fire(
        rt, cycle=CYCLE, machine=machine, trigger=trigger, school_urn=HOST, **kw
    ).to_state


def _edit(rt: Runtime, table: Any, review: int, **values: Any) -> None:
    """Change one phase-table row directly, to meet a guard without the service that would
    fire the same trigger itself."""
    with rt.db.transaction() as session:
        row = session.exec(select(table).where(table.review_id == review)).one()
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)


def _add(rt: Runtime, *rows: Any) -> None:
    with rt.db.transaction() as session:
        session.add_all(rows)


def test_every_guard_refuses_with_its_reason_then_allows(
    rt: Runtime, clock: FakeClock, cycle: str
) -> None:
    head = _as(rt, HOST)
    review = review_id(rt, cycle, HOST)
    with rt.db.transaction() as session:
        cycle_id = session.exec(select(Cycle.id)).one()
    assert cycle_id is not None

    # sef_complete
    assert _fire(head, "self_review", "start") == "drafting"
    _refused(
        head,
        "sef_complete",
        "no self-evaluation has been submitted (use `review sef submit`)",
        "self_review",
        "submit",
    )
    _add(
        rt,
        SelfEvaluation(
            review_id=review,
            version=1,
            framework="eif2019",
            enquiry_question=QUESTION,
            areas=[],
            submitted_by=HEADS[HOST],
            submitted_at=clock.now(),
        ),
    )
    assert _fire(head, "self_review", "submit") == "submitted"

    # triad_formed
    _refused(
        rt,
        "triad_formed",
        "no visitors are allocated (use `review triads propose` or `review triads set`)",
        "peer_visit",
        "assign_triad",
    )
    lead, first, second = 990102, 990103, 990104
    _add(
        rt, *(TriadPlace(cycle_id=cycle_id, host_urn=HOST, visitor_urn=v) for v in (first, second))
    )
    _refused(
        rt,
        "triad_formed",
        "the triad needs exactly one lead reviewer",
        "peer_visit",
        "assign_triad",
    )
    _add(rt, TriadPlace(cycle_id=cycle_id, host_urn=HOST, visitor_urn=lead, is_lead=True))
    assert _fire(rt, "peer_visit", "assign_triad") == "triad_assigned"

    # focus_set
    why = "the host has not set the focus and enquiry question (use `review visit focus`)"
    _refused(head, "focus_set", why, "peer_visit", "agree_focus")
    _add(rt, VisitPlan(review_id=review, focus="learning_walk", enquiry_question=""))
    _refused(head, "focus_set", why, "peer_visit", "agree_focus")
    _edit(rt, VisitPlan, review, enquiry_question=QUESTION)
    assert _fire(head, "peer_visit", "agree_focus") == "focus_agreed"

    # visit_dated
    why = "the visit has no date and slot (use `review visit schedule`)"
    _refused(head, "visit_dated", why, "peer_visit", "schedule")
    _edit(rt, VisitPlan, review, visit_date=date(2026, 11, 10))
    _refused(head, "visit_dated", why, "peer_visit", "schedule")
    _edit(rt, VisitPlan, review, slot="morning")
    assert _fire(head, "peer_visit", "schedule") == "scheduled"

    # visit_happened
    as_lead = _as(rt, lead)
    _refused(
        as_lead,
        "visit_happened",
        "the visit has not happened yet (peer visit is scheduled)",
        "write_up",
        "draft",
    )
    # visit_day_reached
    clock.set(at(date(2026, 11, 9)))
    why = (
        "the visit is dated Tue 10 Nov 2026, which has not come yet; record it on the day or after"
    )
    _refused(head, "visit_day_reached", why, "peer_visit", "complete")
    clock.set(at(date(2026, 11, 10)))
    assert _fire(head, "peer_visit", "complete") == "visited"

    # draft_written
    _refused(
        as_lead,
        "draft_written",
        "no draft has been written (use `review writeup draft`)",
        "write_up",
        "draft",
    )
    items = [vars(i) for i in sample_draft().items]
    _add(
        rt,
        WriteUp(
            review_id=review,
            lead_urn=lead,
            items=[i for i in items if i["kind"] == "www"],
            drafted_at=clock.now(),
        ),
    )
    _refused(
        as_lead,
        "draft_written",
        "a write-up needs at least one What Went Well and one Even Better If",
        "write_up",
        "draft",
    )
    _edit(rt, WriteUp, review, items=items)
    assert _fire(as_lead, "write_up", "draft") == "drafted"

    # reviewers_agreed
    _refused(
        _as(rt, first),
        "reviewers_agreed",
        f"co-reviewers have not agreed yet: {first}, {second}",
        "write_up",
        "reviewers_agree",
    )
    assert writeups.agree(_as(rt, first), cycle=cycle, host=HOST).state == "drafted"
    _refused(
        _as(rt, first),
        "reviewers_agreed",
        f"co-reviewers have not agreed yet: {second}",
        "write_up",
        "reviewers_agree",
    )
    with rt.db.transaction() as session:
        writeup_id = session.exec(select(WriteUp.id).where(WriteUp.review_id == review)).one()
    assert writeup_id is not None
    _add(
        rt,
        WriteUpDecision(
            writeup_id=writeup_id,
            version=1,
            school_urn=second,
            role="reviewer",
            decision="agreed",
            actor=HEADS[second],
            at=clock.now(),
        ),
    )
    assert _fire(_as(rt, second), "write_up", "reviewers_agree") == "reviewers_agreed"

    # host_agreed: not the facilitator nor the host by a raw trigger, without a recorded agreement
    why = "the host has not agreed this draft (the host agrees with `review writeup agree`)"
    _refused(rt, "host_agreed", why, "write_up", "host_agree")
    _refused(head, "host_agreed", why, "write_up", "host_agree")
    _add(
        rt,
        WriteUpDecision(
            writeup_id=writeup_id,
            version=1,
            school_urn=HOST,
            role="host",
            decision="agreed",
            actor=HEADS[HOST],
            at=clock.now(),
        ),
    )
    assert _fire(head, "write_up", "host_agree") == "host_agreed"

    # sharing_chosen
    _refused(
        head,
        "sharing_chosen",
        "the host has not chosen how to share it (reviewers, cluster or named schools)",
        "write_up",
        "publish",
    )
    _edit(rt, WriteUp, review, sharing="reviewers")
    assert _fire(head, "write_up", "publish") == "published"

    # actions_closed
    for trigger in ("agree_plan", "start", "review_impact"):
        _fire(head, "support", trigger)
    actions.add_action(
        head,
        cycle=cycle,
        urn=HOST,
        ebi=1,
        title="Keep-up sessions",
        owner="English lead",
        success_criteria="Seen in every class",
        due=date(2027, 5, 7),
    )
    _refused(
        rt,
        "actions_closed",
        "support actions are still open (#1); complete them, or the facilitator may "
        "override with --override and a reason",
        "support",
        "close",
    )
    _refused(
        rt,
        "actions_closed",
        "an override needs a reason (--reason)",
        "support",
        "close",
        options={"override": True},
    )
    _refused(
        head,
        "actions_closed",
        "support actions are still open (#1); only the facilitator may override",
        "support",
        "close",
        reason="we are done",
        options={"override": True},
    )
    actions.update_action(
        head, cycle=cycle, urn=HOST, number=1, rag=Rag.COMPLETE, note="Seen in every class"
    )
    assert _fire(rt, "support", "close") == "closed"
