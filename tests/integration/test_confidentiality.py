"""Who sees what: every kind of record against every kind of person, on SQLite and PostgreSQL.

A school's SEF, visit plan and review are confidential to the school, its reviewers and the
facilitator unless the school agrees to share ("trust is clearly of paramount importance").
Refused reads raise NotPermitted; lists, counts and status lines leave hidden records out.

One cycle is built per backend (a module-scoped fixture) and only read by the tests. Triads
rotate: host i is visited by i+1 (lead), i+2 and i+3, so for each host the people are:
  own        the head of the school itself
  visitor    the head of school i+2, a co-reviewer in its triad
  other      the head of school i+4, a member that neither visits it nor is visited by it
  named      the head of school i+5, a member outside its triad (the named-sharing record)
  supporter  the head of the school supporting its action (the support-actions record)
  elsewhere  the facilitator of another cluster
  stranger   a name no one registered
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select

from review_engine.core.domain import SharingLevel
from review_engine.errors import NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import (
    actions,
    cycles,
    feedback,
    history,
    practice,
    sef,
    triads,
    visits,
    writeups,
)
from review_engine.store.models import Cycle, Review
from review_engine.store.phase_tables import SupportAction
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CLUSTER,
    CYCLE,
    HEADS,
    OTHER_CLUSTER,
    OTHER_FACILITATOR,
    UNREGISTERED,
    VISIT_DAYS,
    at,
    draft_writeup,
    plan_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)  # 990101 ... 990108
SUPPORTER = URNS[6]  # supports the action of URNS[0]


@dataclass(frozen=True)
class World:
    triads: dict[int, list[int]]  # host -> visitors, lead first
    names: dict[int, str]


@pytest.fixture(scope="module")
def world(module_rt: Runtime, module_clock: FakeClock) -> World:
    """URNS[0]: SEF (returned once), visit held, write-up drafted not published, a support
    action, feedback. URNS[1..3]: visits held, write-ups published to reviewers, the cluster,
    and a named school (URNS[3+5] = URNS[0]). URNS[5]: no write-up yet."""
    rt, cycle = module_rt, CYCLE
    by_host = set_rotation_triads(rt, cycle, URNS)
    s0, s1, s2, s3 = URNS[:4]
    submit_sef(rt, cycle, s0)
    sef.decide_sef(rt, cycle=cycle, urn=s0, accept=False, reason="attendance evidence, please")
    submit_sef(rt, cycle, s0)
    for host, day in zip((s0, s1, s2, s3), VISIT_DAYS, strict=False):
        plan_visit(rt, cycle, host, day)
    module_clock.set(at(VISIT_DAYS[3]))
    for host in (s0, s1, s2, s3):
        visits.complete(rt.acting_as(HEADS[host]), cycle=cycle, host=host)
    draft_writeup(rt, cycle, s0, by_host[s0][0])
    publish_writeup(rt, cycle, s1, by_host[s1], SharingLevel.REVIEWERS)
    publish_writeup(rt, cycle, s2, by_host[s2], SharingLevel.CLUSTER)
    publish_writeup(rt, cycle, s3, by_host[s3], SharingLevel.NAMED, named=[URNS[(3 + 5) % 8]])
    # Actions normally follow a published write-up; here s0's stays a draft so that its
    # action and its unpublished write-up can both be checked, so the row is written directly.
    with rt.db.transaction() as session:
        review = session.exec(
            select(Review)
            .join(Cycle, col(Cycle.id) == Review.cycle_id)
            .where(Review.school_urn == s0)
        ).one()
        assert review.id is not None
        session.add(
            SupportAction(
                review_id=review.id,
                number=1,
                ebi="Catching up pupils who fall behind",
                title="Keep-up sessions",
                owner="English lead",
                supporting_urn=SUPPORTER,
                success_criteria="Seen in every class",
                due_date=date(2026, 12, 10),
                rag="amber",
                created_at=module_clock.now(),
            )
        )
    lead, visitor = by_host[s0][0], by_host[s0][1]
    feedback.give(rt.acting_as(HEADS[s0]), cycle=cycle, host=s0, kind="immediate", usefulness=4)
    feedback.give(rt.acting_as(HEADS[lead]), cycle=cycle, host=s0, kind="immediate", usefulness=5)
    module_clock.set(at(date(2027, 1, 8)))
    feedback.give(
        rt.acting_as(HEADS[visitor]),
        cycle=cycle,
        host=s0,
        kind="reflection",
        changed_practice="Keep-up sessions in Year 1",
    )
    names = {s.urn: s.name for s in cycles.cycle_status(rt, cycle=cycle).schools}
    return World(by_host, names)


def person(role: str, host: int) -> str:
    """The email of the person in this role towards this host."""
    i = URNS.index(host)
    heads = {
        "own": HEADS[host],
        "visitor": HEADS[URNS[(i + 2) % 8]],
        "other": HEADS[URNS[(i + 4) % 8]],
        "named": HEADS[URNS[(i + 5) % 8]],
        "supporter": HEADS[SUPPORTER],
    }
    fixed = {"facilitator": FACILITATOR, "elsewhere": OTHER_FACILITATOR, "stranger": UNREGISTERED}
    return fixed.get(role) or heads[role]


# --- what each kind of record shows the person -----------------------------------------
# A reader returns True when the person saw the host's record, False when it was left out
# of a list; a refusal raises NotPermitted.

Reader = Callable[[Runtime, int], bool]


def _sef(rt: Runtime, host: int) -> bool:
    view = sef.show_sef(rt, cycle=CYCLE, urn=host)
    return view.urn == host and view.versions == 2


def _visit(rt: Runtime, host: int) -> bool:
    view = visits.show(rt, cycle=CYCLE, host=host)
    return view.host == host and view.state == "visited"


def _writeup(rt: Runtime, host: int) -> bool:
    view = writeups.show(rt, cycle=CYCLE, host=host)
    return view.host == host and len(view.ebi) == 2


def _practice(rt: Runtime, host: int) -> bool:
    """The directory, whole and filtered: the host's entry is in all three or in none."""
    seen = [
        [e.urn for e in practice.list_practice(rt)],
        [e.urn for e in practice.list_practice(rt, cluster=CLUSTER)],
        [e.urn for e in practice.list_practice(rt, area="quality_of_education")],
    ]
    counts = {entries.count(host) for entries in seen}
    assert len(counts) == 1, f"the filters disagree: {seen}"
    return counts.pop() == 1


