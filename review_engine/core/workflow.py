"""Workflow definitions as data: load a YAML file, validate it, and describe it.

A workflow is one of two kinds. A cycle workflow (the default, `kind: cycle`) is one
cycle-level machine plus one machine per phase for each school. A programme workflow
(`kind: programme`, e.g. Inside Knowledge) has no cycle and no schools' phases: its machines
run on records of the programme, one `offer` machine and one `booking` machine, whose states
and transitions `core.knowledge` declares; its guards and `actors:` are the programme's own
(`KnowledgeGuard`, `ProgrammeActor`). Loading
checks the structure (pydantic) and then the graph of every machine: one initial state, every
state reachable, no trap states, a final state reachable from every state, and every guard
name known. Then the phase contract (`review_engine.core.phases`): a machine that plays a part
(by its name or `role:`) must have the states and transitions that part needs, and a guard
that reads a part's records may only sit on the machine playing it. Errors name the states.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from review_engine.core.domain import Scope
from review_engine.core.knowledge import (
    CONTRACTS as RECORD_CONTRACTS,
)
from review_engine.core.knowledge import (
    KnowledgeGuard,
    ProgrammeActor,
    RecordScope,
    contract_gaps,
)
from review_engine.core.phases import (
    CONTRACTS,
    GUARD_NEEDS,
    GuardName,
    Part,
    missing,
    part_of_guard,
)
from review_engine.core.relations import Relation
from review_engine.core.safe_text import (
    WORKFLOW_LIMIT,
    check_file_text,
    decode_text,
    read_bounded,
    safe_yaml,
    size_text,
)
from review_engine.errors import FileFormatError, NotFound, PhaseMissing, WorkflowError

DEFAULT_WORKFLOW = "triad-peer-review"


class WorkflowKind(StrEnum):
    """A cluster's review cycle, or a programme of offers and bookings (Inside Knowledge)."""

    CYCLE = "cycle"
    PROGRAMME = "programme"


# --- the file's structure -------------------------------------------------------------------


class _TransitionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: str
    source: str | list[str]
    dest: str
    guards: list[str] = []
    # Checked against the workflow's kind once it is known: Relation for a cycle workflow,
    # ProgrammeActor for a programme's. None: the kind's default (the facilitator; an admin).
    actors: list[str] | None = None
    requires_reason: bool = False
    description: str = ""

    @field_validator("source")
    @classmethod
    def _listify(cls, value: str | list[str]) -> list[str]:
        return [value] if isinstance(value, str) else value


class _MachineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope | RecordScope
    role: Part | None = None
    label: str = ""
    description: str = ""
    initial: str
    final: list[str]
    states: list[str]
    transitions: list[_TransitionSpec]


class _PlanSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: str
    at: dict[str, Any]


class _WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: WorkflowKind = WorkflowKind.CYCLE
    version: int
    title: str = ""
    description: str = ""
    machines: dict[str, _MachineSpec]
    plan: list[_PlanSpec] = []
    deadlines: dict[str, dict[str, Any]] = {}


# --- the validated definition ---------------------------------------------------------------


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[str, ...] = ()
    actors: tuple[str, ...] = (Relation.FACILITATOR,)
    requires_reason: bool = False
    description: str = ""


@dataclass(frozen=True)
class MachineDef:
    name: str
    scope: Scope | RecordScope
    initial: str
    final: frozenset[str]
    states: tuple[str, ...]
    transitions: tuple[TransitionDef, ...]
    description: str = ""
    part: Part | None = None
    label: str = ""

    @cached_property
    def by_state(self) -> Mapping[str, Mapping[str, TransitionDef]]:
        """For each state, the transitions that may fire there, by trigger."""
        table: dict[str, dict[str, TransitionDef]] = {s: {} for s in self.states}
        for t in self.transitions:
            for s in t.sources:
                table[s][t.trigger] = t
        return table

    def allowed(self, state: str) -> list[str]:
        return sorted(self.by_state.get(state, {}))

    def transition(self, state: str, trigger: str) -> TransitionDef | None:
        """The transition `trigger` takes from `state`, if any: the one place this is decided."""
        return self.by_state.get(state, {}).get(trigger)


