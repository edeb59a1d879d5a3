"""The machines of the exact workflow a cycle started with, compiled once per workflow hash."""

from __future__ import annotations

from sqlmodel import Session

from review_engine.core.engine import CompiledWorkflow
from review_engine.core.workflow import parse
from review_engine.rules.guards import GUARDS
from review_engine.store.models import Cycle, WorkflowSnapshot

_COMPILED: dict[str, CompiledWorkflow] = {}


def compiled_for(session: Session, cycle: Cycle | object) -> CompiledWorkflow:
    """The compiled workflow of a cycle (anything with a `workflow_hash`), built once per hash."""
    workflow_hash: str = getattr(cycle, "workflow_hash")  # noqa: B009 - rows and ORM objects
    found = _COMPILED.get(workflow_hash)
    if found is None:
        snapshot = session.get(WorkflowSnapshot, workflow_hash)
        assert snapshot is not None, "every cycle references its workflow snapshot"
        definition = parse(snapshot.source, origin=f"{snapshot.name} v{snapshot.version}")
        found = _COMPILED[workflow_hash] = CompiledWorkflow(definition, GUARDS)
    return found
