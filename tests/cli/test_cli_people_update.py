"""`review people update / import / notices / show` and `review cluster update / changes /
archive / restore` at the terminal: what changes, what is refused in one line, and the logs
that keep who changed what."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.cli.test_cli_admin import ADMIN, programme
from tests.cli.test_cli_phases import HEADS, HOST, ok
from tests.conftest import FACILITATOR

__all__ = ["programme"]  # the fixture: an admin, the Northbrook cluster and its heads

HEAD = HEADS[HOST]
NEW = "a.rahman@northbrook.example"


def _people(review: Invoke) -> dict[str, dict[str, object]]:
    return {
        p["email"]: p for p in json.loads(ok(review, "--as", ADMIN, "people", "list", "--json"))
    }


def test_update_name_email_role_and_school(programme: Invoke) -> None:
    said = ok(
        programme, "--as", FACILITATOR, "people", "update", HEAD, "--name", "Aisha Cole",
        "--email", NEW,
    )  # fmt: skip
    assert said.strip() == f"updated Aisha Cole <{NEW}> (head, school {HOST})"
    found = _people(programme)
    assert HEAD not in found and found[NEW]["name"] == "Aisha Cole"
    moved = ok(
        programme, "--as", FACILITATOR, "people", "update", NEW, "--role", "deputy",
        "--school", "990102",
    )  # fmt: skip
    assert moved.strip() == f"updated Aisha Cole <{NEW}> (deputy, school 990102)"
    shown = json.loads(ok(programme, "--as", ADMIN, "people", "show", NEW, "--json"))
    changes = {(c["setting"], c["old"], c["new"]) for c in shown["changes"]}
    assert changes == {
        ("name", f"Head {HOST}", "Aisha Cole"),
        ("email", HEAD, NEW),
        ("role", "head", "deputy"),
        ("school", HOST, "990102"),
    }
    refused = programme("--as", FACILITATOR, "people", "update", NEW, "--role", "admin")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"error: {FACILITATOR} may not make {NEW} a programme admin")
    nothing = programme("--as", FACILITATOR, "people", "update", NEW)
    assert nothing.exit_code != 0 and "give at least one of" in nothing.output


def test_import_refuses_a_bad_line_naming_it_and_stores_nothing(
    programme: Invoke, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "urn,email,name,role\n"
        f"{HOST},maths@northbrook.example,Sam Maths,subject_leader\n"
        f"{HOST},not-an-address,Tia Assistant,teaching_assistant\n",
        encoding="utf-8",
    )
    refused = programme("--as", FACILITATOR, "people", "import", str(staff))
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: staff.csv:3: 'not-an-address' is not an email address; nothing imported"
    ]
    assert "maths@northbrook.example" not in _people(programme)
    staff.write_text(
        "urn,email,name,role\n"
        f"{HOST},maths@northbrook.example,Sam Maths,subject_leader\n"
        f"{HOST},ta@northbrook.example,Tia Assistant,Teaching assistant\n",
        encoding="utf-8",
    )
    said = ok(programme, "--as", FACILITATOR, "people", "import", str(staff))
    assert said.strip() == "imported 2 people, updated 0"
    assert _people(programme)["ta@northbrook.example"]["role"] == "teaching_assistant"


def test_notices_by_choice(programme: Invoke) -> None:
    said = ok(programme, "--as", HEAD, "people", "notices", HEAD, "--take", "visits")
    assert said.strip() == f"Head {HOST} <{HEAD}> takes: visits"
    assert _people(programme)[HEAD]["notices"] == ["visits"]


def test_cluster_framework_checked_changes_logged_and_archive_hides(programme: Invoke) -> None:
    misspelt = programme("--as", ADMIN, "cluster", "create", "Eastfield", "--framework", "eif19")
    assert misspelt.exit_code == 1
    assert misspelt.stderr.startswith("error: framework 'eif19' is not one we ship; choose one of")
    assert "eif2019" in misspelt.stderr and "renewed2025" in misspelt.stderr
    shown = json.loads(ok(programme, "--as", ADMIN, "cluster", "show", "Northbrook", "--json"))
    assert shown["framework"] == "renewed2025"  # the default for cycles from 2025-26
    ok(programme, "--as", FACILITATOR, "cluster", "update", "Northbrook", "--framework", "eif2019",
       "--visitors-per-host", "2")  # fmt: skip
    log = json.loads(ok(programme, "--as", ADMIN, "cluster", "changes", "Northbrook", "--json"))
    assert {(c["setting"], c["old"], c["new"], c["actor"]) for c in log} == {
        ("framework", "renewed2025", "eif2019", FACILITATOR),
        ("visitors per host", "3", "2", FACILITATOR),
    }
    refused = programme("--as", FACILITATOR, "cluster", "archive", "Northbrook")
    assert refused.exit_code == 1 and "only a programme admin may" in refused.stderr
    ok(programme, "--as", ADMIN, "cluster", "archive", "Northbrook")
    assert "Northbrook" not in ok(programme, "--as", ADMIN, "cluster", "list")
    assert "Northbrook" in ok(programme, "--as", ADMIN, "cluster", "list", "--all")
    started = programme("--as", ADMIN, "cycle", "start", "--cluster", "Northbrook", "--year",
                        "2027-28")  # fmt: skip
    assert started.exit_code == 1 and "archived" in started.stderr
