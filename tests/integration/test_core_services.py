"""Core services on SQLite and PostgreSQL: clusters, cycles, triggers, history, the schema."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from review_engine.config import Settings
from review_engine.core.workflow import WorkflowCatalog
from review_engine.errors import (
    AlreadyExists,
    GuardRejected,
    InvalidInput,
    NotFound,
    SchemaOutOfDate,
    StorageError,
    TransitionNotAllowed,
)
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import clusters, cycles, history, transitions
from review_engine.store import db as dbmod
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR

CYCLE = "Northbrook/2026-27"


@pytest.fixture
def cycle(rt: Runtime, sample_cluster: list[int]) -> str:
    return cycles.start_cycle(rt, cluster="Northbrook", year="2026-27").cycle


def test_starting_a_cycle_gives_every_member_each_phase_machine(
    rt: Runtime, sample_cluster: list[int], cycle: str
) -> None:
    status = cycles.cycle_status(rt, cycle=cycle)
    assert status.state == "planned"
    assert status.machines == ["self_review", "peer_visit", "write_up", "support"]
    assert sorted(s.urn for s in status.schools) == sample_cluster
    assert all(
        s.states
        == {
            "self_review": "not_started",
            "peer_visit": "awaiting_triad",
            "write_up": "awaiting_draft",
            "support": "awaiting_plan",
        }
        for s in status.schools
    )


def test_a_cluster_has_one_cycle_per_year(rt: Runtime, cycle: str) -> None:
    with pytest.raises(AlreadyExists, match="cycle Northbrook/2026-27 already exists"):
        cycles.start_cycle(rt, cluster="Northbrook", year="2026-27")


@pytest.mark.parametrize("year", ["2026", "2026-28", "26-27", "2026/27"], ids=str)
def test_bad_academic_year_is_refused(rt: Runtime, sample_cluster: list[int], year: str) -> None:
    with pytest.raises(InvalidInput, match="should look like 2026-27"):
        cycles.start_cycle(rt, cluster="Northbrook", year=year)


def test_trigger_moves_state_and_writes_history(
    rt: Runtime, clock: FakeClock, sample_cluster: list[int], cycle: str
) -> None:
    urn = sample_cluster[0]
    clock.advance(days=2)
    transitions.fire(rt, cycle=cycle, machine="cycle", trigger="open_self_review")
    transitions.fire(rt, cycle=cycle, machine="self_review", trigger="start", school_urn=urn)
    rows = history.history(rt, cycle=cycle)
    assert [(h.machine, h.from_state, h.to_state, h.trigger) for h in rows] == [
        ("cycle", "none", "planned", "start"),
        ("cycle", "planned", "self_review", "open_self_review"),
        ("self_review", "not_started", "drafting", "start"),
    ]
    assert rows[-1].school_urn == urn
    assert rows[-1].actor == "facilitator@example.org"
    assert rows[-1].at == clock.now()
    assert history.history(rt, cycle=cycle, school_urn=urn)[0].trigger == "start"


def test_rejected_trigger_changes_nothing(
    rt: Runtime, sample_cluster: list[int], cycle: str
) -> None:
    before = cycles.cycle_status(rt, cycle=cycle)
    with pytest.raises(TransitionNotAllowed) as caught:
        transitions.fire(
            rt, cycle=cycle, machine="self_review", trigger="accept", school_urn=sample_cluster[0]
        )
    assert "in state not_started; allowed: start" in str(caught.value)
    with pytest.raises(GuardRejected, match="the visit has not happened yet"):
        transitions.fire(
            rt, cycle=cycle, machine="write_up", trigger="draft", school_urn=sample_cluster[0]
        )
    assert cycles.cycle_status(rt, cycle=cycle) == before
    assert len(history.history(rt, cycle=cycle)) == 1


def test_cancel_needs_a_reason_and_records_it(rt: Runtime, cycle: str) -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        transitions.fire(rt, cycle=cycle, machine="cycle", trigger="cancel")
    transitions.fire(rt, cycle=cycle, machine="cycle", trigger="cancel", reason="merged")
    assert history.history(rt, cycle=cycle)[-1].reason == "merged"


def test_nothing_changes_in_a_closed_cycle(
    rt: Runtime, sample_cluster: list[int], cycle: str
) -> None:
    transitions.fire(rt, cycle=cycle, machine="cycle", trigger="cancel", reason="stopped")
    with pytest.raises(InvalidInput, match="is cancelled; nothing in it can change"):
        transitions.fire(
            rt, cycle=cycle, machine="self_review", trigger="start", school_urn=sample_cluster[0]
        )


def test_school_machine_needs_a_school_and_cycle_machine_none(
    rt: Runtime, sample_cluster: list[int], cycle: str
) -> None:
    with pytest.raises(InvalidInput, match="give --school"):
        transitions.fire(rt, cycle=cycle, machine="self_review", trigger="start")
    with pytest.raises(InvalidInput, match="drop --school"):
        transitions.fire(
            rt, cycle=cycle, machine="cycle", trigger="open_self_review", school_urn=990101
        )
    with pytest.raises(NotFound, match="school 123456 not found; it is not part of cycle"):
        transitions.fire(rt, cycle=cycle, machine="self_review", trigger="start", school_urn=123456)


def test_unknown_cycle_reference(rt: Runtime) -> None:
    with pytest.raises(NotFound, match="cluster Nowhere not found"):
        cycles.cycle_status(rt, cycle="Nowhere/2026-27")
    with pytest.raises(InvalidInput, match="should be CLUSTER/YEAR"):
        cycles.cycle_status(rt, cycle="Nowhere")


def test_editing_a_workflow_file_does_not_change_running_cycles(
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
    sample_cluster: list[int],
    cycle: str,
    tmp_path,
) -> None:
    shipped = WorkflowCatalog().get("triad-peer-review").source
    folder = tmp_path / "workflows"
    folder.mkdir()
    # A user's edited copy of the same workflow: cycles started later use it, this one does not.
    edited = shipped.replace("version: 1", "version: 2").replace(
        "      - {trigger: close, source: support, dest: closed, actors: [facilitator, system]}",
        "      - {trigger: close, source: support, dest: closed, actors: [facilitator, system]}\n"
        "      - {trigger: skip_to_support, source: self_review, dest: support}",
    )
    (folder / "triad.yaml").write_text(edited, encoding="utf-8")
    user_rt = Runtime.open(
        settings.model_copy(update={"workflows_dir": folder}), clock=clock, actor=FACILITATOR
    )
    transitions.fire(user_rt, cycle=cycle, machine="cycle", trigger="open_self_review")
    with pytest.raises(TransitionNotAllowed):
        transitions.fire(user_rt, cycle=cycle, machine="cycle", trigger="skip_to_support")
    started = cycles.start_cycle(user_rt, cluster="Northbrook", year="2027-28")
    status = cycles.cycle_status(user_rt, cycle=started.cycle)
    assert status.workflow_version == 2
    assert cycles.cycle_status(user_rt, cycle=cycle).workflow_version == 1
    user_rt.db.engine.dispose()


def test_membership_rules(rt: Runtime, sample_cluster: list[int]) -> None:
    with pytest.raises(InvalidInput, match=r"school 990109 \(Levenbridge Primary School\) closed"):
        clusters.add_schools(rt, cluster="Northbrook", urns=[990109])
    with pytest.raises(NotFound, match="school 111111 not found"):
        clusters.add_schools(rt, cluster="Northbrook", urns=[111111])
    assert clusters.add_schools(rt, cluster="Northbrook", urns=[990101]) == []
    clusters.remove_school(rt, cluster="Northbrook", urn=990101)
    members = [m.urn for m in clusters.show_cluster(rt, name="Northbrook").members]
    assert 990101 not in members
    summary = clusters.list_clusters(rt)
    assert [(c.name, c.members) for c in summary] == [("Northbrook", len(sample_cluster) - 1)]


def test_history_is_append_only_in_the_database(rt: Runtime, cycle: str) -> None:
    for statement in (
        "UPDATE transitionlog SET actor = 'someone else'",
        "DELETE FROM transitionlog",
    ):
        with pytest.raises(StorageError, match="append-only"), rt.db.transaction() as session:
            session.execute(text(statement))
    assert history.history(rt, cycle=cycle)[0].actor == "facilitator@example.org"


def test_commands_refuse_an_out_of_date_schema(settings: Settings, rt: Runtime, tmp_path) -> None:
    head = dbmod.head_revision(rt.db.engine)
    with rt.db.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    with pytest.raises(SchemaOutOfDate, match="schema is old, this version needs"):
        Runtime.open(settings)
    with rt.db.transaction() as session:
        session.execute(text(f"UPDATE alembic_version SET version_num = '{head}'"))
    Runtime.open(settings).db.engine.dispose()
    empty = Settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}", data_dir=tmp_path)
    with pytest.raises(SchemaOutOfDate, match=r"schema is empty.*run `review init`"):
        Runtime.open(empty)


def test_reimport_updates_changed_schools_only(
    rt: Runtime, sample_cluster: list[int], tmp_path
) -> None:
    from review_engine.services import schools
    from tests.conftest import SAMPLES

    raw = (SAMPLES / "gias-sample.csv").read_bytes()
    changed = tmp_path / "changed.csv"
    changed.write_bytes(raw.replace(b"Moss Lane Primary Academy", b"Moss Lane Academy", 1))
    report = schools.import_gias(rt.acting_as(OPERATOR), path=changed)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 8)
    assert schools.show_school(rt, urn=990104).name == "Moss Lane Academy"
    assert schools.show_school(rt, urn=990101).name == "Northbrook Primary School"
