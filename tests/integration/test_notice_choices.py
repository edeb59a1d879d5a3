"""Who receives notices, and how, through the services (on SQLite and PostgreSQL): a school's
routing of each kind to roles, a person's own choice (immediately, daily digest, off), the
fallback when nobody would hear, and the signed unsubscribe link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import notice_choices, people
from review_engine.services._recipients import Recipient, recipients, unsubscribe_url
from tests.integration.phase_helpers import DEPUTY, HEADS, OTHER_FACILITATOR

HOST = min(HEADS)  # 990101, whose deputy is in the sample
HEAD = HEADS[HOST]
OTHER_HEAD = HEADS[max(HEADS)]
TEACHER = "teacher@northbrook.example"
K = NoticeKind


def _takers(rt: Runtime, kind: NoticeKind, urn: int = HOST) -> list[Recipient]:
    with rt.db.transaction() as session:
        return recipients(session, {urn}, {kind}).get((urn, kind), [])


def _emails(rt: Runtime, kind: NoticeKind) -> list[str]:
    return [r.email for r in _takers(rt, kind)]


# --- a school's routing -------------------------------------------------------------------


def test_by_default_only_the_head_takes_the_schools_notices(cycle_rt: Runtime) -> None:
    assert _emails(cycle_rt, K.REMINDERS) == [HEAD]
    routing = notice_choices.school_routing(cycle_rt.acting_as(HEAD), urn=HOST)
    reminders = next(r for r in routing.routes if r.kind is K.REMINDERS)
    assert (reminders.roles, reminders.own, routing.may_change) == ({Role.HEAD}, False, True)


def test_the_head_routes_a_kind_to_head_and_deputy(cycle_rt: Runtime) -> None:
    head = cycle_rt.acting_as(HEAD)
    routing = notice_choices.set_school_routing(
        head, urn=HOST, kind=K.SEF_DECISIONS, roles=frozenset({Role.HEAD, Role.DEPUTY})
    )
    decisions = next(r for r in routing.routes if r.kind is K.SEF_DECISIONS)
    assert decisions.own and decisions.roles == {Role.HEAD, Role.DEPUTY}
    assert _emails(cycle_rt, K.SEF_DECISIONS) == [DEPUTY, HEAD]
    assert _emails(cycle_rt, K.REMINDERS) == [HEAD]  # other kinds as before
    # Back to the programme's default.
    notice_choices.set_school_routing(head, urn=HOST, kind=K.SEF_DECISIONS, roles=None)
    assert _emails(cycle_rt, K.SEF_DECISIONS) == [HEAD]


def test_a_routing_to_the_deputy_only_and_a_teacher(cycle_rt: Runtime) -> None:
    people.add_person(
        cycle_rt, email=TEACHER, name="Ola Teacher", role=Role.TEACHER, school_urn=HOST
    )
    notice_choices.set_school_routing(
        cycle_rt, urn=HOST, kind=K.VISITS, roles=frozenset({Role.DEPUTY, Role.TEACHER})
    )
    assert _emails(cycle_rt, K.VISITS) == [DEPUTY, TEACHER]


def test_routed_to_nobody_the_school_still_hears_through_its_head(cycle_rt: Runtime) -> None:
    notice_choices.set_school_routing(cycle_rt, urn=HOST, kind=K.SUPPORT, roles=frozenset())
    assert _emails(cycle_rt, K.SUPPORT) == [HEAD]  # nobody would hear it: the head stands in


def test_who_may_route_a_schools_notices(cycle_rt: Runtime) -> None:
    deputy = cycle_rt.acting_as(DEPUTY)
    assert not notice_choices.school_routing(deputy, urn=HOST).may_change  # reads only
    with pytest.raises(NotPermitted):
        notice_choices.set_school_routing(deputy, urn=HOST, kind=K.VISITS, roles=frozenset())
    missing = 999_999
    for outsider in (OTHER_HEAD, OTHER_FACILITATOR):
        rt = cycle_rt.acting_as(outsider)
        with pytest.raises(NotFound) as hidden:
            notice_choices.school_routing(rt, urn=HOST)
        with pytest.raises(NotFound) as absent:
            notice_choices.school_routing(rt, urn=missing)
        assert str(hidden.value) == str(absent.value).replace(str(missing), str(HOST))
        with pytest.raises(NotFound):
            notice_choices.set_school_routing(rt, urn=HOST, kind=K.VISITS, roles=frozenset())
    assert _emails(cycle_rt, K.VISITS) == [HEAD]  # nothing changed
    # The facilitator of the school's cluster and the operator may.
    notice_choices.set_school_routing(
        cycle_rt, urn=HOST, kind=K.VISITS, roles=frozenset({Role.DEPUTY})
    )
    notice_choices.set_school_routing(
        cycle_rt.acting_as(OPERATOR), urn=HOST, kind=K.VISITS, roles=frozenset({Role.HEAD})
    )
    assert _emails(cycle_rt, K.VISITS) == [HEAD]


# --- a person's choice --------------------------------------------------------------------


def test_a_deputy_takes_reminders_in_the_daily_digest(cycle_rt: Runtime) -> None:
    deputy = cycle_rt.acting_as(DEPUTY)
    chosen = notice_choices.set_notice_choices(deputy, changes={K.REMINDERS: Delivery.DIGEST})
    assert chosen.chosen and chosen.delivery(K.REMINDERS) is Delivery.DIGEST
    assert chosen.delivery(K.VISITS) is Delivery.OFF
    assert _takers(cycle_rt, K.REMINDERS) == [
        Recipient(DEPUTY, "Chris Lowe", digest=True),
        Recipient(HEAD, "Aisha Rahman", digest=False),
    ]
    # Shown in the lists as a kind they take.
    assert people.show_person(deputy, email=DEPUTY).person.notices == ("reminders",)


def test_a_head_who_turns_a_kind_off_is_left_out_and_the_deputy_stands_in(
    cycle_rt: Runtime,
) -> None:
    head = cycle_rt.acting_as(HEAD)
    notice_choices.set_notice_choices(head, changes={K.WRITEUPS: Delivery.OFF})
    assert _emails(cycle_rt, K.WRITEUPS) == [DEPUTY]  # nobody would hear: the deputy does
    assert _emails(cycle_rt, K.REMINDERS) == [HEAD]
    log = people.show_person(head, email=HEAD).changes
    assert log[0].setting == "notices" and log[0].actor == HEAD
    reset = notice_choices.reset_notice_choices(head)
    assert not reset.chosen and _emails(cycle_rt, K.WRITEUPS) == [HEAD]


def test_a_choice_is_for_oneself_the_facilitator_or_an_admin(cycle_rt: Runtime) -> None:
    with pytest.raises(NotFound):
        notice_choices.set_notice_choices(
            cycle_rt.acting_as(HEAD), email=DEPUTY, changes={K.VISITS: Delivery.OFF}
        )
    with pytest.raises(NotFound):
        notice_choices.notice_settings(cycle_rt.acting_as(OTHER_HEAD), email=HEAD)
    done = notice_choices.set_notice_choices(
        cycle_rt, email=DEPUTY, changes={K.VISITS: Delivery.IMMEDIATELY}
    )
    assert done.delivery(K.VISITS) is Delivery.IMMEDIATELY


def test_the_old_checkbox_choice_keeps_a_digest(cycle_rt: Runtime) -> None:
    notice_choices.set_notice_choices(cycle_rt, email=DEPUTY, changes={K.VISITS: Delivery.DIGEST})
    people.set_notices(cycle_rt, email=DEPUTY, kinds=[K.VISITS, K.REMINDERS])
    settings = notice_choices.notice_settings(cycle_rt, email=DEPUTY)
    assert settings.delivery(K.VISITS) is Delivery.DIGEST
    assert settings.delivery(K.REMINDERS) is Delivery.IMMEDIATELY


# --- the unsubscribe link -----------------------------------------------------------------


def _link(rt: Runtime, email: str, kind: NoticeKind) -> dict[str, str]:
    with rt.db.transaction() as session:
        url = unsubscribe_url(session, "https://review.example/", email, kind)
    assert url.startswith("https://review.example/notices/unsubscribe?")
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_an_unsubscribe_link_turns_that_kind_off_and_nothing_else(cycle_rt: Runtime) -> None:
    link = _link(cycle_rt, HEAD, K.VISITS)
    seen = notice_choices.check_unsubscribe(cycle_rt, **link)
    assert (seen.name, seen.kind, seen.delivery) == ("Aisha Rahman", K.VISITS, Delivery.IMMEDIATELY)
    done = notice_choices.unsubscribe(cycle_rt, **link)
    assert done.delivery is Delivery.OFF
    settings = notice_choices.notice_settings(cycle_rt, email=HEAD)
    assert settings.delivery(K.VISITS) is Delivery.OFF
    assert settings.delivery(K.REMINDERS) is Delivery.IMMEDIATELY
    log = people.show_person(cycle_rt, email=HEAD).changes
    assert log[0].actor == f"{HEAD} (unsubscribe link)"
    # The same link twice: still off, no harm.
    assert notice_choices.unsubscribe(cycle_rt, **link).delivery is Delivery.OFF


@pytest.mark.parametrize(
    "tamper",
    [
        {"email": DEPUTY},  # someone else's address
        {"kind": "reminders"},  # another kind
        {"sig": "x" * 43},
        {"sig": ""},
        {"kind": "weather"},
    ],
    ids=["other-person", "other-kind", "forged", "empty", "no-such-kind"],
)
def test_a_changed_link_is_refused_and_changes_nothing(
    cycle_rt: Runtime, tamper: dict[str, str]
) -> None:
    link = {**_link(cycle_rt, HEAD, K.VISITS), **tamper}
    with pytest.raises(InvalidInput, match="not valid"):
        notice_choices.unsubscribe(cycle_rt, **link)
    assert notice_choices.notice_settings(cycle_rt, email=HEAD).chosen is False


def test_links_are_signed_with_one_key_per_database(cycle_rt: Runtime) -> None:
    assert _link(cycle_rt, HEAD, K.VISITS) == _link(cycle_rt, HEAD, K.VISITS)
    assert _link(cycle_rt, HEAD, K.VISITS)["sig"] != _link(cycle_rt, HEAD, K.SUPPORT)["sig"]
