"""Workflow definitions: the shipped one loads; broken ones are refused naming the states."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_engine.core.domain import Scope
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog, parse
from review_engine.errors import WorkflowError

MINIMAL = """
name: tiny
version: 1
machines:
  cycle:
    scope: cycle
    initial: a
    final: [c]
    states: [a, b, c]
    transitions:
      - {trigger: go, source: a, dest: b}
      - {trigger: finish, source: b, dest: c}
"""


def test_default_workflow_has_the_cycle_and_four_school_machines() -> None:
    wf = WorkflowCatalog().get(DEFAULT_WORKFLOW)
    assert wf.cycle_machine.name == "cycle"
    assert [m.name for m in wf.school_machines] == [
        "self_review",
        "peer_visit",
        "write_up",
        "support",
    ]
    assert wf.cycle_machine.states == (
        "planned",
        "self_review",
        "peer_review",
        "write_up",
        "support",
        "closed",
        "cancelled",
    )
    assert wf.machine("peer_visit").allowed("scheduled") == ["cancel", "complete", "reschedule"]


def test_hash_changes_when_the_text_changes() -> None:
    assert parse(MINIMAL).hash != parse(MINIMAL + "\n# edited\n").hash
    assert parse(MINIMAL).hash == parse(MINIMAL).hash


def test_minimal_workflow_is_valid() -> None:
    wf = parse(MINIMAL)
    assert wf.cycle_machine.scope is Scope.CYCLE
    assert wf.cycle_machine.allowed("a") == ["go"]


BROKEN = [
    (
        "unreachable",
        MINIMAL.replace("states: [a, b, c]", "states: [a, b, c, lost]")
        + "      - {trigger: back, source: lost, dest: a}\n",
        "unreachable from the initial state: lost",
    ),
    (
        "trap",
        MINIMAL.replace("states: [a, b, c]", "states: [a, b, c, stuck]")
        + "      - {trigger: trap, source: a, dest: stuck}\n",
        "trap states (not final, no way out): stuck",
    ),
    (
        "final-unreachable",
        MINIMAL.replace("states: [a, b, c]", "states: [a, b, c, x, y]")
        + "      - {trigger: loop1, source: a, dest: x}\n"
        + "      - {trigger: loop2, source: x, dest: y}\n"
        + "      - {trigger: loop3, source: y, dest: x}\n",
        "no final state reachable from: x, y",
    ),
    (
        "initial-undeclared",
        MINIMAL.replace("initial: a", "initial: zz"),
        "initial state is not declared: zz",
    ),
    (
        "unknown-guard",
        MINIMAL.replace("dest: b}", "dest: b, guards: [no_such_guard]}"),
        "uses unknown guards no_such_guard: a",
    ),
    (
        "undeclared-dest",
        MINIMAL.replace("dest: c}", "dest: q}"),
        "transition finish names undeclared states: q",
    ),
    (
        "final-with-exit",
        MINIMAL + "      - {trigger: reopen, source: c, dest: a}\n",
        "final states have outgoing transitions: c",
    ),
    ("no-cycle-machine", MINIMAL.replace("scope: cycle", "scope: school"), "exactly one machine"),
    ("not-yaml", "name: [unclosed", "not valid YAML"),
    ("missing-field", MINIMAL.replace("version: 1\n", ""), "version: Field required"),
]


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_workflow_is_refused_with_the_offending_states(text: str, expected: str) -> None:
    with pytest.raises(WorkflowError) as caught:
        parse(text, origin="broken.yaml")
    assert expected in str(caught.value)


def test_a_users_folder_adds_workflows(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(MINIMAL, encoding="utf-8")
    catalog = WorkflowCatalog(tmp_path)
    assert set(catalog.all()) == {DEFAULT_WORKFLOW, "tiny"}


def test_mermaid_lists_every_transition() -> None:
    text = WorkflowCatalog().get(DEFAULT_WORKFLOW).mermaid()
    assert "stateDiagram-v2" in text
    assert "scheduled --> scheduled: reschedule" in text
    assert "awaiting_draft --> drafted: draft [visit_happened, draft_written]" in text
