"""A quick start: `review --version` and `--help` import no command module and no heavy library,
and a command imports only what it uses (bench/startup.py measures the times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from review_engine.cli.main import COMMANDS, load
from review_engine.store import db as dbmod

HEAVY = (
    "ortools",
    "alembic",
    "holidays",
    "apscheduler",
    "weasyprint",
    "docx",
    "pandas",
    "numpy",
)
# Runs `review ARGS` in this interpreter, then prints which of HEAVY and of our modules it
# imported, as JSON on the last line.
PROBE = """
import json, sys
from review_engine.cli.main import app
code = None
try:
    app(sys.argv[1:], prog_name="review")
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
ours = sorted(m for m in sys.modules if m.startswith("review_engine.") and ".cli" not in m)
print(json.dumps({{"code": code, "heavy": heavy, "ours": ours}}))
"""


def _probe(*args: str, env: dict[str, str]) -> tuple[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    *shown, last = done.stdout.strip().splitlines()
    return "\n".join(shown), json.loads(last)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "REVIEW_DATA_DIR": str(tmp_path / "data"),
        "REVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite'}",
        "REVIEW_ACTOR": "facilitator@example.org",
    }


def test_version_imports_no_heavy_library_and_no_command(env: dict[str, str]) -> None:
    shown, found = _probe("--version", env=env)
    assert shown.startswith("review ")
    assert found["code"] == 0
    assert found["heavy"] == []
    assert found["ours"] == ["review_engine.errors"]


def test_help_lists_every_command_without_importing_one(env: dict[str, str]) -> None:
    shown, found = _probe("--help", env=env)
    assert found["code"] == 0
    assert found["heavy"] == []
    assert found["ours"] == ["review_engine.errors"]
    for name in ("init", *COMMANDS):
        assert f" {name} " in shown


def test_a_command_imports_only_what_it_uses(env: dict[str, str]) -> None:
    # Run in a fresh process after `review init` (which needs Alembic) so nothing is inherited.
    _, first = _probe("init", env=env)
    assert first["code"] == 0
    _, found = _probe("cycle", "status", "Nowhere/2026-27", env=env)
    assert found["code"] == 1  # no such cluster: the path ran, schema check and query included
    assert found["heavy"] == []
    _, found = _probe("scheduler", "status", env=env)
    assert found["code"] == 0
    assert found["heavy"] == []


def test_the_help_table_matches_each_command() -> None:
    for name, spec in COMMANDS.items():
        command = load(name, spec)
        assert spec.help == command.get_short_help_str(limit=200), name
        for sub, sub_spec in spec.extra:
            real = load(sub, sub_spec)
            assert sub_spec.help == real.get_short_help_str(limit=200), f"{name} {sub}"
            assert command.commands[sub].get_short_help_str(limit=200) == sub_spec.help


def test_schema_head_is_the_newest_migration() -> None:
    # Every command compares the database's revision with SCHEMA_HEAD without importing
    # Alembic; a new migration must change SCHEMA_HEAD too.
    assert dbmod.head_revision(dbmod.make_engine("sqlite://")) == dbmod.SCHEMA_HEAD
