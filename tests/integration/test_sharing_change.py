"""Widening or withdrawing a published write-up's sharing: the host school or the facilitator,
with a reason, only once published; each change logged (before, after, who, when, why); it
holds at once for reading the write-up and in the good-practice directory. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from review_engine.core.domain import SharingLevel
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import practice, writeups
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    agree_writeup,
    draft_writeup,
    hold_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]
OUTSIDER = URNS[5]  # in the cluster, neither the host nor one of its visitors
ANOTHER = URNS[4]  # likewise


@pytest.fixture
def visitors(cycle_rt: Runtime, clock: FakeClock) -> list[int]:
    """The host's visit held; its visitors, lead first."""
    submit_sef(cycle_rt, CYCLE, HOST)
    found = set_rotation_triads(cycle_rt, CYCLE, URNS)[HOST]
    hold_visit(cycle_rt, clock, CYCLE, HOST, date(2026, 11, 10))
    return found


@pytest.fixture
def published(cycle_rt: Runtime, visitors: list[int]) -> list[int]:
    """The host's write-up published to its reviewers only."""
    publish_writeup(cycle_rt, CYCLE, HOST, visitors, SharingLevel.REVIEWERS)
    return visitors


def reads(rt: Runtime, email: str) -> bool:
    """Whether the person may read the host's write-up (else it is not found)."""
    try:
        writeups.report_for(rt.acting_as(email), cycle=CYCLE, host=HOST)
    except NotFound:
        return False
    return True


def in_directory(rt: Runtime, email: str) -> bool:
    return HOST in {p.urn for p in practice.list_practice(rt.acting_as(email))}


