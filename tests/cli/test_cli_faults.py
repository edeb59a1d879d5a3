"""A damaged, read-only or full database: one line on stderr that says so, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.conftest import SAMPLES

SAMPLE = str(SAMPLES / "gias-sample.csv")
REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))
COMMANDS = [
    ("init",),
    ("schools", "list"),
    ("cycle", "status", "Northbrook/2026-27"),
    ("--as", "operator", "schools", "import", SAMPLE),
    ("--as", "scheduler", "tick"),
    ("outbox", "list"),
    ("history", "Northbrook/2026-27"),
]
ADD_PERSON = ("--as", "operator", "people", "add", "fran@example.org", "--name", "Fran")
ADD_PERSON += ("--role", "facilitator")
COMMAND_IDS = ["-".join(a for a in c if not a.startswith(("-", "/"))) for c in COMMANDS]


def _damaged(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.sqlite"
    if kind == "text":
        path.write_text("schools,urn\nNorthbrook,990101\n", encoding="utf-8")
    else:  # the first 3 KB of a real database: a valid header, most pages gone
        whole = folder / "whole.sqlite"
        from review_engine.config import Settings
        from review_engine.services import admin

        admin.init_database(Settings(database_url=f"sqlite:///{whole}", data_dir=folder))
        path.write_bytes(whole.read_bytes()[:3000])
    return path


def _one_line(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    return lines[0]


@pytest.mark.parametrize("kind", ["text", "truncated"])
@pytest.mark.parametrize("command", COMMANDS, ids=COMMAND_IDS)
def test_a_damaged_database_gives_one_line_on_every_command(
    review: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    command: tuple[str, ...],
) -> None:
    path = _damaged(kind, tmp_path)
    monkeypatch.setenv("REVIEW_DATABASE_URL", f"sqlite:///{path}")
    result = review(*command)
    assert result.exit_code == 1, result.output
    assert _one_line(result.stderr) == (
        f"error: the database {path} is damaged or not a review database; restore it from a backup"
    )


@pytest.mark.skipif(REVIEW is None, reason="the review console script is not installed")
def test_a_damaged_database_in_a_real_subprocess(tmp_path: Path) -> None:
    assert REVIEW is not None
    path = _damaged("text", tmp_path)
    env = {**os.environ, "REVIEW_DATABASE_URL": f"sqlite:///{path}"}
    env["REVIEW_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [REVIEW, "schools", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert _one_line(done.stderr).endswith(
        "is damaged or not a review database; restore it from a backup"
    )


def _mount_tmpfs(folder: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (root only; skipped otherwise)."""
    folder = tmp_path / "disk"
    _mount_tmpfs(folder, "2m")
    try:
        yield folder
    finally:
        _unmount(folder)


def _set_up(review: Invoke) -> None:
    assert review("init").exit_code == 0
    result = review("--as", "operator", "schools", "import", SAMPLE)
    assert result.exit_code == 0, result.output


def test_a_database_on_read_only_media_can_be_read_not_written(
    review: Invoke, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_disk / "review.sqlite"
    monkeypatch.setenv("REVIEW_DATABASE_URL", f"sqlite:///{path}")
    _set_up(review)
    before = review("schools", "list")
    assert before.exit_code == 0
    remount = subprocess.run(
        ["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True
    )
    if remount.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only: {remount.stderr.strip()}")
    assert sorted(p.name for p in small_disk.iterdir()) == ["review.sqlite"]

    listed = review("schools", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout == before.stdout
    assert "is up to date" in review("init").stdout
    write = review(*ADD_PERSON)
    assert write.exit_code == 1
    assert _one_line(write.stderr) == (
        f"error: the database {path} is read-only (read-only media or no write permission): "
        "it can be read, but nothing can be changed"
    )


def test_a_full_disk_says_so_in_one_line(
    review: Invoke, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_disk / "review.sqlite"
    monkeypatch.setenv("REVIEW_DATABASE_URL", f"sqlite:///{path}")
    assert review("init").exit_code == 0
    # Unbuffered: a partly written buffer would fail again when the file is closed.
    with (small_disk / "filler").open("wb", buffering=0) as filler:  # take every block left
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    result = review(*ADD_PERSON)
    assert result.exit_code == 1
    assert _one_line(result.stderr) == (
        f"error: the disk holding the database {path} is full: nothing was written; "
        "free some space and try again"
    )
    (small_disk / "filler").unlink()
    assert review(*ADD_PERSON).exit_code == 0
