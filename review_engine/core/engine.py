"""The state-machine engine: one `transitions` Machine per workflow machine, built once.

Machines are never attached to SQLModel rows. A trigger is fired on a light `_Subject` that
holds the current state; the engine checks the trigger is allowed (TransitionNotAllowed names
the state and the triggers allowed there), runs the named guards (GuardRejected says why),
and returns the new state. The guards themselves are given by the caller (they read the
database, which the core never imports: `review_engine.rules.guards`). Persisting the new
state, with its history row and version check, is the job of `review_engine.store.state_writer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from transitions import EventData, Machine

from review_engine.core.workflow import MachineDef, WorkflowDef
from review_engine.errors import GuardRejected, InvalidInput, TransitionNotAllowed


class GuardInput(Protocol):
    """What the engine itself reads of a guard's context: the reason given, if any."""

    reason: str | None


Guard = Callable[[Any], str | None]


class _Subject:
    """The minimum `transitions` needs: a `state` attribute."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class _GuardFailed(Exception):
    def __init__(self, guard: str, why: str) -> None:
        self.guard = guard
        self.why = why


def _condition(name: str, check: Guard) -> Any:

    def run(event: EventData) -> bool:
        why = check(event.kwargs["ctx"])
        if why:
            raise _GuardFailed(name, why)
        return True

    run.__name__ = f"guard_{name}"
    return run


@dataclass(frozen=True)
class Fired:
    """The outcome of one trigger on one machine."""

    machine: str
    trigger: str
    from_state: str
    to_state: str


class CompiledWorkflow:
    """A workflow's machines, built once and shared by every record that follows it."""

    def __init__(self, definition: WorkflowDef, guards: Mapping[str, Guard]) -> None:
        self.definition = definition
        self._guards = guards
        self._machines = {name: self._build(m) for name, m in definition.machines.items()}

    def _build(self, m: MachineDef) -> Machine:
        return Machine(
            model=None,
            states=list(m.states),
            initial=m.initial,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.sources),
                    "dest": t.dest,
                    "conditions": [_condition(g, self._guards[g]) for g in t.guards],
                }
                for t in m.transitions
            ],
            auto_transitions=False,
            send_event=True,
        )

    def fire(
        self, *, subject: str, machine: str, trigger: str, state: str, ctx: GuardInput
    ) -> Fired:
        """Apply `trigger` to a record of `machine` in `state`; raises if not allowed."""
        mdef = self.definition.machine(machine)
        transition = mdef.transition(state, trigger)
        if transition is None:
            raise TransitionNotAllowed(
                subject=subject,
                machine=machine,
                trigger=trigger,
                state=state,
                allowed=mdef.allowed(state),
            )
        if transition.requires_reason and not (ctx.reason and ctx.reason.strip()):
            raise InvalidInput(f"{subject}: {trigger} on {machine} needs a reason (--reason)")
        record = _Subject(state)
        try:
            done = self._machines[machine].events[trigger].trigger(record, ctx=ctx)
        except _GuardFailed as failed:
            raise GuardRejected(
                subject=subject,
                machine=machine,
                trigger=trigger,
                guard=failed.guard,
                why=failed.why,
            ) from None
        if not done:  # pragma: no cover - every condition raises rather than returning False
            raise GuardRejected(
                subject=subject, machine=machine, trigger=trigger, guard="?", why="refused"
            )
        return Fired(machine=machine, trigger=trigger, from_state=state, to_state=record.state)