def _actions(rt: Runtime, host: int) -> bool:
    everything = actions.list_actions(rt, cycle=CYCLE)
    one = actions.list_actions(rt, cycle=CYCLE, urn=host)
    overdue = actions.list_actions(rt, cycle=CYCLE, overdue=True)
    found = [any(a.urn == host for a in rows) for rows in (everything, one, overdue)]
    assert len(set(found)) == 1, f"lists disagree: {found}"
    return found[0]


def _status(rt: Runtime, host: int) -> bool:
    return host in {s.urn for s in cycles.cycle_status(rt, cycle=CYCLE).schools}


def _history(rt: Runtime, host: int) -> bool:
    everything = any(h.school_urn == host for h in history.history(rt, cycle=CYCLE))
    one = history.history(rt, cycle=CYCLE, school_urn=host)
    assert everything == bool(one)
    return everything


def _triads(rt: Runtime, host: int) -> bool:
    rows = triads.show(rt, cycle=CYCLE)
    return any(r.host == host for r in rows)


@dataclass(frozen=True)
class Record:
    name: str
    host: int
    read: Reader
    allowed: frozenset[str]
    extra: tuple[str, ...] = ()  # roles beyond the common ones


BASE = ("facilitator", "own", "visitor", "other", "elsewhere", "stranger")
HOST_SIDE = frozenset({"facilitator", "own", "visitor"})
s0, s1, s2, s3 = URNS[:4]
RECORDS = [
    Record("sef", s0, _sef, HOST_SIDE),
    Record("visit-plan", s0, _visit, HOST_SIDE),
    Record("writeup-draft", s0, _writeup, HOST_SIDE),
    Record("writeup-reviewers", s1, _writeup, HOST_SIDE),
    Record("writeup-cluster", s2, _writeup, HOST_SIDE | {"other"}),
    Record("writeup-named", s3, _writeup, HOST_SIDE | {"named"}, ("named",)),
    Record("practice-draft", s0, _practice, frozenset()),
    Record("practice-reviewers", s1, _practice, HOST_SIDE),
    Record("practice-cluster", s2, _practice, HOST_SIDE | {"other"}),
    Record("practice-named", s3, _practice, HOST_SIDE | {"named"}, ("named",)),
    Record("actions", s0, _actions, frozenset({"facilitator", "own", "supporter"}), ("supporter",)),
    Record("status-rows", s0, _status, HOST_SIDE),
    Record("history-rows", s0, _history, HOST_SIDE),
    Record("triads", s0, _triads, HOST_SIDE),
]
CELLS = [(r, role) for r in RECORDS for role in (*BASE, *r.extra)]


