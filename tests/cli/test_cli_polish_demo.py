"""`make demo` tells its story in about 80 lines at 80 columns, under the commands a person
would type, keeps its database in its output folder, and every command it suggests works
there (each is run here, in a shell, as printed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(REVIEW is None, reason="the review console script is not installed")
def test_the_demo_story_fits_and_every_suggested_command_works(tmp_path: Path) -> None:
    assert REVIEW is not None
    env = {**os.environ, "REVIEW_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"}
    for name in ("REVIEW_DATABASE_URL", "REVIEW_ACTOR", "REVIEW_NOW"):
        env.pop(name, None)
    env["PATH"] = f"{Path(REVIEW).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [REVIEW, "demo", "--out", "out", "--formats", "md"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert 60 <= len(lines) <= 95, len(lines)
    # At 80 columns, but for the absolute path of the database (the folder it ran in).
    assert [line for line in lines if len(line) > 80 and str(tmp_path) not in line] == []
    assert "documents written to out/: 34 MD" in lines
    assert "$ review triads propose CYCLE --visitors 3" in lines
    assert "$ review --now 2026-09-03 tick" in lines
    assert (tmp_path / "out" / "database" / "demo.sqlite").is_file()

    start = lines.index("Look around the year at the terminal:")
    setup = [lines[start + 1].strip(), lines[start + 2].strip()]
    assert setup[0].startswith("export REVIEW_DATABASE_URL=sqlite:///")
    assert setup[0].endswith("/out/database/demo.sqlite")
    commands = []
    for line in lines[start + 3 :]:
        if not line.startswith("  "):
            break
        commands.append(line.strip())
    assert len(commands) >= 5
    fresh = next(line for line in lines if line.startswith("A fresh link: "))
    command = fresh.removeprefix("A fresh link: ").split(" (", 1)[0]
    commands.append(command.replace("EMAIL", "head@northbrook.example"))
    for command in commands:
        ran = subprocess.run(
            ["bash", "-c", "; ".join([*setup, command])],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, (command, ran.stderr)
        assert ran.stdout.strip(), command
        assert "Traceback" not in ran.stderr
    # The demo's Inside Knowledge round leaves one visit open for booking in the prospectus,
    # which the browser shows at /prospectus with no sign-in.
    review = commands[0].split(" ", 1)[0]
    prospectus = subprocess.run(
        ["bash", "-c", "; ".join([*setup, f"{review} ik search"])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert prospectus.returncode == 0, prospectus.stderr
    assert "Open for booking" in prospectus.stdout and "1 visit found" in prospectus.stdout
