"""Who may change the programme itself: every write and admin operation asks the policy, for
every kind of person, and listings show each only what they may see. The operator is
whoever runs the CLI on the database without `--as`; the scheduler is a system actor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from review_engine.core.domain import Role
from review_engine.errors import NotPermitted
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import (
    calendars,
    clusters,
    cycles,
    history,
    outbox,
    people,
    schools,
    tick,
    transitions,
)
from review_engine.services.admin import REHEARSAL
from review_engine.store.models import DatabaseSetting, Membership
from tests.conftest import FACILITATOR, SAMPLES
from tests.integration.phase_helpers import (
    CALENDAR,
    CLUSTER,
    CYCLE,
    HEADS,
    OTHER_CLUSTER,
    OTHER_FACILITATOR,
    UNREGISTERED,
)

ADMIN = "admin@programme.example"
HOST = sorted(HEADS)[0]
CLOSED_SCHOOL = 990109  # a closed sample school, in no cluster
OUTSIDE_HEAD = "head@levenbridge.example"  # staff of a school outside the cluster

# Every kind of person, and whether each may do the programme's admin work.
PEOPLE = {
    "unregistered": UNREGISTERED,
    "outside head": OUTSIDE_HEAD,
    "member head": HEADS[HOST],
    "other facilitator": OTHER_FACILITATOR,
    "facilitator": FACILITATOR,
    "admin": ADMIN,
    "operator": OPERATOR,
}
ADMINS = {"admin", "operator"}
RUNS_THE_CLUSTER = {"facilitator", "admin", "operator"}


@pytest.fixture
def rt(cycle_rt: Runtime) -> Runtime:
    """The sample cluster with its cycle, plus a programme admin and a head outside it."""
    operator = cycle_rt.acting_as(OPERATOR)
    people.add_person(operator, email=ADMIN, name="Ada Admin", role=Role.ADMIN)
    people.add_person(
        operator, email=OUTSIDE_HEAD, name="Joan Whittle", role=Role.HEAD, school_urn=CLOSED_SCHOOL
    )
    return cycle_rt


def _refused_or_done(
    rt: Runtime, who: str, allowed: set[str], action: Callable[[Runtime], Any]
) -> None:
    """`who` may do `action` exactly when they are in `allowed`; a refusal is one line."""
    if who in allowed:
        action(rt.acting_as(PEOPLE[who]))
        return
    with pytest.raises(NotPermitted) as refused:
        action(rt.acting_as(PEOPLE[who]))
    assert "\n" not in str(refused.value)


OPERATIONS: dict[str, tuple[set[str], Callable[[Runtime], Any]]] = {
    "import schools": (
        ADMINS,
        lambda r: schools.import_gias(r, path=SAMPLES / "gias-sample.csv"),
    ),
    "import a calendar": (
        ADMINS,
        lambda r: calendars.import_calendar(
            r, name=CALENDAR, path=SAMPLES / "term-dates-2026-27.csv"
        ),
    ),
    "assign a calendar": (
        ADMINS,
        lambda r: calendars.assign_calendar(r, name=CALENDAR, la_code="352"),
    ),
    "create a cluster": (
        ADMINS,
        lambda r: clusters.create_cluster(r, name="Eastfield", facilitator_email=FACILITATOR),
    ),
    "register a facilitator": (
        ADMINS,
        lambda r: people.add_person(
            r, email="new.facilitator@example.org", name="N", role=Role.FACILITATOR
        ),
    ),
    "register an admin": (
        ADMINS,
        lambda r: people.add_person(r, email="second.admin@example.org", name="S", role=Role.ADMIN),
    ),
    "register a member school's deputy": (
        RUNS_THE_CLUSTER,
        lambda r: people.add_person(
            r, email="deputy2@northbrook.example", name="D", role=Role.DEPUTY, school_urn=HOST
        ),
    ),
    "register staff of a school outside the cluster": (
        ADMINS,
        lambda r: people.add_person(
            r, email="deputy@levenbridge.example", name="D", role=Role.DEPUTY, school_urn=990109
        ),
    ),
    "remove a member school": (
        RUNS_THE_CLUSTER,
        lambda r: clusters.remove_school(r, cluster=CLUSTER, urn=HOST),
    ),
    "add a school to the cluster": (
        RUNS_THE_CLUSTER,
        lambda r: clusters.add_schools(r, cluster=CLUSTER, urns=[HOST]),
    ),
    "add a school to another cluster": (
        ADMINS | {"other facilitator"},
        lambda r: clusters.add_schools(r, cluster=OTHER_CLUSTER, urns=[HOST]),
    ),
    "start a cycle": (
        RUNS_THE_CLUSTER,
        lambda r: cycles.start_cycle(r, cluster=CLUSTER, year="2027-28"),
    ),
    "run the tick": (ADMINS, lambda r: tick.tick(r)),
    "send the outbox": (ADMINS, lambda r: outbox.send_outbox(r)),
    "retry the outbox": (ADMINS, lambda r: outbox.mark_unsent(r)),
    "rehearse a tick at another time": (
        ADMINS,
        lambda r: tick.tick(r, now=datetime(2031, 1, 1, tzinfo=UTC), dry_run=True),
    ),
    "run a tick at another time (a rehearsal database)": (
        ADMINS,
        lambda r: tick.tick(r, now=datetime(2026, 9, 2, tzinfo=UTC)),
    ),
}


@pytest.mark.parametrize("who", list(PEOPLE), ids=list(PEOPLE))
@pytest.mark.parametrize("operation", list(OPERATIONS), ids=list(OPERATIONS))
def test_every_admin_operation_asks_who_is_acting(rt: Runtime, operation: str, who: str) -> None:
    allowed, action = OPERATIONS[operation]
    _refused_or_done(rt, who, allowed, action)


def test_a_refused_membership_change_changes_nothing(rt: Runtime) -> None:
    with pytest.raises(NotPermitted, match="only the cluster's facilitator or a programme admin"):
        clusters.remove_school(rt.acting_as(HEADS[HOST]), cluster=CLUSTER, urn=HOST)
    with rt.db.transaction() as session:
        left = session.exec(select(Membership.left).where(Membership.school_urn == HOST)).all()
    assert left == [None]


def test_history_names_the_person_who_ran_the_tick(rt: Runtime) -> None:
    tick.tick(rt.acting_as(ADMIN), now=None)
    tick.tick(rt.acting_as(OPERATOR), now=datetime(2026, 10, 27, 5, tzinfo=UTC))
    actors = {h.actor for h in history.history(rt, cycle=CYCLE) if h.trigger != "start"}
    assert any(a.startswith("operator (") for a in actors), actors
    assert SCHEDULER not in actors


def test_people_are_listed_only_to_those_who_may_see_them(rt: Runtime) -> None:
    everyone = {p.email for p in people.list_people(rt.acting_as(ADMIN))}
    assert {ADMIN, OUTSIDE_HEAD, FACILITATOR, OTHER_FACILITATOR} <= everyone
    mine = {p.email for p in people.list_people(rt)}  # the facilitator
    assert HEADS[HOST] in mine and FACILITATOR in mine
    assert not {ADMIN, OUTSIDE_HEAD, OTHER_FACILITATOR} & mine
    staff = {p.email for p in people.list_people(rt.acting_as(HEADS[HOST]))}
    assert HEADS[HOST] in staff and HEADS[sorted(HEADS)[1]] not in staff
    assert [p.email for p in people.list_people(rt.acting_as(OTHER_FACILITATOR))] == [
        OTHER_FACILITATOR
    ]
    with pytest.raises(NotPermitted):
        people.list_people(rt.acting_as(UNREGISTERED))


def test_the_outbox_is_listed_only_to_those_it_concerns(rt: Runtime) -> None:
    queued = tick.tick(rt.acting_as(SCHEDULER), now=datetime(2026, 10, 9, 5, tzinfo=UTC))
    assert queued.reminders > 0
    every = outbox.list_outbox(rt.acting_as(ADMIN))
    assert len(every) == queued.reminders
    assert len(outbox.list_outbox(rt)) == len(every)  # the cluster's facilitator
    assert outbox.list_outbox(rt.acting_as(OTHER_FACILITATOR)) == []
    own = outbox.list_outbox(rt.acting_as(HEADS[HOST]))
    assert own and {m.recipient for m in own} == {HEADS[HOST]}


@pytest.mark.parametrize(
    ("machine", "trigger"),
    [
        ("self_review", "start"),  # allowed in the current state
        ("self_review", "accept"),  # not allowed in the current state
        ("write_up", "publish"),
        ("support", "close"),
        ("no_such_machine", "x"),
    ],
    ids=["allowed-now", "not-now", "write-up", "support", "unknown"],
)
def test_an_outsiders_raw_trigger_is_refused_alike_whatever_the_state(
    rt: Runtime, machine: str, trigger: str
) -> None:
    with pytest.raises(Exception) as refused:
        transitions.fire(
            rt.acting_as(OUTSIDE_HEAD),
            cycle=CYCLE,
            machine=machine,
            trigger=trigger,
            school_urn=HOST,
        )
    if machine == "no_such_machine":
        return  # the workflow's machines are public (`review workflows show`)
    assert isinstance(refused.value, NotPermitted)
    assert str(refused.value) == (
        f"{OUTSIDE_HEAD} may not {trigger} {machine} of {CYCLE} school {HOST}: "
        "you have no part in it"
    )


def test_only_a_rehearsal_database_lets_a_tick_pretend_another_time(rt: Runtime) -> None:
    """The test databases are made with `review init --rehearsal`; a real one is not."""
    with rt.db.transaction() as session:
        session.delete(session.get(DatabaseSetting, REHEARSAL))
    for who in (OPERATOR, ADMIN, SCHEDULER):
        with pytest.raises(NotPermitted, match=r"only a rehearsal database \(review init"):
            tick.tick(rt.acting_as(who), now=datetime(2031, 1, 1, tzinfo=UTC))
        rehearsed = tick.tick(rt.acting_as(who), now=datetime(2031, 1, 1, tzinfo=UTC), dry_run=True)
        assert rehearsed.dry_run and rehearsed.boundaries > 0
    assert cycles.cycle_status(rt, cycle=CYCLE).state == "self_review"  # nothing moved
