"""Why a host has its visitors, in school names a facilitator recognises (the solver speaks in
URNs; the explanation names each school beside its URN)."""

from __future__ import annotations

import re

from review_engine.runtime import Runtime
from review_engine.services import triads
from tests.integration.phase_helpers import CYCLE, propose_triads


def test_every_urn_in_an_explanation_comes_with_its_school_name(cycle_rt: Runtime) -> None:
    rows = propose_triads(cycle_rt, CYCLE)
    host = min(rows)
    lines = triads.explain(cycle_rt, cycle=CYCLE, host=host)
    solver_lines = [line for line in lines if line.startswith(("- not ", "- lead reviewer"))]
    assert solver_lines, lines
    for line in solver_lines:
        for urn in re.findall(r"\b99\d{4}\b", line):
            assert re.search(rf"[A-Za-z’'] \({urn}\)", line), line  # "Name (URN)"
