"""Workflows other than the default one: a machine that plays a part under another name
(`role:`), a copy that renames it without saying so (refused by `check`, naming the part), and
a bookings-only programme with none of the four phases, on which every command answers in
one line rather than a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import Result

from review_engine.core.workflow import WorkflowCatalog
from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import HEADS, HOST, VISIT_DAY, as_, ok, set_up_cluster
from tests.conftest import SAMPLES

DEFAULT = Path(__file__).resolve().parents[2] / "workflows" / "triad-peer-review.yaml"
BOOKINGS = Path(__file__).resolve().parents[1] / "data" / "workflows" / "visits-only.yaml"


def renamed_copy(name: str, role: bool) -> str:
    """The default workflow with its write-up machine called `writeup`."""
    text = DEFAULT.read_text(encoding="utf-8").replace("name: triad-peer-review", f"name: {name}")
    text = text.replace("\n  write_up:\n", "\n  writeup:\n")
    text = text.replace("\n  write_up: {school_days", "\n  writeup: {school_days")
    if role:
        text = text.replace(
            "\n  writeup:\n    scope: school\n",
            "\n  writeup:\n    scope: school\n    role: write_up\n",
        )
    assert "\n  write_up:" not in text
    return text


@pytest.fixture
def workflows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "renamed-with-role.yaml").write_text(renamed_copy("renamed-with-role", True))
    shutil.copy(BOOKINGS, folder / "visits-only.yaml")
    monkeypatch.setenv("REVIEW_WORKFLOWS_DIR", str(folder))
    return folder


def test_check_refuses_a_renamed_phase_machine_naming_the_part(
    review: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / "renamed.yaml"
    path.write_text(renamed_copy("renamed-write-up", False))
    result = review("workflows", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: workflow renamed-write-up machine writeup: transition draft uses guard "
        "draft_written, which reads the write-up; only the machine playing that part may "
        "(name it write_up or give it `role: write_up`)\n"
    )


def test_check_refuses_a_part_without_what_it_needs(review: Invoke, tmp_path: Path) -> None:
    text = renamed_copy("no-host-agreement", True).replace(
        "      - {trigger: host_agree, source: reviewers_agreed, dest: host_agreed, "
        "guards: [host_agreed], actors: [school, facilitator]}\n",
        "      - {trigger: host_agree, source: reviewers_agreed, dest: published, "
        "actors: [school, facilitator]}\n",
    )
    path = tmp_path / "no-host-agreement.yaml"
    path.write_text(text)
    result = review("workflows", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: workflow no-host-agreement machine writeup: states unreachable from the "
        "initial state: host_agreed"
    ]
    text = text.replace("host_agreed, published]", "published]").replace(
        "source: host_agreed, dest: published", "source: reviewers_agreed, dest: published"
    )
    path.write_text(
        text.replace(
            "states: [awaiting_draft, drafted, reviewers_agreed, host_agreed,",
            "states: [awaiting_draft, drafted, reviewers_agreed,",
        )
    )
    result = review("workflows", "check", str(path))
    assert result.exit_code == 1
    assert "plays the write-up part but lacks state host_agreed" in result.stderr


def test_a_renamed_machine_with_its_role_works_through_draft_agree_publish(
    workflows_dir: Path, initialised: Invoke, tmp_path: Path
) -> None:
    review = initialised
    listed = " ".join(
        ok(review, "workflows", "check", str(workflows_dir / "renamed-with-role.yaml")).split()
    )
    assert "phases: self-review, peer visit, write-up (writeup), support" in listed
    cycle = set_up_cluster(review, workflow="renamed-with-role", calendar=True)
    ok(review, "trigger", cycle, "open_self_review")
    ok(review, "triads", "propose", cycle, "--visitors", "2")
    row = next(r for r in json.loads(ok(review, "triads", "show", cycle, "--json"))
               if r["host"] == int(HOST))  # fmt: skip
    lead = str(row["lead"])
    co = next(str(v) for v in row["visitors"] if v != row["lead"])
    as_(review, HOST, "visit", "focus", cycle, "--school", HOST, "--focus", "learning_walk",
        "--question", "To what extent do pupils catch up quickly?")  # fmt: skip
    as_(review, HOST, "visit", "schedule", cycle, "--school", HOST, "--date", VISIT_DAY)
    as_(review, HOST, "visit", "complete", cycle, "--school", HOST)
    draft = tmp_path / "writeup.yaml"
    shutil.copy(SAMPLES / "writeup-sample.yaml", draft)
    assert "drafted, v1" in as_(review, lead, "writeup", "draft", cycle, "--school", HOST,
                                str(draft))  # fmt: skip
    assert "reviewers_agreed" in as_(review, co, "writeup", "agree", cycle, "--school", HOST)
    # The facilitator cannot agree for the host, by the command or by a raw trigger.
    for args in (
        ("writeup", "agree", cycle, "--school", HOST),
        ("trigger", cycle, "host_agree", "--machine", "writeup", "--school", HOST),
    ):
        refused = review(*args)
        assert refused.exit_code == 1, args
        assert refused.stderr.endswith(
            "the host has not agreed this draft (the host agrees with `review writeup agree`)\n"
        )
    assert "host_agreed" in as_(review, HOST, "writeup", "agree", cycle, "--school", HOST)
    published = as_(review, HOST, "writeup", "publish", cycle, "--school", HOST, "--share",
                    "cluster")  # fmt: skip
    assert "published, v1" in published
    history = json.loads(ok(review, "history", cycle, "--school", HOST, "--json"))
    assert [h["trigger"] for h in history if h["machine"] == "writeup"] == [
        "draft",
        "reviewers_agree",
        "host_agree",
        "publish",
    ]


def _answers(result: Result, args: tuple[str, ...]) -> str:
    """Exit 0, or exit 1 with one `error:` line; never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    assert result.exit_code in (0, 1), (args, result.exit_code, result.stderr)
    if result.exit_code == 1:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
        return lines[0]
    return result.stdout