@dataclass(frozen=True)
class PlannedBoundary:
    """A cycle boundary in calendar terms: fire `trigger` (from -> to) on the date `at` gives."""

    trigger: str
    from_state: str
    to_state: str
    at: Mapping[str, Any]


@dataclass(frozen=True)
class WorkflowDef:
    name: str
    version: int
    title: str
    description: str
    machines: Mapping[str, MachineDef]
    source: str
    plan: tuple[PlannedBoundary, ...] = field(default=())
    deadlines: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    kind: WorkflowKind = WorkflowKind.CYCLE

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    @property
    def is_programme(self) -> bool:
        return self.kind is WorkflowKind.PROGRAMME

    @property
    def cycle_machine(self) -> MachineDef:
        """The cycle's own machine; a programme workflow has none, and says so in one line
        (so `review cycle start --workflow inside-knowledge` is refused, not a crash)."""
        found = next((m for m in self.machines.values() if m.scope is Scope.CYCLE), None)
        if found is None:
            raise WorkflowError(
                self.name,
                "is a programme workflow (visit offers and bookings), not one a cluster's "
                "cycle can follow; use `review ik` for its programme",
            )
        return found

    def record_machine(self, scope: RecordScope) -> MachineDef:
        """A programme workflow's machine for offers or bookings."""
        found = next((m for m in self.machines.values() if m.scope == scope), None)
        if found is None:
            raise WorkflowError(self.name, f"has no machine for {scope.value}s")
        return found

    @property
    def school_machines(self) -> list[MachineDef]:
        return [m for m in self.machines.values() if m.scope is Scope.SCHOOL]

    @cached_property
    def parts(self) -> Mapping[Part, MachineDef]:
        """The machines that play a part of the phase contract, by part."""
        return {m.part: m for m in self.machines.values() if m.part is not None}

    def phase(self, part: Part) -> MachineDef:
        """The machine playing `part`; PhaseMissing (one line) when the workflow has none."""
        found = self.parts.get(part)
        if found is None:
            raise PhaseMissing(self.name, CONTRACTS[part].label)
        return found

    def label(self, machine: str) -> str:
        """A machine in words, for people (its `label:`, else its part's, else its name)."""
        found = self.machines.get(machine)
        return found.label if found is not None else machine.replace("_", " ")

    def machine(self, name: str) -> MachineDef:
        try:
            return self.machines[name]
        except KeyError:
            raise NotFound(
                "machine", name, f"workflow {self.name} has: {', '.join(self.machines)}"
            ) from None

    def mermaid(self) -> str:
        """The machines as a Mermaid state diagram, one block per machine."""
        lines: list[str] = []
        for m in self.machines.values():
            lines += [f"%% {m.name} ({m.scope})", "stateDiagram-v2", f"    [*] --> {m.initial}"]
            for t in m.transitions:
                guard = f" [{', '.join(t.guards)}]" if t.guards else ""
                lines += [f"    {s} --> {t.dest}: {t.trigger}{guard}" for s in t.sources]
            lines += [f"    {s} --> [*]" for s in sorted(m.final)]
            lines.append("")
        return "\n".join(lines)


# --- loading and validation -----------------------------------------------------------------


