"""The engine: allowed triggers move state; illegal ones and failing guards say why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from review_engine.core.engine import CompiledWorkflow
from review_engine.core.phases import GuardName
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog
from review_engine.errors import GuardRejected, InvalidInput, TransitionNotAllowed
from review_engine.rules.guards import GUARDS, GuardContext

DEFAULT = WorkflowCatalog().get(DEFAULT_WORKFLOW)


@pytest.fixture(scope="module")
def compiled() -> CompiledWorkflow:
    return CompiledWorkflow(DEFAULT, GUARDS)


def ctx(states: dict[str, str] | None = None, reason: str | None = None) -> GuardContext:
    return GuardContext(
        records=cast(Any, None),
        definition=DEFAULT,
        review=None,
        states=states or {},
        actor="t",
        relations=frozenset(),
        now=datetime(2026, 11, 1, tzinfo=UTC),
        reason=reason,
    )


def test_every_guard_name_has_a_guard() -> None:
    assert set(GUARDS) == {g.value for g in GuardName}


def test_allowed_trigger_moves_the_state(compiled: CompiledWorkflow) -> None:
    fired = compiled.fire(
        subject="X", machine="cycle", trigger="open_self_review", state="planned", ctx=ctx()
    )
    assert (fired.from_state, fired.to_state) == ("planned", "self_review")


def test_self_transition_is_allowed(compiled: CompiledWorkflow) -> None:
    fired = compiled.fire(
        subject="X", machine="write_up", trigger="return", state="drafted", ctx=ctx(reason="r")
    )
    assert fired.to_state == "drafted"


def test_wrong_state_names_state_and_allowed_triggers(compiled: CompiledWorkflow) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        compiled.fire(
            subject="MC2SP/2026-27", machine="cycle", trigger="close", state="planned", ctx=ctx()
        )
    err = caught.value
    assert err.state == "planned"
    assert err.allowed == ["cancel", "open_self_review"]
    assert str(err) == (
        "MC2SP/2026-27: cannot close on cycle in state planned; allowed: cancel, open_self_review"
    )


def test_final_state_allows_nothing(compiled: CompiledWorkflow) -> None:
    with pytest.raises(TransitionNotAllowed, match="allowed: none"):
        compiled.fire(subject="X", machine="cycle", trigger="cancel", state="closed", ctx=ctx())


def test_unknown_trigger_is_not_allowed(compiled: CompiledWorkflow) -> None:
    with pytest.raises(TransitionNotAllowed, match="cannot fly"):
        compiled.fire(subject="X", machine="cycle", trigger="fly", state="planned", ctx=ctx())


def test_guard_rejection_says_why(compiled: CompiledWorkflow) -> None:
    with pytest.raises(GuardRejected) as caught:
        compiled.fire(
            subject="S",
            machine="write_up",
            trigger="draft",
            state="awaiting_draft",
            ctx=ctx({"peer_visit": "scheduled"}),
        )
    assert caught.value.guard == "visit_happened"
    assert "the visit has not happened yet (peer visit is scheduled)" in str(caught.value)


def test_the_engine_runs_the_guards_it_is_given() -> None:
    """The core knows guard names only; the caller lends the functions behind them."""
    asked: list[str] = []

    def allow(name: str) -> Any:
        return lambda c: asked.append(name)  # returns None: allowed

    fake = CompiledWorkflow(DEFAULT, {g.value: allow(g.value) for g in GuardName})
    fired = fake.fire(
        subject="S", machine="write_up", trigger="draft", state="awaiting_draft", ctx=ctx()
    )
    assert (fired.to_state, asked) == ("drafted", ["visit_happened", "draft_written"])
    refusing = CompiledWorkflow(DEFAULT, {g.value: (lambda c: "not today") for g in GuardName})
    with pytest.raises(GuardRejected, match="cannot draft on write_up: not today"):
        refusing.fire(
            subject="S", machine="write_up", trigger="draft", state="awaiting_draft", ctx=ctx()
        )


@pytest.mark.parametrize("reason", [None, "", "   "], ids=["none", "empty", "blank"])
def test_trigger_that_needs_a_reason_refuses_without_one(
    compiled: CompiledWorkflow, reason: str | None
) -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        compiled.fire(
            subject="X", machine="cycle", trigger="cancel", state="planned", ctx=ctx(reason=reason)
        )