def test_every_command_answers_on_a_bookings_only_workflow(
    workflows_dir: Path, initialised: Invoke, tmp_path: Path
) -> None:
    review = initialised
    assert "phases: none of" in " ".join(ok(review, "workflows", "check", str(BOOKINGS)).split())
    cycle = set_up_cluster(review, workflow="visits-only", calendar=True)
    ok(review, "trigger", cycle, "open_bookings")
    ok(review, "--as", HEADS[HOST], "trigger", cycle, "book", "--machine", "booking",
       "--school", HOST)  # fmt: skip
    sef = tmp_path / "sef.md"
    shutil.copy(SAMPLES / "sef-primary.md", sef)
    writeup = tmp_path / "writeup.yaml"
    shutil.copy(SAMPLES / "writeup-sample.yaml", writeup)
    missing = {
        "self-review": [
            ("sef", "template", cycle, "--school", HOST),
            ("sef", "submit", cycle, "--school", HOST, str(sef)),
            ("sef", "show", cycle, "--school", HOST),
            ("sef", "accept", cycle, "--school", HOST),
        ],
        "peer visit": [
            (
                "visit",
                "focus",
                cycle,
                "--school",
                HOST,
                "--focus",
                "learning_walk",
                "--question",
                "Why?",
            ),
            ("visit", "schedule", cycle, "--school", HOST, "--date", VISIT_DAY),
            ("visit", "complete", cycle, "--school", HOST),
            ("visit", "show", cycle, "--school", HOST),
            ("triads", "propose", cycle),
        ],
        "write-up": [
            ("writeup", "draft", cycle, "--school", HOST, str(writeup)),
            ("writeup", "agree", cycle, "--school", HOST),
            ("writeup", "publish", cycle, "--school", HOST, "--share", "cluster"),
            ("writeup", "show", cycle, "--school", HOST),
        ],
        "support": [
            ("actions", "list", cycle),
            ("actions", "impact", cycle, "--school", HOST),
        ],
    }
    for phase, commands in missing.items():
        for args in commands:
            line = _answers(review(*args), args)
            assert line == f"error: workflow visits-only has no {phase} phase", args
    for args in [
        ("cycle", "status", cycle),
        ("cycle", "status", cycle, "--json"),
        ("cycle", "plan", cycle),
        ("cycle", "list"),
        ("history", cycle),
        ("triads", "show", cycle),
        ("feedback", "list", cycle),
        ("practice", "list"),
        ("docs", "render", cycle, "--format", "md", "--out", str(tmp_path / "docs")),
        ("docs", "render", cycle, "--format", "csv", "--out", str(tmp_path / "csv")),
        ("--as", "operator", "tick", "--now", "2027-01-04T06:00"),
        ("outbox", "list"),
    ]:
        result = review(*args)
        _answers(result, args)  # never a traceback...
        assert result.exit_code == 0, (args, result.stderr)  # ...and here, an answer
    status = json.loads(ok(review, "cycle", "status", cycle, "--json"))
    assert {s["urn"]: s["states"]["booking"] for s in status["schools"]}[int(HOST)] == "booked"
    outbox = ok(review, "outbox", "list")
    assert "visit booking" in outbox and "support action" not in outbox


def test_the_shipped_workflows_play_every_part() -> None:
    default = WorkflowCatalog().get("triad-peer-review")
    assert [m.part for m in default.school_machines] == [
        "self_review",
        "peer_visit",
        "write_up",
        "support",
    ]