def parse(source: str, *, origin: str = "workflow") -> WorkflowDef:
    """Parse and validate a workflow from its YAML text (anchors and aliases refused)."""
    if len(source) > WORKFLOW_LIMIT:
        raise WorkflowError(origin, f"larger than the {size_text(WORKFLOW_LIMIT)} limit")
    try:
        raw = safe_yaml(check_file_text(source, source=origin), source=origin)
    except FileFormatError as exc:
        where = f" at line {exc.line}" if exc.line is not None else ""
        raise WorkflowError(origin, f"{exc.reason}{where}") from exc
    try:
        spec = _WorkflowSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise WorkflowError(origin, f"{loc}: {first['msg']}") from exc
    _check_kind(spec)
    machines = {
        name: _build_machine(spec.name, name, m, spec.kind) for name, m in spec.machines.items()
    }
    if spec.kind is WorkflowKind.PROGRAMME:
        _check_records(spec.name, machines)
        return WorkflowDef(
            name=spec.name,
            version=spec.version,
            title=spec.title or spec.name,
            description=spec.description.strip(),
            machines=machines,
            source=source,
            kind=WorkflowKind.PROGRAMME,
        )
    cycle_machines = [m.name for m in machines.values() if m.scope is Scope.CYCLE]
    if len(cycle_machines) != 1:
        raise WorkflowError(spec.name, "needs exactly one machine with scope cycle", cycle_machines)
    cycle_machine = machines[cycle_machines[0]]
    _check_parts(spec.name, machines)
    return WorkflowDef(
        name=spec.name,
        version=spec.version,
        title=spec.title or spec.name,
        description=spec.description.strip(),
        machines=machines,
        source=source,
        plan=_build_plan(spec.name, cycle_machine, spec.plan),
        deadlines=_check_deadlines(spec.name, machines, spec.deadlines),
    )


_BOUNDARY_KEYS = {"start_of", "end_of", "school_days", "after"}
_DEADLINE_KEYS = _BOUNDARY_KEYS | {"school_days_after_visit", "done"}


def _build_plan(
    workflow: str, cycle: MachineDef, steps: list[_PlanSpec]
) -> tuple[PlannedBoundary, ...]:
    """The plan's triggers must walk the cycle machine from its initial state, in order."""
    state = cycle.initial
    built = []
    for step in steps:
        transition = cycle.by_state[state].get(step.trigger)
        if transition is None:
            raise WorkflowError(
                f"{workflow} plan", f"step {step.trigger} cannot follow state {state}", [state]
            )
        unknown = set(step.at) - _BOUNDARY_KEYS
        if unknown or not ({"start_of", "end_of"} & set(step.at)):
            raise WorkflowError(
                f"{workflow} plan",
                f"step {step.trigger}: `at` needs start_of or end_of "
                "(optionally school_days, after)",
                unknown,
            )
        built.append(PlannedBoundary(step.trigger, state, transition.dest, dict(step.at)))
        state = transition.dest
    return tuple(built)


