"""`review triads propose` forms triads of the cluster's size (`cluster update
--visitors-per-host`) unless told `--visitors`."""

from __future__ import annotations

import json

from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import CYCLE, ok, set_up_cluster


def test_triads_take_the_clusters_visitors_per_host(initialised: Invoke) -> None:
    set_up_cluster(initialised)
    ok(
        initialised,
        "--as",
        "operator",
        "cluster",
        "update",
        "Northbrook",
        "--visitors-per-host",
        "2",
    )
    ok(initialised, "trigger", CYCLE, "open_self_review")
    ok(initialised, "triads", "propose", CYCLE)
    rows = json.loads(ok(initialised, "triads", "show", CYCLE, "--json"))
    assert rows and {len(r["visitors"]) for r in rows} == {2}
