"""Workflow definitions: the ones a user can start cycles with, and checking a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from review_engine.core.workflow import WorkflowCatalog, WorkflowDef, load_file


@dataclass(frozen=True)
class WorkflowSummary:
    name: str
    version: int
    title: str
    machines: list[str]
    hash: str
    phases: list[str]  # the parts its machines play, in words: "write-up (writeup)"


def _summary(wf: WorkflowDef) -> WorkflowSummary:
    phases = [
        m.label if m.name == m.part else f"{m.label} ({m.name})"
        for m in wf.school_machines
        if m.part is not None
    ]
    return WorkflowSummary(wf.name, wf.version, wf.title, list(wf.machines), wf.hash[:12], phases)


def list_workflows(catalog: WorkflowCatalog) -> list[WorkflowSummary]:
    return [_summary(wf) for _, wf in sorted(catalog.all().items())]


def get_workflow(catalog: WorkflowCatalog, name: str) -> WorkflowDef:
    return catalog.get(name)


def check_file(path: Path) -> WorkflowSummary:
    """Validate a workflow file; raises WorkflowError naming the offending states."""
    return _summary(load_file(path))
