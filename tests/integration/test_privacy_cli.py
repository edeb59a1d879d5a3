"""`review people export` and `review retention` on a real cycle: the files a programme admin
gets (JSON with its schema, a PDF a person reads), refusals in one line, the policy shown and
changed, holds, a dry run and a purge."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from review_engine.cli.main import app
from review_engine.runtime import Runtime
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.test_subject_access import NEW, _build

Invoke = Callable[..., Result]


@pytest.fixture
def review(cycle_rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """`review ARGS...` on the test's database, as the operator unless `--as` is given."""
    monkeypatch.setenv("REVIEW_DATABASE_URL", cycle_rt.settings.url)
    monkeypatch.setenv("REVIEW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REVIEW_ACTOR", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_an_admin_exports_a_person_as_json_and_pdf(
    cycle_rt: Runtime, clock: FakeClock, review: Invoke, tmp_path: Path
) -> None:
    _build(cycle_rt, clock)
    out = tmp_path / "sar"
    done = review("people", "export", NEW, "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "Self-evaluations you submitted" in done.output
    files = sorted(p.name for p in out.iterdir())
    assert [Path(f).suffix for f in files] == [".json", ".pdf"], files
    assert files[0].startswith("subject-access-aisha-rahman-")
    data = json.loads((out / files[0]).read_text(encoding="utf-8"))
    assert (data["schema_version"], data["person"]["email"]) == (1, NEW)
    pdf = PdfReader(io.BytesIO((out / files[1]).read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    for heading in (
        "Your personal data: Aisha Rahman",
        "About you",
        "What you did in review cycles",
        "Self-evaluations you submitted",
        "Your decisions on write-ups",
        "E-mails to you",
        "What you read or downloaded",
        "Your sign-in links and sessions",
    ):
        assert heading in text, heading
    assert "Tom Whitfield" not in text and FACILITATOR not in text


def test_an_export_is_refused_in_one_line(review: Invoke, tmp_path: Path) -> None:
    refused = review("--as", FACILITATOR, "people", "export", NEW, "--out", str(tmp_path))
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "only a programme admin" in refused.output
    missing = review("people", "export", "nobody@x.example", "--out", str(tmp_path / "x"))
    assert (missing.exit_code, missing.output.strip()) == (
        1,
        "error: person nobody@x.example not found",
    )
    assert not (tmp_path / "x").exists()


def test_the_policy_is_shown_changed_held_and_applied(
    cycle_rt: Runtime, clock: FakeClock, review: Invoke
) -> None:
    _build(cycle_rt, clock)  # holds the head of 990101 (a complaint)
    shown = review("--wide", "retention", "show")
    assert shown.exit_code == 0, shown.output
    assert "24 months (2 years) after they were deactivated" in shown.output
    assert "Complaint 42" in shown.output
    changed = review("retention", "set", "sent_messages", "6")
    assert changed.exit_code == 0, changed.output
    assert "E-mails sent: kept 6 months after it was sent, then deleted" in changed.output
    assert review("retention", "set", "gossip", "6").exit_code == 2  # not a kind
    held = review("retention", "hold", "cycle", "Northbrook/2026-27", "--reason", "Claim 7")
    assert held.exit_code == 0, held.output
    assert "held the records of cycle Northbrook/2026-27: Claim 7" in held.output
    again = review("retention", "hold", "cycle", "Northbrook/2026-27", "--reason", "x")
    assert again.exit_code == 1 and "already held" in again.output
    dry = review("--now", "2033-01-01", "retention", "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing changed" in dry.output
    assert "held: 1 people, 1 cycles" in dry.output
    assert review("retention", "log", "--json").output.strip() == "[]"
    done = review("retention", "release", "cycle", "Northbrook/2026-27")
    assert done.exit_code == 0 and "released the hold" in done.output
    purged = review("retention", "purge", "--json")
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.output)["dry_run"] is False
    logged = json.loads(review("retention", "log", "--json").output)
    assert logged and all("@" not in row["what"] for row in logged)
    refused = review("--as", FACILITATOR, "retention", "purge")
    assert refused.exit_code == 1 and "only a programme admin may" in refused.output
