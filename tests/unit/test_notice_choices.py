"""How a person's choice of notices is read and written (core.notice_choices): each kind at
once, in the daily digest, or off; a school's routing of kinds to roles."""

from __future__ import annotations

import pytest

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import (
    Delivery,
    changed,
    default_roles,
    defaults,
    effective,
    format_choices,
    format_roles,
    kinds_for,
    parse_choices,
    parse_kind,
    parse_roles,
    roles_words,
)
from review_engine.errors import InvalidInput

K = NoticeKind
ON, DIGEST, OFF = Delivery.IMMEDIATELY, Delivery.DIGEST, Delivery.OFF


def test_not_chosen_is_none() -> None:
    assert parse_choices(None) is None


def test_an_empty_choice_turns_everything_off() -> None:
    assert parse_choices("") == {k: OFF for k in NoticeKind}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("reminders", {K.REMINDERS: ON}),
        ("reminders:digest", {K.REMINDERS: DIGEST}),
        ("visits,reminders:digest", {K.VISITS: ON, K.REMINDERS: DIGEST}),
        (" visits , support:digest ", {K.VISITS: ON, K.SUPPORT: DIGEST}),
        ("gone_kind,visits", {K.VISITS: ON}),  # a kind this version no longer has
    ],
    ids=["at-once", "digest", "both", "spaces", "unknown-kind"],
)
def test_parse_reads_each_kind(raw: str, expected: dict[NoticeKind, Delivery]) -> None:
    found = parse_choices(raw)
    assert found == {k: expected.get(k, OFF) for k in NoticeKind}


def test_format_is_in_the_programmes_order_and_round_trips() -> None:
    raw = format_choices({K.VISITS: DIGEST, K.REMINDERS: ON, K.SUPPORT: OFF})
    assert raw == "reminders,visits:digest"
    assert format_choices(parse_choices(raw) or {}) == raw


def test_defaults_follow_the_role_until_the_school_routes_a_kind() -> None:
    assert defaults(Role.HEAD)[K.REMINDERS] is ON
    assert defaults(Role.DEPUTY)[K.REMINDERS] is OFF
    routes = {K.REMINDERS: frozenset({Role.HEAD, Role.DEPUTY}), K.VISITS: frozenset()}
    deputy = defaults(Role.DEPUTY, routes)
    head = defaults(Role.HEAD, routes)
    assert (deputy[K.REMINDERS], deputy[K.VISITS]) == (ON, OFF)
    assert (head[K.REMINDERS], head[K.VISITS], head[K.SUPPORT]) == (ON, OFF, ON)


def test_a_choice_wins_over_the_schools_routing() -> None:
    routes = {K.REMINDERS: frozenset({Role.DEPUTY})}
    assert effective("visits", Role.DEPUTY, routes)[K.REMINDERS] is OFF
    assert effective(None, Role.DEPUTY, routes)[K.REMINDERS] is ON


def test_changing_one_kind_starts_from_what_they_take_now() -> None:
    raw = changed(None, Role.HEAD, None, {K.VISITS: DIGEST, K.SUPPORT: OFF})
    choices = parse_choices(raw)
    assert choices is not None
    assert choices[K.VISITS] is DIGEST and choices[K.SUPPORT] is OFF
    assert choices[K.REMINDERS] is ON  # the head's default, kept
    others = set(NoticeKind) - NoticeKind.defaults_for(Role.HEAD)
    assert all(choices[k] is OFF for k in others)  # kinds that are not the head's stay off


def test_kinds_named_and_refused() -> None:
    assert parse_kind("SEF-decisions") is K.SEF_DECISIONS
    with pytest.raises(InvalidInput, match="not a kind of notice"):
        parse_kind("weather")


def test_roles_parse_format_and_words() -> None:
    roles = parse_roles("deputy, Head")
    assert roles == {Role.HEAD, Role.DEPUTY}
    assert format_roles(roles) == "head,deputy"
    assert roles_words(roles) == "Head teacher and Deputy head teacher"
    assert parse_roles("none") == frozenset() and roles_words([]) == "nobody by role"
    with pytest.raises(InvalidInput, match="not a role at a school"):
        parse_roles("head,facilitator")


def test_what_concerns_each_role() -> None:
    assert K.REMINDERS in kinds_for(Role.TEACHER)
    assert set(kinds_for(Role.FACILITATOR)) == NoticeKind.defaults_for(Role.FACILITATOR)
    assert K.REMINDERS not in kinds_for(Role.FACILITATOR)
    assert kinds_for(Role.ADMIN) == list(NoticeKind.defaults_for(Role.ADMIN))
    assert default_roles(K.REMINDERS) == {Role.HEAD}