@pytest.mark.parametrize(("record", "role"), CELLS, ids=[f"{r.name}-{role}" for r, role in CELLS])
def test_who_sees_what(world: World, module_rt: Runtime, record: Record, role: str) -> None:
    rt = module_rt.acting_as(person(role, record.host))
    if role == "stranger":
        with pytest.raises(NotPermitted, match="not a registered person"):
            record.read(rt, record.host)
    elif role in record.allowed:
        assert record.read(rt, record.host) is True
    elif record.read in (_sef, _visit, _writeup):
        with pytest.raises(NotPermitted) as refused:
            record.read(rt, record.host)
        assert str(refused.value).startswith(f"{person(role, record.host)} may not see ")
    else:
        assert record.read(rt, record.host) is False


FEEDBACK_SEEN = {
    # feedback on the visit to URNS[0]: its own immediate, its lead's immediate, and a
    # co-reviewer's reflection
    "facilitator": {"own immediate", "lead immediate", "visitor reflection"},
    "own": {"own immediate", "lead immediate"},  # immediate feedback on its own visit
    "visitor": {"visitor reflection"},  # only what it gave
    "other": set(),
    "elsewhere": set(),
}


@pytest.mark.parametrize(("role", "expected"), FEEDBACK_SEEN.items(), ids=list(FEEDBACK_SEEN))
def test_feedback_each_person_sees(
    world: World, module_rt: Runtime, role: str, expected: set[str]
) -> None:
    who = {s0: "own", world.triads[s0][0]: "lead", world.triads[s0][1]: "visitor"}
    rows = feedback.list_feedback(module_rt.acting_as(person(role, s0)), cycle=CYCLE)
    assert {f"{who[f.from_urn]} {f.kind}" for f in rows if f.host == s0} == expected
    assert all(f.host == s0 for f in rows)


def test_feedback_is_refused_to_a_stranger(world: World, module_rt: Runtime) -> None:
    with pytest.raises(NotPermitted, match="not a registered person"):
        feedback.list_feedback(module_rt.acting_as(UNREGISTERED), cycle=CYCLE)


# Published: URNS[1] to its reviewers (URNS[2..4]), URNS[2] to the cluster, URNS[3] to its
# reviewers (URNS[4..6]) and URNS[0] by name. The draft of URNS[0] is in no one's directory.
DIRECTORY = {
    FACILITATOR: [s1, s2, s3],
    OTHER_FACILITATOR: [],
    HEADS[URNS[0]]: [s2, s3],
    HEADS[URNS[1]]: [s1, s2],
    HEADS[URNS[2]]: [s1, s2],
    HEADS[URNS[3]]: [s1, s2, s3],
    HEADS[URNS[4]]: [s1, s2, s3],
    HEADS[URNS[5]]: [s2, s3],
    HEADS[URNS[6]]: [s2, s3],
    HEADS[URNS[7]]: [s2],
}


@pytest.mark.parametrize(("email", "hosts"), DIRECTORY.items(), ids=list(DIRECTORY))
def test_the_directory_lists_and_counts_only_what_is_shared(
    world: World, module_rt: Runtime, email: str, hosts: list[int]
) -> None:
    rt = module_rt.acting_as(email)
    assert sorted(e.urn for e in practice.list_practice(rt)) == hosts
    assert len(practice.suggest_supporters(rt, cluster=CLUSTER, area=None)) == len(hosts)
    assert practice.list_practice(rt, cluster=OTHER_CLUSTER) == []


def _visible(urn: int, by_host: dict[int, list[int]]) -> set[int]:
    """A school sees itself and the schools it visits."""
    return {urn, *(h for h, visitors in by_host.items() if urn in visitors)}


LINE = re.compile(
    r"^(?P<school>.+): (immediate|reflection) feedback on the visit to (?P<host>.+) \(due "
)


