"""The catalogue of event notices (core.notices): every event has a kind, an audience, a
template that renders in en-GB with the school's name, the cycle by name, a link and (unless
essential) the unsubscribe link; the transitions it names exist; docs/notices.md lists it."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from review_engine.core.domain import NoticeKind, Rag, Role, Slot
from review_engine.core.notices import CATALOGUE, ON_TRIGGER, SUPPORT_PHASE, Audience, Event
from review_engine.core.phases import CONTRACTS, CYCLE_WORDS
from review_engine.documents import environment

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notices.md"
NAMES = {
    990101: "Northbrook Primary School",
    990102: "St Aidan’s Primary School",
    990103: "Hollinsgate",
}
FACTS = {
    "version": 2,
    "reason": "Please add the reading data",
    "changed": False,
    "lead": 990102,
    "visitors": [990102, 990103],
    "co_reviewers": [990103],
    "visit_date": date(2026, 11, 17),
    "slot": Slot.MORNING,
    "start": time(9),
    "end": time(12, 30),
    "by_school": 990103,
    "sharing": "cluster",
    "number": 1,
    "title": "Keep-up sessions",
    "owner": "English lead",
    "criteria": "Seen in every class",
    "due": date(2026, 11, 24),
    "due_half_term": "",
    "rag": Rag.RED,
    "note": "Staff absence",
    "supporter": 990103,
    "visit_day": date(2026, 11, 17),
    "overdue": False,
}


def _render(event: Event, *, essential: bool = False) -> tuple[str, str]:
    module = (
        environment()
        .get_template(event.template)
        .make_module(
            {
                **FACTS,
                "cycle": "Northbrook 2026-27",
                "school": NAMES[990101],
                "school_urn": 990101,
                "your_school": NAMES[990102],
                "your_urn": 990102,
                "as_host": False,
                "name": "Aisha Rahman",
                "link": "https://review.example.org/cycles/Northbrook/2026-27",
                "unsubscribe": None
                if essential
                else "https://review.example.org/notices/unsubscribe?x",
                "kind_label": CATALOGUE[event].kind.label,
                "names": NAMES,
            }
        )
    )
    return str(getattr(module, "subject")), str(module)  # noqa: B009


@pytest.mark.parametrize("event", list(Event), ids=[e.value for e in Event])
def test_every_event_has_a_notice_worded_by_its_own_template(event: Event) -> None:
    notice = CATALOGUE[event]
    assert isinstance(notice.kind, NoticeKind) and notice.to and notice.when
    subject, body = _render(event)
    assert subject.endswith("(Northbrook 2026-27)"), subject
    assert "\n" not in subject.strip()
    assert body.startswith("Hello Aisha Rahman,\n")
    assert "https://review.example.org/cycles/Northbrook/2026-27" in body
    assert "notices/unsubscribe" in body  # none of the events' notices is essential
    assert "990101" not in subject + body  # school names, never URNs
    assert "_" not in subject  # no internal state or event names


def test_an_essential_notice_has_no_unsubscribe_link() -> None:
    _, body = _render(Event.SEF_RETURNED, essential=True)
    assert "unsubscribe" not in body


def test_the_transitions_named_exist_in_their_parts_contract() -> None:
    for (part, trigger), event in ON_TRIGGER.items():
        assert trigger in {t for t, _, _ in CONTRACTS[part].edges}, (part, trigger)
        assert event in CATALOGUE
    assert SUPPORT_PHASE in CYCLE_WORDS  # the cycle's phase in which plans are agreed


def test_a_head_takes_every_school_notice_and_a_facilitator_their_own() -> None:
    school_kinds = {n.kind for n in CATALOGUE.values() if Audience.FACILITATOR not in n.to}
    assert school_kinds <= NoticeKind.defaults_for(Role.HEAD)
    assert NoticeKind.FACILITATOR not in NoticeKind.defaults_for(Role.HEAD)
    assert NoticeKind.defaults_for(Role.FACILITATOR) == {NoticeKind.FACILITATOR}
    assert NoticeKind.defaults_for(Role.TEACHER) == frozenset()
    assert all(k.label for k in NoticeKind)


def test_the_notices_page_lists_every_event() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for event in Event:
        assert f"`{event.value}`" in text, event
    for kind in NoticeKind:
        assert f"`{kind.value}`" in text, kind