def change(rt: Runtime, who: str, sharing: SharingLevel, **kwargs: object) -> Any:
    return writeups.change_sharing(
        rt.acting_as(who), cycle=CYCLE, host=HOST, sharing=sharing,
        reason=str(kwargs.pop("reason", "Other schools asked to see the phonics work")),
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_host_widens_then_the_facilitator_withdraws_and_both_hold_at_once(
    cycle_rt: Runtime, published: list[int]
) -> None:
    outsider = HEADS[OUTSIDER]
    assert not reads(cycle_rt, outsider) and not in_directory(cycle_rt, outsider)

    widened = change(cycle_rt, HEADS[HOST], SharingLevel.CLUSTER)
    assert widened.writeup.sharing == "cluster"
    reached = set(widened.reached)
    assert len(reached) == len(URNS) - 1 - len(published)  # every member but host and visitors
    assert widened.withdrawn == []
    assert reads(cycle_rt, outsider) and in_directory(cycle_rt, outsider)

    withdrawn = change(cycle_rt, FACILITATOR, SharingLevel.REVIEWERS, reason="Shared by mistake")
    assert set(withdrawn.withdrawn) == reached and withdrawn.reached == []
    assert not reads(cycle_rt, outsider), "withdrawn: the school finds no such write-up"
    assert not in_directory(cycle_rt, outsider), "and the directory no longer lists it"
    assert reads(cycle_rt, HEADS[published[0]]), "its reviewers still read it"

    newest, first = withdrawn.log
    assert (first.sharing_before, first.sharing_after) == ("reviewers", "cluster")
    assert first.reason == "Other schools asked to see the phonics work"
    assert (newest.sharing_before, newest.sharing_after) == ("cluster", "reviewers")
    assert newest.reason == "Shared by mistake"
    assert newest.by != FACILITATOR and first.by != HEADS[HOST]  # names, not e-mails
    assert newest.at >= first.at
    page = writeups.writeup_page(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST)
    assert page.may_share and [c.reason for c in page.sharing_log] == [
        "Shared by mistake", "Other schools asked to see the phonics work"
    ]  # fmt: skip


def shared_notices(rt: Runtime) -> list[str]:
    """Who has been told a write-up is shared with them, one entry per message."""
    with rt.db.transaction() as session:
        return sorted(
            session.exec(
                select(OutboxMessage.recipient).where(OutboxMessage.notice == "writeup_shared")
            ).all()
        )


def test_schools_newly_reached_are_told_once_per_change(
    cycle_rt: Runtime, published: list[int]
) -> None:
    told = shared_notices(cycle_rt)  # the reviewers, told when it was published
    assert HEADS[OUTSIDER] not in told and HEADS[ANOTHER] not in told
    change(cycle_rt, HEADS[HOST], SharingLevel.NAMED, shared_with=[OUTSIDER])
    assert shared_notices(cycle_rt) == sorted([*told, HEADS[OUTSIDER]])
    change(cycle_rt, HEADS[HOST], SharingLevel.NAMED, shared_with=[OUTSIDER, ANOTHER])
    assert shared_notices(cycle_rt) == sorted([*told, HEADS[OUTSIDER], HEADS[ANOTHER]])
    change(cycle_rt, FACILITATOR, SharingLevel.REVIEWERS, reason="Withdrawn")  # nobody told
    assert len(shared_notices(cycle_rt)) == len(told) + 2
    change(cycle_rt, HEADS[HOST], SharingLevel.NAMED, shared_with=[OUTSIDER])  # reached again
    assert shared_notices(cycle_rt).count(HEADS[OUTSIDER]) == 2


def test_sharing_with_named_schools_reaches_only_them(
    cycle_rt: Runtime, published: list[int]
) -> None:
    named = change(cycle_rt, HEADS[HOST], SharingLevel.NAMED, shared_with=[OUTSIDER])
    assert len(named.reached) == 1
    assert reads(cycle_rt, HEADS[OUTSIDER]) and in_directory(cycle_rt, HEADS[OUTSIDER])
    assert not reads(cycle_rt, HEADS[ANOTHER]) and not in_directory(cycle_rt, HEADS[ANOTHER])
    moved = change(cycle_rt, HEADS[HOST], SharingLevel.NAMED, shared_with=[ANOTHER])
    assert len(moved.reached) == 1 and len(moved.withdrawn) == 1
    assert not reads(cycle_rt, HEADS[OUTSIDER]) and reads(cycle_rt, HEADS[ANOTHER])
    assert moved.log[0].shared_with_before != moved.log[0].shared_with_after


@pytest.mark.parametrize(
    ("sharing", "extra", "says"),
    [
        (SharingLevel.CLUSTER, {"reason": "  "}, "a reason is required"),
        (SharingLevel.NAMED, {}, "needs --with"),
        (SharingLevel.CLUSTER, {"shared_with": [OUTSIDER]}, "only when sharing with named"),
        (SharingLevel.NAMED, {"shared_with": [990_201]}, "are not other schools"),
        (SharingLevel.REVIEWERS, {}, "already shared so"),
    ],
    ids=["no-reason", "named-without-schools", "schools-without-named", "stranger", "no-change"],
)
def test_bad_changes_are_refused_in_one_line_and_change_nothing(
    cycle_rt: Runtime, published: list[int], sharing: SharingLevel, extra: dict, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        change(cycle_rt, HEADS[HOST], sharing, **extra)
    page = writeups.writeup_page(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST)
    assert page.sharing_log == [] and page.writeup is not None
    assert page.writeup.sharing == "reviewers"


def test_only_a_published_write_up_can_change_its_sharing(
    cycle_rt: Runtime, visitors: list[int]
) -> None:
    draft_writeup(cycle_rt, CYCLE, HOST, visitors[0])
    agree_writeup(cycle_rt, CYCLE, HOST, visitors)
    with pytest.raises(InvalidInput, match="not published yet"):
        change(cycle_rt, HEADS[HOST], SharingLevel.CLUSTER)


def test_who_may_change_it(cycle_rt: Runtime, published: list[int]) -> None:
    # A visiting school reads it but may not choose who else does.
    with pytest.raises(NotPermitted):
        change(cycle_rt, HEADS[published[0]], SharingLevel.CLUSTER)
    # Someone who may not read it learns nothing: it is not found, as for no write-up at all.
    for outsider in (HEADS[OUTSIDER], OTHER_FACILITATOR):
        with pytest.raises(NotFound):
            change(cycle_rt, outsider, SharingLevel.CLUSTER)
    page = writeups.writeup_page(cycle_rt.acting_as(HEADS[published[0]]), cycle=CYCLE, host=HOST)
    assert not page.may_share and page.sharing_log == []
