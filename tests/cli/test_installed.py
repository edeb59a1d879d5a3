"""The installed `review`: a real subprocess, and a wheel that claims no generic names."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[2]
REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(REVIEW is None, reason="the review console script is not installed")
def test_demo_runs_in_a_real_subprocess(tmp_path: Path) -> None:
    assert REVIEW is not None
    env = {**os.environ, "REVIEW_DATA_DIR": str(tmp_path / "data")}
    env.pop("REVIEW_DATABASE_URL", None)
    done = subprocess.run(
        [REVIEW, "demo", "--out", str(tmp_path / "out"), "--formats", "html,ics"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "The cycle is closed" in done.stdout
    assert "changes in its history" in done.stdout
    assert "8 ICS invites" in done.stdout
    report = next((tmp_path / "out" / "html").glob("writeup-report-Northbrook-Primary-*.html"))
    assert "Even better if" in report.read_text(encoding="utf-8")
    error = subprocess.run(
        [REVIEW, "cycle", "status", "Nope/2026-27"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert error.returncode == 1
    assert error.stderr.count("\n") == 1 and error.stderr.startswith("error: ")
    _open_the_demo_in_the_web_app(done.stdout, tmp_path, env)


def _open_the_demo_in_the_web_app(printed: str, folder: Path, env: dict[str, str]) -> None:
    """The command the demo prints serves the year, and its head's link signs in."""
    serve = next(line.strip() for line in printed.splitlines() if " serve --database " in line)
    lines = printed.splitlines()
    link = next(lines[n + 1].strip() for n, line in enumerate(lines) if "a head teacher" in line)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [REVIEW or "review", *shlex.split(serve)[1:], "--port", str(port)]
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen(args, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _sign_in_as_the_demo_head(base, link)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _sign_in_as_the_demo_head(base: str, link: str) -> None:
    with httpx2.Client(base_url=base, timeout=10) as client:
        for _ in range(100):
            try:
                if client.get("/healthz").text == "ok":
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        link = link.replace("http://127.0.0.1:8000", base)
        page = client.get(link)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token, page.text
        signed = client.post(link, data={"csrf_token": token.group(1)}, headers={"Origin": base})
        assert signed.status_code == 303
        home = client.get("/")
        assert "My work" in home.text and "Aisha Rahman" in home.text
        assert "Northbrook Learning Partnership, 2026-27" in home.text


@pytest.mark.slow
def test_wheel_maps_cli_workflows_templates_under_the_package(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("review_engine-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.startswith("review_engine-")}
    assert tops == {"review_engine"}
    for needed in (
        "review_engine/cli/main.py",
        "review_engine/workflows/triad-peer-review.yaml",
        "review_engine/store/migrations/script.py.mako",
        "review_engine/samples/gias-sample.csv",
        "review_engine/templates/documents/writeup_report.html.j2",
        "review_engine/templates/email/reminder.txt.j2",
        "review_engine/workflows/frameworks/eif2019.yaml",
    ):
        assert needed in names
    # Installed elsewhere and run from another directory, it finds its data files.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "REVIEW_DATA_DIR": str(tmp_path / "d")}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import review_engine.cli.main as m, sys; sys.argv=['review','workflows','list'];"
            "print(m.__file__); m.main()",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(str(target))
    assert "triad-peer-review" in shown.stdout
    # The whole demo from the installed copy: migrations, samples, frameworks, templates.
    demo = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from review_engine.cli.main import main; "
            "sys.argv = ['review', 'demo', '--out', 'out', '--formats', 'html']; main()",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "The cycle is closed" in demo.stdout
    assert list((tmp_path / "out" / "html").glob("sef-summary-*.html"))
