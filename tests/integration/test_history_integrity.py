"""History that cannot be quietly changed: each row's hash chains it to its cycle's previous
row, `review history verify` names any row altered, forged or missing, TRUNCATE is refused on
PostgreSQL, and a dropped protective trigger stops every command until `review init`."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from review_engine.cli.main import app
from review_engine.config import Settings
from review_engine.core.domain import Role
from review_engine.errors import HistoryUnprotected, NotPermitted, StorageError
from review_engine.runtime import Runtime
from review_engine.services import admin, cycles, history, people, transitions
from review_engine.store import history_protection
from review_engine.store.history_chain import GENESIS, Hasher, row_hash
from review_engine.store.state_writer import StateChange, append_history
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR

CYCLE = "Northbrook/2026-27"


@pytest.fixture
def cycle(rt: Runtime, clock: FakeClock, sample_cluster: list[int]) -> str:
    """A cycle with history for the cycle machine and five schools (ROWS rows)."""
    cycles.start_cycle(rt, cluster="Northbrook", year="2026-27")
    clock.advance(days=2)
    transitions.fire(rt, cycle=CYCLE, machine="cycle", trigger="open_self_review")
    for urn in sample_cluster[:5]:
        transitions.fire(rt, cycle=CYCLE, machine="self_review", trigger="start", school_urn=urn)
        clock.advance(minutes=5)
    return CYCLE


ROWS = 7


def _run(settings: Settings, *args: str) -> Result:
    env = {
        "REVIEW_DATABASE_URL": settings.database_url,
        "REVIEW_DATA_DIR": str(settings.data_dir),
        "REVIEW_ACTOR": FACILITATOR,
    }
    return CliRunner().invoke(app, list(args), env=env)


def _sql(rt: Runtime, *statements: str) -> None:
    with rt.db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _row_ids(rt: Runtime) -> list[int]:
    with rt.db.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM transitionlog ORDER BY id")).scalars())


def _drop_protection(rt: Runtime) -> None:
    if rt.db.dialect == "sqlite":
        _sql(rt, *(f"DROP TRIGGER {name}" for name in history_protection.SQLITE_TRIGGERS))
    else:
        _sql(
            rt,
            *(f"DROP TRIGGER {name} ON transitionlog" for name in history_protection.PG_TRIGGERS),
        )


def test_the_fast_hasher_agrees_with_the_reference_encoding() -> None:
    at = datetime(2026, 9, 3, 6, 0, 1, 5, tzinfo=timezone(timedelta(hours=1)))
    actor = 'Dr "Head" \\ Ågren'
    hasher = Hasher(actor, at)
    for prev, cycle_id, urn, reason in [
        (GENESIS, 1, None, None),
        ("ab" * 32, 12, 100001, 'line one\nline "two" \u2028 🎉'),
    ]:
        fields = (prev, cycle_id, urn, "self_review", "drafting", "submitted", "submit")
        expected = row_hash(*fields, actor, reason, at)
        assert hasher(*fields, reason) == expected
    # The documented encoding, recomputed by hand.
    encoded = json.dumps(
        [
            GENESIS,
            1,
            None,
            "cycle",
            "none",
            "planned",
            "start",
            "x",
            None,
            "2026-09-03T05:00:01.000005+00:00",
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert row_hash(GENESIS, 1, None, "cycle", "none", "planned", "start", "x", None, at) == (
        hashlib.sha256(encoded.encode()).hexdigest()
    )


def test_an_untouched_history_verifies(rt: Runtime, settings: Settings, cycle: str) -> None:
    [check] = history.verify(rt, cycle=cycle)
    assert check.ok and check.rows == ROWS
    with rt.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT prev_hash, hash FROM transitionlog ORDER BY id")).all()
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert check.head == rows[-1].hash
    done = _run(settings, "history", "verify", cycle)
    assert done.exit_code == 0, done.output
    assert f"{cycle}: OK, {ROWS} rows" in done.stdout
    everything = _run(settings, "history", "verify", "--json")
    assert everything.exit_code == 0
    assert json.loads(everything.stdout)[0]["rows"] == ROWS
    # `review history CYCLE` is as it was.
    shown = _run(settings, "history", cycle, "--json")
    assert shown.exit_code == 0 and len(json.loads(shown.stdout)) == ROWS


def test_a_row_forged_with_sql_is_reported(rt: Runtime, settings: Settings, cycle: str) -> None:
    _sql(
        rt,
        "INSERT INTO transitionlog (cycle_id, school_urn, machine, from_state, to_state, "
        "trigger, actor, reason, at) SELECT cycle_id, school_urn, 'self_review', 'submitted', "
        "'accepted', 'accept', actor, 'looks real', at FROM transitionlog WHERE id = "
        "(SELECT max(id) FROM transitionlog)",
    )
    forged = _row_ids(rt)[-1]
    # The next real change chains past it, to the last row the engine wrote.
    transitions.fire(rt, cycle=cycle, machine="cycle", trigger="open_peer_review")
    [check] = history.verify(rt, cycle=cycle)
    assert check.problems == [f"row {forged} of {cycle} has no hash (forged)"]
    done = _run(settings, "history", "verify", cycle)
    assert done.exit_code == 1
    assert f"row {forged} of {cycle} has no hash (forged)" in done.stdout


def test_a_forged_row_with_a_made_up_hash_is_reported(rt: Runtime, cycle: str) -> None:
    _sql(
        rt,
        "INSERT INTO transitionlog (cycle_id, school_urn, machine, from_state, to_state, "
        "trigger, actor, reason, at, prev_hash, hash) SELECT cycle_id, NULL, 'cycle', "
        f"'self_review', 'closed', 'close', actor, NULL, at, '{'1' * 64}', '{'2' * 64}' "
        "FROM transitionlog WHERE id = (SELECT max(id) FROM transitionlog)",
    )
    forged = _row_ids(rt)[-1]
    [check] = history.verify(rt, cycle=cycle)
    assert check.problems == [
        f"row {forged} of {cycle} does not match its hash (altered)",
        f"a row is missing before row {forged} of {cycle} (the chain breaks)",
    ]


def test_an_altered_row_is_reported_once_the_trigger_is_back(
    rt: Runtime, settings: Settings, cycle: str
) -> None:
    altered = _row_ids(rt)[2]
    _drop_protection(rt)
    _sql(rt, f"UPDATE transitionlog SET actor = 'someone else' WHERE id = {altered}")
    with pytest.raises(HistoryUnprotected, match=r"run `review init` to restore"):
        Runtime.open(settings)
    refused = _run(settings, "history", "verify", cycle)
    assert refused.exit_code == 1
    assert "history is not protected" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _run(settings, "init").exit_code == 0
    Runtime.open(settings).db.engine.dispose()  # protected again
    done = _run(settings, "history", "verify", cycle)
    assert done.exit_code == 1
    assert done.stdout.strip() == f"row {altered} of {cycle} does not match its hash (altered)"


def test_a_deleted_row_is_reported(rt: Runtime, settings: Settings, cycle: str) -> None:
    ids = _row_ids(rt)
    _drop_protection(rt)
    _sql(rt, f"DELETE FROM transitionlog WHERE id = {ids[3]}")
    admin.init_database(settings)
    [check] = history.verify(rt, cycle=cycle)
    assert check.rows == ROWS - 1
    assert check.problems == [f"a row is missing before row {ids[4]} of {cycle} (the chain breaks)"]


def test_history_is_append_only_and_cannot_be_truncated(rt: Runtime, cycle: str) -> None:
    statements = ["UPDATE transitionlog SET reason = 'x'", "DELETE FROM transitionlog"]
    if rt.db.dialect == "postgresql":
        statements.append("TRUNCATE transitionlog")
    for statement in statements:
        with pytest.raises(StorageError, match="append-only"), rt.db.transaction() as session:
            session.execute(text(statement))
    assert history.verify(rt, cycle=cycle)[0].rows == ROWS


def test_a_disabled_trigger_counts_as_missing_on_postgres(rt: Runtime, settings: Settings) -> None:
    if rt.db.dialect != "postgresql":
        pytest.skip("SQLite triggers cannot be disabled")
    _sql(rt, "ALTER TABLE transitionlog DISABLE TRIGGER transitionlog_no_truncate")
    with pytest.raises(HistoryUnprotected, match="transitionlog_no_truncate"):
        Runtime.open(settings)
    admin.init_database(settings)
    Runtime.open(settings).db.engine.dispose()


def test_only_the_facilitator_verifies_a_cycle(
    rt: Runtime, sample_cluster: list[int], cycle: str
) -> None:
    people.add_person(
        rt,
        email="someone@example.org",
        name="Some One",
        role=Role.HEAD,
        school_urn=sample_cluster[0],
    )
    with pytest.raises(NotPermitted):
        history.verify(rt.acting_as("someone@example.org"), cycle=cycle)
    assert history.verify(rt.acting_as("someone@example.org")) == []
    assert history.verify(rt.acting_as("scheduler"), cycle=cycle)[0].ok


def test_an_upgraded_database_verifies(settings: Settings, rt: Runtime, cycle: str) -> None:
    """Rows written before 0003 get their chains in the migration."""
    from alembic import command

    from review_engine.store import db as dbmod

    config = dbmod.alembic_config(rt.db.engine)
    command.downgrade(config, "0002")
    with rt.db.engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM transitionlog")).keys()
    assert "hash" not in columns
    command.upgrade(config, "head")
    Runtime.open(settings).db.engine.dispose()  # the protection is all there
    [check] = history.verify(rt, cycle=cycle)
    assert check.ok and check.rows == ROWS


def test_the_chain_hashes_times_in_utc(rt: Runtime, cycle: str) -> None:
    """SQLite keeps no offset: an instant given in another zone is stored (and hashed) in UTC."""
    london = datetime(2026, 9, 10, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    with rt.db.transaction() as session:
        cycle_id = session.execute(text("SELECT max(cycle_id) FROM transitionlog")).scalar_one()
        note = StateChange(cycle_id, "cycle", "note", "self_review", "self_review")
        append_history(session, [note], actor=FACILITATOR, at=london)
    assert history.history(rt, cycle=cycle)[-1].at == datetime(2026, 9, 10, 8, 30, tzinfo=UTC)
    assert history.verify(rt, cycle=cycle)[0].ok


def test_two_writers_on_one_cycle_take_turns_rather_than_fork_its_chain(
    rt: Runtime, cycle: str
) -> None:
    """The second writer waits for the first's lock on the cycle (PostgreSQL) or the write
    lock (SQLite), then chains onto the row the first committed."""
    with rt.db.engine.connect() as conn:
        cycle_id = conn.execute(text("SELECT max(cycle_id) FROM transitionlog")).scalar_one()
    at = datetime(2026, 9, 10, 8, 30, tzinfo=UTC)
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with rt.db.transaction() as session:
                note = StateChange(cycle_id, "cycle", "second", "self_review", "self_review")
                append_history(session, [note], actor=FACILITATOR, at=at)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with rt.db.transaction() as session:
        note = StateChange(cycle_id, "cycle", "first", "self_review", "self_review")
        append_history(session, [note], actor=FACILITATOR, at=at)
        second = threading.Thread(target=second_writer)
        second.start()
        time.sleep(0.5)
        assert second.is_alive()  # waiting for the first to commit
    second.join(timeout=20)
    assert not errors and not second.is_alive()
    [check] = history.verify(rt, cycle=cycle)
    assert check.ok and check.rows == ROWS + 2