@pytest.mark.parametrize("urn", URNS, ids=[HEADS[u] for u in URNS])
def test_status_rows_and_lines_name_only_schools_the_head_may_see(
    world: World, module_rt: Runtime, urn: int
) -> None:
    status = cycles.cycle_status(module_rt.acting_as(HEADS[urn]), cycle=CYCLE)
    visible = _visible(urn, world.triads)
    assert {s.urn for s in status.schools} == visible
    names = {world.names[u] for u in visible}
    for line in status.missing_feedback:
        match = LINE.match(line)
        assert match, line
        assert {match["school"], match["host"]} <= names, line
    for line in status.overdue:
        assert line.split(":")[0] in names, line
    everything = history.history(module_rt.acting_as(HEADS[urn]), cycle=CYCLE)
    assert {h.school_urn for h in everything} - {None} <= visible


def test_the_facilitator_sees_every_missing_feedback_line(world: World, module_rt: Runtime) -> None:
    status = cycles.cycle_status(module_rt, cycle=CYCLE)
    assert len(status.schools) == 8
    hosts = {LINE.match(line)["host"] for line in status.missing_feedback}  # type: ignore[index]
    assert hosts == {world.names[u] for u in URNS[:4]}


@pytest.mark.parametrize(
    ("role", "refused"),
    [(role, role not in HOST_SIDE) for role in BASE],
    ids=list(BASE),
)
def test_a_writeup_not_yet_drafted_is_refused_alike_to_outsiders(
    world: World, module_rt: Runtime, role: str, refused: bool
) -> None:
    """Asking for a write-up that does not exist must not tell an outsider that it does
    not exist (which is a fact about the review): the refusal is the same as for a draft."""
    host = URNS[5]
    rt = module_rt.acting_as(person(role, host))
    expected: Any = NotPermitted if refused else NotFound
    with pytest.raises(expected) as raised:
        writeups.show(rt, cycle=CYCLE, host=host)
    if refused and role != "stranger":
        assert str(raised.value) == (
            f"{person(role, host)} may not see the write-up for school {host}: "
            "the host has not shared it with your school"
        )


# Each write below would fail for a reason that tells the state of the host's review (not
# drafted, already visited, already published, not started...); an outsider must only be told
# that they may not. Nothing is written: every attempt is refused.
WRITES: list[tuple[str, int, Callable[[Runtime, int], object]]] = [
    ("sef-accept-not-started", URNS[5],
     lambda rt, h: sef.decide_sef(rt, cycle=CYCLE, urn=h, accept=True, reason=None)),
    ("visit-complete-visited", s0, lambda rt, h: visits.complete(rt, cycle=CYCLE, host=h)),
    ("visit-cancel-visited", s0,
     lambda rt, h: visits.cancel(rt, cycle=CYCLE, host=h, reason="ill")),
    ("writeup-agree-drafted", s0, lambda rt, h: writeups.agree(rt, cycle=CYCLE, host=h)),
    ("writeup-agree-none", URNS[5], lambda rt, h: writeups.agree(rt, cycle=CYCLE, host=h)),
    ("writeup-return-published", s1,
     lambda rt, h: writeups.return_(rt, cycle=CYCLE, host=h, reason="no")),
    ("writeup-publish-drafted", s0,
     lambda rt, h: writeups.publish(rt, cycle=CYCLE, host=h, sharing=SharingLevel.CLUSTER)),
    ("impact-review-no-plan", s0, lambda rt, h: actions.impact_review(rt, cycle=CYCLE, urn=h)),
    ("feedback-not-visited", URNS[5],
     lambda rt, h: feedback.give(rt, cycle=CYCLE, host=h, kind="immediate", usefulness=3)),
]  # fmt: skip


@pytest.mark.parametrize(("host", "write"), [w[1:] for w in WRITES], ids=[w[0] for w in WRITES])
def test_an_outsider_is_refused_without_learning_the_state(
    world: World, module_rt: Runtime, host: int, write: Callable[[Runtime, int], object]
) -> None:
    outsider = person("other", host)
    before = history.history(module_rt, cycle=CYCLE, school_urn=host)
    with pytest.raises(NotPermitted) as refused:
        write(module_rt.acting_as(outsider), host)
    assert str(refused.value).startswith(f"{outsider} may not ")
    for word in ("drafted", "visited", "published", "not_started", "awaiting_plan", "state"):
        assert word not in str(refused.value)
    assert history.history(module_rt, cycle=CYCLE, school_urn=host) == before
