"""Data protection at the terminal: `review access log` (who read a school's records, for the
school and its facilitator) and `review writeup share` (widen or withdraw a published
write-up's sharing, with a reason, logged)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import (
    CYCLE,
    HEADS,
    HOST,
    URNS,
    VISIT_DAY,
    as_,
    built_once,
    cluster,
    ok,
)
from tests.conftest import FACILITATOR, SAMPLES

__all__ = ["built_once", "cluster"]  # fixtures


def test_access_log_for_the_school_and_its_facilitator(cluster: Invoke, tmp_path: Path) -> None:
    good = tmp_path / "sef.md"
    shutil.copy(SAMPLES / "sef-primary.md", good)
    as_(cluster, HOST, "sef", "submit", CYCLE, "--school", HOST, str(good))
    ok(cluster, "sef", "show", CYCLE, "--school", HOST)  # the facilitator reads it

    mine = as_(cluster, HOST, "--wide", "access", "log", CYCLE)
    assert "Who read the records of Northbrook Primary School" in mine
    assert "viewed the self-evaluation (SEF)" in mine and "command line" in mine
    entries = json.loads(as_(cluster, HOST, "access", "log", CYCLE, "--json"))["entries"]
    assert [(e["actor"], e["action"], e["record"], e["via"], e["detail"]) for e in entries] == [
        (FACILITATOR, "viewed", "sef", "cli", "version 1")
    ]
    assert entries[0]["actor_name"] == "Fran"

    whole = json.loads(ok(cluster, "access", "log", CYCLE, "--person", FACILITATOR, "--json"))
    assert whole["whole_cycle"] and len(whole["entries"]) == 1

    other = URNS[1]
    refused = cluster("--as", HEADS[other], "access", "log", CYCLE, "--school", HOST)
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1
    assert "990101" in refused.stderr and "not" in refused.stderr
    empty = as_(cluster, other, "access", "log", CYCLE)
    assert "nobody has viewed or downloaded records of" in empty


def test_writeup_share_widens_and_withdraws(cluster: Invoke, tmp_path: Path) -> None:
    ok(cluster, "triads", "propose", CYCLE, "--visitors", "2")
    row = next(r for r in json.loads(ok(cluster, "triads", "show", CYCLE, "--json"))
               if r["host"] == int(HOST))  # fmt: skip
    lead = str(row["lead"])
    co = next(str(v) for v in row["visitors"] if v != row["lead"])
    outsider = next(u for u in URNS if u not in (HOST, lead, co))
    as_(cluster, HOST, "visit", "focus", CYCLE, "--school", HOST, "--focus", "learning_walk",
        "--question", "To what extent do pupils catch up quickly?")  # fmt: skip
    as_(cluster, HOST, "visit", "schedule", CYCLE, "--school", HOST, "--date", VISIT_DAY)
    as_(cluster, HOST, "visit", "complete", CYCLE, "--school", HOST)
    draft = tmp_path / "writeup.yaml"
    shutil.copy(SAMPLES / "writeup-sample.yaml", draft)
    as_(cluster, lead, "writeup", "draft", CYCLE, "--school", HOST, str(draft))
    as_(cluster, co, "writeup", "agree", CYCLE, "--school", HOST)
    as_(cluster, HOST, "writeup", "agree", CYCLE, "--school", HOST)

    early = cluster("--as", HEADS[HOST], "writeup", "share", CYCLE, "--school", HOST,
                    "--sharing", "cluster", "--reason", "Asked for")  # fmt: skip
    assert early.exit_code == 1 and "is not published yet" in early.stderr
    as_(cluster, HOST, "writeup", "publish", CYCLE, "--school", HOST, "--share", "reviewers")
    assert cluster("--as", HEADS[outsider], "writeup", "show", CYCLE, "--school", HOST).exit_code

    widened = as_(cluster, HOST, "--wide", "writeup", "share", CYCLE, "--school", HOST, "--sharing",
                  "named", "--with", outsider, "--reason", "They run the same scheme")  # fmt: skip
    assert "is now shared with: named" in widened
    assert "may now read it (told):" in widened
    assert "They run the same scheme" in widened
    assert "Even better if" in as_(cluster, outsider, "writeup", "show", CYCLE, "--school", HOST)

    back = json.loads(ok(cluster, "writeup", "share", CYCLE, "--school", HOST, "--sharing",
                         "reviewers", "--reason", "Withdrawn at the head's request",
                         "--json"))  # fmt: skip
    assert back["withdrawn"] and not back["reached"]
    assert [c["reason"] for c in back["log"]] == [
        "Withdrawn at the head's request",
        "They run the same scheme",
    ]
    gone = cluster("--as", HEADS[outsider], "writeup", "show", CYCLE, "--school", HOST)
    assert gone.exit_code == 1
    assert json.loads(as_(cluster, outsider, "practice", "list", "--json")) == []


def test_access_log_names_a_cycle_or_a_programme(cluster: Invoke) -> None:
    for args in ((), (CYCLE, "--programme", "Inside Knowledge/2026-27")):
        refused = cluster("access", "log", *args)
        assert refused.exit_code == 1 and refused.stdout == ""
        assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1
        assert "--programme" in refused.stderr
    missing = cluster("access", "log", "--programme", "Inside Knowledge/2026-27")
    assert missing.exit_code == 1 and "programme" in missing.stderr
    assert len(missing.stderr.splitlines()) == 1
