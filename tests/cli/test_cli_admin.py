"""Admin commands at the terminal, as every kind of person: a refusal is one `error:` line,
exit 1, and changes nothing; the operator (no `--as`) and a programme admin may."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import HEADS, HOST, URNS, ok
from tests.conftest import FACILITATOR, SAMPLES

ADMIN = "admin@programme.example"
STRANGER = "nobody@nowhere.example"
CALENDAR_CSV = str(SAMPLES / "term-dates-2026-27.csv")

COMMANDS = {
    "schools import": ("schools", "import", str(SAMPLES / "gias-sample.csv")),
    "calendar import": ("calendar", "import", "Sample LA", CALENDAR_CSV),
    "calendar assign": ("calendar", "assign", "Sample LA", "--la", "352"),
    "cluster create": ("cluster", "create", "Eastfield", "--facilitator", FACILITATOR),
    "cluster remove": ("cluster", "remove", "Northbrook", HOST),
    "people add facilitator": (
        "people",
        "add",
        "f2@example.org",
        "--name",
        "F",
        "--role",
        "facilitator",
    ),
    "people add admin": ("people", "add", "a2@example.org", "--name", "A", "--role", "admin"),
    "tick": ("tick",),
    "tick --now": ("tick", "--now", "2031-01-01"),
}


@pytest.fixture
def programme(review: Invoke) -> Invoke:
    """A real (not rehearsal) database: an admin registered by the operator; the admin sets
    up a cluster and its heads."""
    ok(review, "init")
    ok(review, "--as", "operator", "people", "add", ADMIN, "--name", "Ada", "--role", "admin")
    as_admin = ("--as", ADMIN)
    ok(review, *as_admin, "schools", "import", str(SAMPLES / "gias-sample.csv"))
    ok(review, *as_admin, "people", "add", FACILITATOR, "--name", "Fran", "--role",
       "facilitator")  # fmt: skip
    ok(review, *as_admin, "cluster", "create", "Northbrook", "--facilitator", FACILITATOR)
    ok(review, *as_admin, "calendar", "import", "Sample LA", CALENDAR_CSV)
    ok(review, "--as", FACILITATOR, "cluster", "add", "Northbrook", *URNS)
    for urn, email in HEADS.items():  # the facilitator registers their schools' heads
        ok(review, "--as", FACILITATOR, "people", "add", email, "--name", f"Head {urn}",
           "--role", "head", "--school", urn)  # fmt: skip
    return review


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
@pytest.mark.parametrize(
    "who", [STRANGER, HEADS[HOST], FACILITATOR], ids=["stranger", "head", "facilitator"]
)
def test_admin_commands_refuse_others_in_one_line(
    programme: Invoke, command: str, who: str
) -> None:
    args = COMMANDS[command]
    if who == FACILITATOR and command == "cluster remove":
        return  # their own cluster: allowed (see below)
    before = ok(programme, "cluster", "show", "Northbrook", "--json")
    result = programme("--as", who, *args)
    assert result.exit_code == 1, (command, who, result.stdout)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {who} may not "), lines
    assert ok(programme, "cluster", "show", "Northbrook", "--json") == before


def test_the_facilitator_runs_their_cluster_and_the_admin_the_programme(programme: Invoke) -> None:
    ok(programme, "--as", FACILITATOR, "cluster", "remove", "Northbrook", HOST)
    ok(programme, "--as", ADMIN, "cluster", "add", "Northbrook", HOST)
    ok(programme, "--as", ADMIN, "calendar", "assign", "Sample LA", "--la", "352")
    for who in (ADMIN, "operator"):
        refused = programme("--as", who, "tick", "--now", "2031-01-01")
        assert refused.exit_code == 1
        assert refused.stderr.endswith("rehearse it here with --dry-run\n")
    assert programme("--as", ADMIN, "tick", "--now", "2031-01-01", "--dry-run").exit_code == 0
    assert programme("--as", "operator", "tick").exit_code == 0


def test_people_list_shows_each_only_whom_they_may_see(programme: Invoke) -> None:
    everyone = {
        p["email"]
        for p in json.loads(ok(programme, "--as", "operator", "people", "list", "--json"))
    }
    assert {ADMIN, FACILITATOR, *HEADS.values()} <= everyone
    head = {p["email"] for p in json.loads(ok(programme, "--as", HEADS[HOST], "people", "list",
                                               "--json"))}  # fmt: skip
    assert head == {HEADS[HOST]}
    stranger = programme("--as", STRANGER, "people", "list")
    assert stranger.exit_code == 1 and len(stranger.stderr.splitlines()) == 1
