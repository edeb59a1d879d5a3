"""Random triggers against a real database: the state is always valid, a rejected trigger
changes nothing, and the history replayed in order gives the stored state."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from review_engine.config import Settings
from review_engine.core.domain import Role
from review_engine.core.workflow import DEFAULT_WORKFLOW, WorkflowCatalog
from review_engine.errors import ReviewEngineError
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin, clusters, cycles, history, people, schools, transitions
from review_engine.testing import FakeClock
from tests.conftest import use_sample_calendar

WORKFLOW = WorkflowCatalog().get(DEFAULT_WORKFLOW)
MOVES = sorted({(m.name, t.trigger) for m in WORKFLOW.machines.values() for t in m.transitions})
SCHOOLS = [990101, 990102, 990103]
SAMPLE = Path(__file__).resolve().parents[2] / "review_engine" / "samples" / "gias-sample.csv"
_TEMPLATE: Path | None = None


def _template() -> Path:
    """A migrated database with a cluster, built once and copied for each example."""
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="review-stateful-"))
        s = Settings(database_url=f"sqlite:///{folder / 'template.sqlite'}", data_dir=folder)
        admin.init_database(s)
        rt = Runtime.open(s, clock=FakeClock(), actor="f@example.org")
        schools.import_gias(rt.acting_as(OPERATOR), path=SAMPLE)
        people.add_person(
            rt.acting_as(OPERATOR), email="f@example.org", name="F", role=Role.FACILITATOR
        )
        clusters.create_cluster(rt.acting_as(OPERATOR), name="C", facilitator_email="f@example.org")
        clusters.add_schools(rt, cluster="C", urns=SCHOOLS)
        use_sample_calendar(rt)
        rt.db.engine.dispose()
        _TEMPLATE = folder / "template.sqlite"
    return _TEMPLATE


class RandomTriggers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="review-example-"))
        shutil.copy(_template(), self.folder / "db.sqlite")
        s = Settings(database_url=f"sqlite:///{self.folder / 'db.sqlite'}", data_dir=self.folder)
        self.clock = FakeClock()
        self.rt = Runtime.open(s, clock=self.clock, actor="f@example.org")
        self.cycle = cycles.start_cycle(self.rt, cluster="C", year="2026-27").cycle

    def snapshot(self) -> tuple[str, dict[int, dict[str, str]]]:
        status = cycles.cycle_status(self.rt, cycle=self.cycle)
        return status.state, {s.urn: dict(s.states) for s in status.schools}

    @rule(
        move=st.sampled_from(MOVES),
        urn=st.sampled_from(SCHOOLS),
        reason=st.sampled_from([None, "because"]),
    )
    def fire(self, move: tuple[str, str], urn: int, reason: str | None) -> None:
        machine, trigger = move
        school = None if machine == "cycle" else urn
        before = self.snapshot()
        rows_before = len(history.history(self.rt, cycle=self.cycle))
        self.clock.advance(minutes=5)
        try:
            transitions.fire(
                self.rt,
                cycle=self.cycle,
                machine=machine,
                trigger=trigger,
                school_urn=school,
                reason=reason,
            )
        except ReviewEngineError:
            assert self.snapshot() == before
            assert len(history.history(self.rt, cycle=self.cycle)) == rows_before
        else:
            assert len(history.history(self.rt, cycle=self.cycle)) == rows_before + 1

    @invariant()
    def states_are_valid_and_history_folds_to_them(self) -> None:
        cycle_state, schools_states = self.snapshot()
        assert cycle_state in WORKFLOW.cycle_machine.states
        replay_cycle = WORKFLOW.cycle_machine.initial
        replay = {urn: {m.name: m.initial for m in WORKFLOW.school_machines} for urn in SCHOOLS}
        for entry in history.history(self.rt, cycle=self.cycle):
            if entry.school_urn is None:
                replay_cycle = entry.to_state
            else:
                assert replay[entry.school_urn][entry.machine] == entry.from_state
                replay[entry.school_urn][entry.machine] = entry.to_state
        assert replay_cycle == cycle_state
        assert replay == schools_states
        for states in schools_states.values():
            for machine, state in states.items():
                assert state in WORKFLOW.machines[machine].states

    def teardown(self) -> None:
        self.rt.db.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


RandomTriggers.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRandomTriggers = RandomTriggers.TestCase
