"""Faults leave nothing broken: PDF commands run as real subprocesses and exit 0 (in-process
WeasyPrint used to write its files, then die with SIGSEGV at interpreter exit)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from review_engine.runtime import Runtime
from tests.integration.phase_helpers import CYCLE, FACILITATOR, HEADS, submit_sef

REVIEW = shutil.which("review", path=str(Path(sys.executable).parent))
needs_review = pytest.mark.skipif(REVIEW is None, reason="the review console script is missing")
pytest.importorskip("weasyprint")


def _review(rt: Runtime, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert REVIEW is not None
    env = {
        **os.environ,
        "REVIEW_DATABASE_URL": rt.settings.url,
        "REVIEW_DATA_DIR": str(tmp_path / "data"),
        "REVIEW_ACTOR": FACILITATOR,
    }
    return subprocess.run(
        [REVIEW, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@needs_review
@pytest.mark.parametrize("sefs", [0, 3], ids=["one-worker", "pool"])
def test_docs_render_pdf_in_a_real_subprocess_exits_0_with_every_file(
    cycle_rt: Runtime, tmp_path: Path, sefs: int
) -> None:
    for urn in sorted(HEADS)[:sefs]:
        submit_sef(cycle_rt, CYCLE, urn)
    out = tmp_path / "pdf"
    done = _review(
        cycle_rt, tmp_path, "docs", "render", CYCLE, "--format", "pdf", "--out", str(out)
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    pdfs = sorted(out.glob("*.pdf"))
    assert any(p.name.startswith("cluster-report-") for p in pdfs)
    assert len([p for p in pdfs if p.name.startswith("sef-summary-")]) == sefs
    assert f"{len(pdfs)} documents written" in done.stdout
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF-"), pdf.name
