"""Listing clusters and cycles asks the policy: a head sees their own cluster, an outsider
sees none of it (it looks like a cluster that does not exist), a stranger is refused."""

from __future__ import annotations

from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import HEADS, HOST, ok, set_up_cluster

OUTSIDER = "head@ashgrove.example"  # head of a sample school outside Northbrook


def test_clusters_and_cycles_are_listed_to_those_in_them(initialised: Invoke) -> None:
    set_up_cluster(initialised)
    ok(initialised, "--as", "operator", "people", "add", OUTSIDER, "--name", "Ash Head",
       "--role", "head", "--school", "990108")  # fmt: skip
    mine = ok(initialised, "--as", HEADS[HOST], "cluster", "list")
    assert "Northbrook" in mine
    assert "Northbrook/2026-27" in ok(initialised, "--as", HEADS[HOST], "cycle", "list")
    theirs = ok(initialised, "--as", OUTSIDER, "cluster", "list")
    assert "Northbrook" not in theirs
    assert "Northbrook" not in ok(initialised, "--as", OUTSIDER, "cycle", "list")
    hidden = initialised("--as", OUTSIDER, "cluster", "show", "Northbrook")
    missing = initialised("--as", OUTSIDER, "cluster", "show", "Nowhere")
    assert hidden.exit_code == missing.exit_code == 1
    assert hidden.stderr.replace("Northbrook", "X") == missing.stderr.replace("Nowhere", "X")
    stranger = initialised("--as", "nobody@nowhere.example", "cluster", "list")
    assert stranger.exit_code == 1 and "not a registered person" in stranger.stderr
    assert "Northbrook" in ok(initialised, "--as", "operator", "cluster", "list")