def _check_deadlines(
    workflow: str, machines: Mapping[str, MachineDef], deadlines: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    for machine, spec in deadlines.items():
        if machine not in machines:
            raise WorkflowError(f"{workflow} deadlines", "names unknown machines", [machine])
        unknown = set(spec) - _DEADLINE_KEYS
        if unknown:
            raise WorkflowError(f"{workflow} deadlines", f"{machine}: unknown keys", unknown)
        done = set(spec.get("done") or [])
        if not done or done - set(machines[machine].states):
            raise WorkflowError(
                f"{workflow} deadlines",
                f"{machine}: `done` must list its states",
                done - set(machines[machine].states),
            )
    return deadlines


def _check_kind(spec: _WorkflowSpec) -> None:
    """Scopes, actors and sections that belong to the other kind of workflow are refused."""
    programme = spec.kind is WorkflowKind.PROGRAMME
    actors: set[str] = {a.value for a in (ProgrammeActor if programme else Relation)}
    for name, m in spec.machines.items():
        where = f"{spec.name} machine {name}"
        if programme != isinstance(m.scope, RecordScope):
            wanted = "offer or booking" if programme else "cycle or school"
            raise WorkflowError(
                where, f"a {spec.kind.value} workflow's machines need scope {wanted}"
            )
        if programme and m.role is not None:
            raise WorkflowError(where, "a programme workflow's machines play no phase (`role:`)")
        for t in m.transitions:
            unknown = set(t.actors or ()) - actors
            if unknown:
                raise WorkflowError(
                    where,
                    f"transition {t.trigger} names unknown actors (a {spec.kind.value} "
                    f"workflow's are {', '.join(sorted(actors))})",
                    unknown,
                )
    if programme and (spec.plan or spec.deadlines):
        raise WorkflowError(spec.name, "a programme workflow has no cycle plan or deadlines")


def _check_records(workflow: str, machines: Mapping[str, MachineDef]) -> None:
    """A programme workflow: one machine for offers and one for bookings, each with what the
    services need of it (`core.knowledge`)."""
    for scope, contract in RECORD_CONTRACTS.items():
        players = [m for m in machines.values() if m.scope == scope]
        if len(players) != 1:
            raise WorkflowError(
                workflow,
                f"needs exactly one machine with scope {scope.value}",
                [m.name for m in players],
            )
        m = players[0]
        edges = {(t.trigger, s, t.dest) for t in m.transitions for s in t.sources}
        lacks = contract_gaps(contract, set(m.states), edges)
        if lacks:
            raise WorkflowError(
                f"{workflow} machine {m.name}",
                f"runs the {contract.label}s but lacks {'; '.join(lacks)}",
            )


def _build_machine(
    workflow: str, name: str, spec: _MachineSpec, kind: WorkflowKind = WorkflowKind.CYCLE
) -> MachineDef:
    where = f"{workflow} machine {name}"
    programme = kind is WorkflowKind.PROGRAMME
    guard_names = _KNOWLEDGE_GUARD_NAMES if programme else _GUARD_NAMES
    default_actors = (ProgrammeActor.ADMIN,) if programme else (Relation.FACILITATOR,)
    part = None if programme else _part_of(workflow, name, spec)
    states = spec.states
    known = set(states)
    duplicates = {s for s in states if states.count(s) > 1}
    if duplicates:
        raise WorkflowError(where, "states declared twice", duplicates)
    if spec.initial not in known:
        raise WorkflowError(where, "initial state is not declared", [spec.initial])
    if not spec.final:
        raise WorkflowError(where, "declares no final state")
    _require_known(where, "final states are not declared", spec.final, known)
    edges: dict[str, set[str]] = {s: set() for s in states}
    seen_pairs: set[tuple[str, str]] = set()
    for t in spec.transitions:
        _require_known(where, f"transition {t.trigger} names undeclared states", t.source, known)
        _require_known(where, f"transition {t.trigger} names undeclared states", [t.dest], known)
        unknown = [g for g in t.guards if g not in guard_names]
        if unknown:
            raise WorkflowError(
                where, f"transition {t.trigger} uses unknown guards {', '.join(unknown)}", t.source
            )
        for s in t.source:
            if (s, t.trigger) in seen_pairs:
                raise WorkflowError(where, f"trigger {t.trigger} is defined twice from", [s])
            seen_pairs.add((s, t.trigger))
            edges[s].add(t.dest)
    final = set(spec.final)
    leaving_final = {s for s in final if edges[s]}
    if leaving_final:
        raise WorkflowError(where, "final states have outgoing transitions", leaving_final)
    reachable = _reach(spec.initial, edges)
    if known - reachable:
        raise WorkflowError(where, "states unreachable from the initial state", known - reachable)
    traps = {s for s in states if s not in final and not (edges[s] - {s})}
    if traps:
        raise WorkflowError(where, "trap states (not final, no way out)", traps)
    stuck = {s for s in states if not (_reach(s, edges) & final)}
    if stuck:
        raise WorkflowError(where, "no final state reachable from", stuck)
    return MachineDef(
        name=name,
        scope=spec.scope,
        initial=spec.initial,
        final=frozenset(final),
        states=tuple(states),
        transitions=tuple(
            TransitionDef(
                trigger=t.trigger,
                sources=tuple(t.source),
                dest=t.dest,
                guards=tuple(t.guards),
                actors=tuple(t.actors) if t.actors is not None else default_actors,
                requires_reason=t.requires_reason,
                description=t.description,
            )
            for t in spec.transitions
        ),
        description=spec.description,
        part=part,
        label=spec.label or (CONTRACTS[part].label if part else name.replace("_", " ")),
    )


_GUARD_NAMES = frozenset(g.value for g in GuardName)
_KNOWLEDGE_GUARD_NAMES = frozenset(g.value for g in KnowledgeGuard)


def _part_of(workflow: str, name: str, spec: _MachineSpec) -> Part | None:
    if spec.role is not None:
        part: Part | None = spec.role
    else:
        part = Part(name) if name in Part._value2member_map_ else None
    if part is not None and spec.scope is not Scope.SCHOOL:
        raise WorkflowError(
            f"{workflow} machine {name}",
            f"plays the {CONTRACTS[part].label} part, so needs scope school",
        )
    return part


def _check_parts(workflow: str, machines: Mapping[str, MachineDef]) -> None:
    """Each part at most once; each player has what its part needs; guards on their part."""
    players: dict[Part, str] = {}
    for m in machines.values():
        where = f"{workflow} machine {m.name}"
        if m.part is not None:
            contract = CONTRACTS[m.part]
            if m.part in players:
                raise WorkflowError(
                    workflow,
                    f"two machines play the {contract.label} part",
                    [players[m.part], m.name],
                )
            players[m.part] = m.name
            edges = {(t.trigger, s, t.dest) for t in m.transitions for s in t.sources}
            lacks = missing(contract, set(m.states), edges)
            if lacks:
                raise WorkflowError(
                    where, f"plays the {contract.label} part but lacks {'; '.join(lacks)}"
                )
        if m.scope is Scope.CYCLE and any(t.guards for t in m.transitions):
            raise WorkflowError(
                where, "the cycle's own machine cannot use guards (they read a school's records)"
            )
        for t in m.transitions:
            for g in t.guards:
                owner = part_of_guard(g)
                if owner is not None and owner is not m.part:
                    raise WorkflowError(
                        where,
                        f"transition {t.trigger} uses guard {g}, which reads the "
                        f"{CONTRACTS[owner].label}; only the machine playing that part may "
                        f"(name it {owner.value} or give it `role: {owner.value}`)",
                    )
    for m in machines.values():
        for t in m.transitions:
            for g in t.guards:
                needed = GUARD_NEEDS.get(GuardName(g))
                if needed is not None and needed not in players:
                    raise WorkflowError(
                        f"{workflow} machine {m.name}",
                        f"transition {t.trigger} uses guard {g}, which needs a "
                        f"{CONTRACTS[needed].label} phase; the workflow has none",
                    )


def _require_known(where: str, problem: str, names: Iterable[str], known: set[str]) -> None:
    missing = set(names) - known
    if missing:
        raise WorkflowError(where, problem, missing)


def _reach(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def load_file(path: Path) -> WorkflowDef:
    try:
        data = read_bounded(path, WORKFLOW_LIMIT, what="a workflow file")
        text = decode_text(data, source=str(path))
    except FileFormatError as exc:
        raise WorkflowError(str(path), exc.reason) from exc
    return parse(text, origin=str(path))


class WorkflowCatalog:
    """The workflows a user can start cycles with: shipped ones plus a settings folder."""

    def __init__(self, extra_dir: Path | None = None) -> None:
        self._extra_dir = extra_dir
        self._cache: dict[str, WorkflowDef] | None = None

    def _files(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        shipped = resources.files("review_engine.workflows")
        for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                found.append((entry.name, entry.read_text(encoding="utf-8")))
        if self._extra_dir and self._extra_dir.is_dir():
            for path in sorted(self._extra_dir.glob("*.yaml")):
                found.append((str(path), path.read_text(encoding="utf-8")))
        return found

    def _everything(self) -> dict[str, WorkflowDef]:
        if self._cache is None:
            self._cache = {}
            for origin, text in self._files():
                wf = parse(text, origin=origin)
                self._cache[wf.name] = wf  # a user's file of the same name overrides
        return self._cache

    def all(self) -> dict[str, WorkflowDef]:
        """The cycle workflows: those a cluster's cycle can follow (what `cycle start` offers)."""
        return {n: wf for n, wf in self._everything().items() if not wf.is_programme}

    def programmes(self) -> dict[str, WorkflowDef]:
        """The programme workflows (offers and bookings, e.g. Inside Knowledge)."""
        return {n: wf for n, wf in self._everything().items() if wf.is_programme}

    def get(self, name: str) -> WorkflowDef:
        """A workflow of either kind by name (a programme's refuses to start a cycle)."""
        workflows = self._everything()
        if name not in workflows:
            raise NotFound("workflow", name, f"known: {', '.join(sorted(workflows))}")
        return workflows[name]
