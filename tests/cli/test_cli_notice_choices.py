"""`review people notices EMAIL` (how a person takes each kind: at once, daily digest, off)
and `review schools notices URN` (which roles at a school take each kind until they choose),
at the terminal: what is shown, what changes, what is refused in one line."""

from __future__ import annotations

import json

from tests.cli.conftest import Invoke
from tests.cli.test_cli_admin import ADMIN, programme
from tests.cli.test_cli_phases import HEADS, HOST, ok
from tests.conftest import FACILITATOR

__all__ = ["programme"]  # the fixture: an admin, the Northbrook cluster and its heads

HEAD = HEADS[HOST]
OTHER_HEAD = HEADS[max(HEADS)]
DEPUTY = "deputy@northbrook.example"


def _how(review: Invoke, email: str, who: str) -> dict[str, str]:
    shown = json.loads(ok(review, "--as", who, "people", "notices", email, "--json"))
    return {k["kind"]: k["delivery"] for k in shown["kinds"]}


def test_a_head_sees_and_changes_how_they_take_each_kind(programme: Invoke) -> None:
    shown = ok(programme, "--as", HEAD, "people", "notices", HEAD)
    assert f"Head {HOST} <{HEAD}>: their school's routing (no choice made)" in shown
    assert "Sign-in links you ask for" in shown and "Immediately" in shown
    said = ok(
        programme, "--as", HEAD, "people", "notices", HEAD,
        "--digest", "reminders", "--off", "support", "--immediately", "visits",
    )  # fmt: skip
    assert f"<{HEAD}>: their choice" in said
    how = _how(programme, HEAD, HEAD)
    assert (how["reminders"], how["support"], how["visits"]) == ("digest", "off", "immediately")
    assert how["sef_decisions"] == "immediately"  # untouched kinds as before
    # The list of people shows the kinds they take (at once or in the digest).
    listed = json.loads(ok(programme, "--as", ADMIN, "people", "list", "--json"))
    mine = next(p for p in listed if p["email"] == HEAD)
    assert "reminders" in mine["notices"] and "support" not in mine["notices"]
    reset = ok(programme, "--as", HEAD, "people", "notices", HEAD, "--reset")
    assert "no choice made" in reset and _how(programme, HEAD, HEAD)["support"] == "immediately"


def test_bad_choices_are_refused_in_one_line(programme: Invoke) -> None:
    both = programme("--as", HEAD, "people", "notices", HEAD, "--off", "visits", "--digest",
                     "visits")  # fmt: skip
    assert both.exit_code == 1 and both.stderr.strip() == (
        "error: visits is given two ways; choose one"
    )
    other = programme("--as", HEAD, "people", "notices", OTHER_HEAD, "--off", "visits")
    assert other.exit_code == 1 and "not found" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1
    weather = programme("--as", HEAD, "people", "notices", HEAD, "--off", "weather")
    assert weather.exit_code == 2 and "weather" in weather.stderr  # typer names the choices
    assert _how(programme, HEAD, HEAD)["visits"] == "immediately"  # nothing changed


def test_a_schools_routing_shown_and_set_by_its_head(programme: Invoke) -> None:
    shown = ok(programme, "--as", HEAD, "schools", "notices", str(HOST))
    assert "who takes each notice until they choose" in shown
    assert "Head teacher" in shown and "programme default" in shown
    ok(programme, "--as", FACILITATOR, "people", "add", DEPUTY, "--name", "Chris Lowe",
       "--role", "deputy", "--school", str(HOST))  # fmt: skip
    said = ok(programme, "--as", HEAD, "schools", "notices", str(HOST), "--kind",
              "sef_decisions", "--roles", "head,deputy")  # fmt: skip
    assert "Head teacher and Deputy head teacher" in said and "by the school" in said
    # The deputy, who has not chosen, now takes SEF decisions; other kinds as before.
    how = _how(programme, DEPUTY, FACILITATOR)
    assert (how["sef_decisions"], how["reminders"]) == ("immediately", "off")
    routed = json.loads(ok(programme, "--as", FACILITATOR, "schools", "notices", str(HOST),
                           "--kind", "sef_decisions", "--default", "--json"))  # fmt: skip
    decisions = next(r for r in routed["routes"] if r["kind"] == "sef_decisions")
    assert decisions["own"] is False and decisions["roles"] == ["head"]


def test_a_schools_routing_is_refused_to_others_in_one_line(programme: Invoke) -> None:
    hidden = programme("--as", OTHER_HEAD, "schools", "notices", str(HOST))
    missing = programme("--as", OTHER_HEAD, "schools", "notices", "999999")
    assert hidden.exit_code == missing.exit_code == 1
    assert hidden.stderr.replace(str(HOST), "URN") == missing.stderr.replace("999999", "URN")
    bad = programme("--as", HEAD, "schools", "notices", str(HOST), "--kind", "visits",
                    "--roles", "head,facilitator")  # fmt: skip
    assert bad.exit_code == 1 and "'facilitator' is not a role at a school" in bad.stderr
    no_kind = programme("--as", HEAD, "schools", "notices", str(HOST), "--roles", "head")
    assert no_kind.exit_code == 1 and "(--kind)" in no_kind.stderr
