"""Workflow definitions: the shipped one loads; broken ones are refused naming the states."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_engine.core.domain import Scope
from review_engine.core.phases import Part
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog, parse
from review_engine.errors import PhaseMissing, WorkflowError

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


SCHOOL_MACHINE = """  NAME:
    scope: school
    initial: todo
    final: [done]
    states: [todo, done]
    transitions:
      - {trigger: finish, source: todo, dest: done}
"""
DEFAULT_TEXT = (
    Path(__file__).resolve().parents[2] / "workflows" / "triad-peer-review.yaml"
).read_text(encoding="utf-8")


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
    (
        "guard-on-the-cycle",
        MINIMAL.replace("dest: b}", "dest: b, guards: [visit_happened]}"),
        "the cycle's own machine cannot use guards",
    ),
    (
        "part-on-the-cycle",
        MINIMAL.replace("scope: cycle\n", "scope: cycle\n    role: write_up\n"),
        "plays the write-up part, so needs scope school",
    ),
    (
        "part-lacking-states",
        MINIMAL + SCHOOL_MACHINE.replace("NAME", "support"),
        "machine support: plays the support part but lacks state awaiting_plan; state "
        "plan_agreed; state in_progress; state impact_reviewed; state closed; transition "
        "agree_plan awaiting_plan -> plan_agreed",
    ),
    (
        "role-lacking-states",
        MINIMAL
        + SCHOOL_MACHINE.replace("NAME", "plan").replace(
            "scope: school\n", "scope: school\n    role: support\n"
        ),
        "machine plan: plays the support part but lacks state awaiting_plan",
    ),
    (
        "a-part-twice",
        MINIMAL
        + DEFAULT_TEXT[DEFAULT_TEXT.index("  support:\n") : DEFAULT_TEXT.index("\n# When")]
        + DEFAULT_TEXT[DEFAULT_TEXT.index("  support:\n") : DEFAULT_TEXT.index("\n# When")].replace(
            "  support:\n    scope: school\n", "  plan:\n    scope: school\n    role: support\n"
        ),
        "two machines play the support part: plan, support",
    ),
    (
        "guard-off-its-part",
        MINIMAL
        + SCHOOL_MACHINE.replace("NAME", "booking").replace(
            "dest: done}", "dest: done, guards: [sharing_chosen]}"
        ),
        "transition finish uses guard sharing_chosen, which reads the write-up; only the "
        "machine playing that part may (name it write_up or give it `role: write_up`)",
    ),
    (
        "needs-a-visit-phase",
        MINIMAL
        + SCHOOL_MACHINE.replace("NAME", "booking").replace(
            "dest: done}", "dest: done, guards: [visit_happened]}"
        ),
        "uses guard visit_happened, which needs a peer visit phase; the workflow has none",
    ),
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


def test_a_machine_plays_its_part_by_name_or_role_and_gets_a_label() -> None:
    wf = parse(MINIMAL + SCHOOL_MACHINE.replace("NAME", "booking").replace(
        "scope: school\n", "scope: school\n    label: visit booking\n"
    ))  # fmt: skip
    assert wf.machines["booking"].part is None
    assert wf.label("booking") == "visit booking"
    with pytest.raises(PhaseMissing, match="workflow tiny has no write-up phase"):
        wf.phase(Part.WRITE_UP)
    default = WorkflowCatalog().get(DEFAULT_WORKFLOW)
    assert default.phase(Part.WRITE_UP).name == "write_up"
    assert default.label("self_review") == "self-review"
