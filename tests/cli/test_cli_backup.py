"""`review backup FILE` and `review restore FILE [--database URL]` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import review_engine.store.knowledge_tables
import review_engine.store.models
import review_engine.store.phase_tables
import review_engine.store.privacy_tables
import review_engine.store.schedule_tables
import review_engine.store.web_tables  # noqa: F401
from tests.cli.conftest import Invoke

TABLES = len(SQLModel.metadata.tables) + 1  # every table of the schema, and Alembic's version


@pytest.fixture
def operator(initialised: Invoke, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """The CLI on an initialised database, run by the operator (no --as, no REVIEW_ACTOR)."""
    monkeypatch.delenv("REVIEW_ACTOR")
    return initialised


def test_backup_then_restore_into_a_new_database(operator: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "review.backup"
    done = operator("backup", str(file))
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"backup written to {file} (SQLite, ")
    assert f"{TABLES} tables" in done.stdout and "it holds personal data" in done.stdout

    again = operator("backup", str(file))
    assert again.exit_code == 1
    assert again.stderr == f"error: {file} already exists; choose another name or use --force\n"
    assert operator("backup", str(file), "--force").exit_code == 0

    target = tmp_path / "new" / "review.sqlite"
    restored = operator("restore", str(file), "--database", f"sqlite:///{target}")
    assert restored.exit_code == 0, restored.output
    assert f"into sqlite:///{target}: {TABLES} tables" in restored.stdout
    assert restored.stdout.rstrip().endswith(
        "checked: schema revision, rows of every table, history hash chains"
    )
    assert target.is_file()

    shown = operator("restore", str(file), "--database", f"sqlite:///{target}", "--json")
    assert shown.exit_code == 1 and shown.stdout == ""
    assert shown.stderr.startswith(f"error: the database sqlite:///{target} is not empty")
    assert shown.stderr.count("\n") == 1


def test_json_output(operator: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "review.backup"
    done = operator("backup", str(file), "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["dialect"] == "sqlite" and report["tables"] == TABLES
    restored = operator(
        "restore", str(file), "--database", f"sqlite:///{tmp_path / 'r.sqlite'}", "--json"
    )
    assert json.loads(restored.stdout)["checks"] == [
        "schema revision",
        "rows of every table",
        "history hash chains",
    ]


def test_restore_refuses_what_is_not_a_backup(operator: Invoke, tmp_path: Path) -> None:
    junk = tmp_path / "people.csv"
    junk.write_text("email,name\na@example.org,A\n")
    target = tmp_path / "new.sqlite"
    done = operator("restore", str(junk), "--database", f"sqlite:///{target}")
    assert done.exit_code == 1
    assert done.stderr.startswith(f"error: {junk} is not a usable review backup: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.output
    assert not target.exists()
    missing = operator("restore", str(tmp_path / "nothing.backup"))
    assert missing.exit_code == 1
    assert missing.stderr == f"error: backup file {tmp_path / 'nothing.backup'} not found\n"


def test_restore_into_the_database_in_use_is_refused(operator: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "review.backup"
    assert operator("backup", str(file)).exit_code == 0
    done = operator("restore", str(file))
    assert done.exit_code == 1
    assert f"is not empty (it has {TABLES} of our tables" in done.stderr


def test_who_may_back_up_and_restore(initialised: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "review.backup"
    # REVIEW_ACTOR names a facilitator nobody registered: refused, nothing written.
    done = initialised("backup", str(file))
    assert done.exit_code == 1 and not file.exists()
    assert "may not" in done.stderr
    assert initialised("--as", "operator", "backup", str(file)).exit_code == 0
    refused = initialised(
        "--as", "head@example.org", "restore", str(file), "--database", "sqlite:///x.sqlite"
    )
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: head@example.org may not restore a database: only the operator at the database "
        "may (run it without --as or REVIEW_ACTOR)\n"
    )


def test_restore_over_a_file_that_is_not_a_database_is_refused(
    operator: Invoke, tmp_path: Path
) -> None:
    file = tmp_path / "review.backup"
    assert operator("backup", str(file)).exit_code == 0
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes")
    done = operator("restore", str(file), "--database", f"sqlite:///{notes}")
    assert done.exit_code == 1
    assert done.stderr == (
        f"error: sqlite:///{notes} is not an empty database (it is not a database at all); "
        "restore only into a new, empty database\n"
    )
    assert notes.read_text() == "my notes"
