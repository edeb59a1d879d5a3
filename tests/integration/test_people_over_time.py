"""People and clusters that change during the year, through the services: a person's name,
address, role and school change (history still names them); a CSV of people is taken whole
or not at all; a deactivated person is sent nothing; who at a school takes which notices;
cluster settings change with a log, are refused while a cycle runs, and a cluster archives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from review_engine.core.domain import NoticeKind, Role
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import clusters, cycles, history, people, signin
from review_engine.services.tick import tick
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CLUSTER,
    CYCLE,
    DEPUTY,
    HEADS,
    OTHER_CLUSTER,
    OTHER_FACILITATOR,
    submit_sef,
)

HOST = min(HEADS)  # 990101, whose deputy is in the sample
HEAD = HEADS[HOST]
# Seven days before the SEF deadline of the sample plan: every school is reminded once.
REMINDER_DAY = datetime(2026, 10, 9, 6, 0, tzinfo=UTC)


def _sef_reminders(rt: Runtime) -> list[str]:
    """Recipients of SEF reminders about the host school, as queued."""
    with rt.db.transaction() as session:
        return sorted(
            m.recipient
            for m in session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.school_urn == HOST,
                    col(OutboxMessage.item) == "self_review",
                )
            )
        )


def _remind(rt: Runtime, clock: FakeClock) -> None:
    clock.set(REMINDER_DAY)
    tick(rt.acting_as("scheduler"))


# --- people ---------------------------------------------------------------------------------


def test_a_head_changes_name_address_and_history_still_names_them(cycle_rt: Runtime) -> None:
    submit_sef(cycle_rt, CYCLE, HOST)  # history now holds a row by HEAD's address
    new = "a.rahman@northbrook.example"
    changed = people.update_person(cycle_rt, email=HEAD, name="Aisha Rahman-Cole", new_email=new)
    assert (changed.email, changed.name, changed.role) == (new, "Aisha Rahman-Cole", "head")
    actors = {row.actor for row in history.history(cycle_rt, cycle=CYCLE)}
    assert HEAD in actors  # history is never rewritten...
    names = people.names_for(cycle_rt, addresses=[HEAD, new, "nobody@example.org"])
    assert names == {HEAD: "Aisha Rahman-Cole", new: "Aisha Rahman-Cole"}  # ...but resolves
    # They act under the new address; the old one is nobody now.
    assert people.show_person(cycle_rt.acting_as(new), email=new).person.name.endswith("Cole")
    with pytest.raises(NotPermitted):
        people.list_people(cycle_rt.acting_as(HEAD))
    log = people.show_person(cycle_rt, email=new).changes
    assert {(c.setting, c.old, c.new, c.actor) for c in log} == {
        ("name", "Aisha Rahman", "Aisha Rahman-Cole", FACILITATOR),
        ("email", HEAD, new, FACILITATOR),
    }


def test_role_and_school_change_and_a_teacher_sees_no_records(cycle_rt: Runtime) -> None:
    other = sorted(HEADS)[1]
    moved = people.update_person(cycle_rt, email=DEPUTY, role=Role.TEACHER, school_urn=other)
    assert (moved.role, moved.school_urn) == ("teacher", other)
    # A teacher belongs to a school but acts for none: the school's SEF is not theirs to see.
    from review_engine.services import sef

    submit_sef(cycle_rt, CYCLE, other)
    with pytest.raises((NotFound, NotPermitted)):
        sef.show_sef(cycle_rt.acting_as(DEPUTY), cycle=CYCLE, urn=other)
    # A facilitator keeps staff at their own schools, in school roles.
    with pytest.raises(NotPermitted):
        people.update_person(cycle_rt, email=DEPUTY, role=Role.ADMIN)
    with pytest.raises(NotFound):  # someone outside their clusters is nobody to them
        people.update_person(cycle_rt, email=OTHER_FACILITATOR, name="X")
    with pytest.raises(AlreadyExists):
        people.update_person(cycle_rt, email=DEPUTY, new_email=HEAD)


def test_a_facilitator_running_a_cluster_keeps_the_role(cycle_rt: Runtime) -> None:
    operator = cycle_rt.acting_as(OPERATOR)
    with pytest.raises(InvalidInput, match="facilitates cluster Northbrook"):
        people.update_person(operator, email=FACILITATOR, role=Role.HEAD, school_urn=HOST)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_with_a_bad_line_is_refused_whole_naming_it(
    cycle_rt: Runtime, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "urn,email,name,role\n"
        f"{HOST},maths@northbrook.example,Sam Maths,subject_leader\n"
        f"{HOST},ta@northbrook.example,Tia Assistant,teaching assistnt\n"
        f"{HOST},gov@northbrook.example,Gil Governor,governor\n",
    )
    with pytest.raises(InvalidInput) as refused:
        people.import_people(cycle_rt, path=path)
    assert refused.value.message.startswith("staff.csv:3: role 'teaching assistnt' is not one")
    assert refused.value.message.endswith("nothing imported")
    emails = {p.email for p in people.list_people(cycle_rt)}
    assert not emails & {"maths@northbrook.example", "gov@northbrook.example"}


def test_an_import_adds_refuses_known_addresses_or_updates_them(
    cycle_rt: Runtime, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "urn,email,name,role\n"
        f"{HOST},maths@northbrook.example,Sam Maths,Subject leader\n"
        f"{HOST},{DEPUTY},Chris Lowe,senior_leader\n",
    )
    with pytest.raises(InvalidInput, match=r"staff\.csv:3: deputy@.* already registered"):
        people.import_people(cycle_rt, path=path)
    report = people.import_people(cycle_rt, path=path, update_existing=True)
    assert (report.added, report.updated) == (["maths@northbrook.example"], [DEPUTY])
    found = {p.email: p.role for p in people.list_people(cycle_rt, school_urn=HOST)}
    assert found["maths@northbrook.example"] == "subject_leader"
    assert found[DEPUTY] == "senior_leader"
    # A facilitator imports only their own cluster's staff.
    outside = _csv(tmp_path, "urn,email,name,role\n,lead@example.org,Pat Lead,programme_lead\n")
    with pytest.raises(InvalidInput, match=r"staff\.csv:2: a facilitator registers"):
        people.import_people(cycle_rt, path=outside)


def test_a_deactivated_head_is_sent_nothing_and_their_session_ends(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    sent = signin.request_link(cycle_rt, email=HEAD, client="t", base_url="http://x")
    assert sent.url is not None
    token = signin.redeem_link(cycle_rt, token=sent.url.rsplit("/", 1)[1], client="t").token
    people.deactivate_person(cycle_rt, email=HEAD)
    assert signin.resume(cycle_rt, token=token) is None
    _remind(cycle_rt, clock)
    # The head takes nothing; the school still hears: its deputy (no choice made) stands in.
    assert _sef_reminders(cycle_rt) == [DEPUTY]
    assert people.show_person(cycle_rt, email=HEAD).person.name == "Aisha Rahman"


def test_the_link_waiting_for_a_deactivated_person_is_dropped(cycle_rt: Runtime) -> None:
    signin.request_link(cycle_rt, email=HEAD, client="t", base_url="http://x")
    people.deactivate_person(cycle_rt, email=HEAD)
    from review_engine.services import outbox

    rows = [r for r in outbox.list_outbox(cycle_rt.acting_as(OPERATOR)) if r.recipient == HEAD]
    assert rows and {r.status for r in rows} == {"dropped"}


def test_a_deputy_who_opts_in_receives_the_schools_reminders(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    assert people.show_person(cycle_rt, email=DEPUTY).person.notices == ()
    chosen = people.set_notices(
        cycle_rt.acting_as(DEPUTY), email=DEPUTY, kinds=[NoticeKind.REMINDERS]
    )
    assert chosen.notices == ("reminders",)
    _remind(cycle_rt, clock)
    assert _sef_reminders(cycle_rt) == sorted([HEAD, DEPUTY])
    tick(cycle_rt.acting_as("scheduler"))  # again the same day: nothing twice
    assert _sef_reminders(cycle_rt) == sorted([HEAD, DEPUTY])


def test_a_head_who_opts_out_gets_no_reminders_but_the_school_does(
    cycle_rt: Runtime, clock: FakeClock
) -> None:
    people.set_notices(cycle_rt.acting_as(HEAD), email=HEAD, kinds=[NoticeKind.VISITS])
    people.set_notices(cycle_rt, email=DEPUTY, kinds=[NoticeKind.REMINDERS])
    _remind(cycle_rt, clock)
    assert _sef_reminders(cycle_rt) == [DEPUTY]
    with pytest.raises(NotFound):  # a head chooses only their own
        people.set_notices(cycle_rt.acting_as(HEAD), email=DEPUTY, kinds=[])


# --- clusters -------------------------------------------------------------------------------


def test_a_misspelt_framework_is_refused_listing_the_choices(cycle_rt: Runtime) -> None:
    operator = cycle_rt.acting_as(OPERATOR)
    with pytest.raises(InvalidInput) as refused:
        clusters.create_cluster(operator, name="Eastfield", framework="renewd2025")
    assert "eif2019" in refused.value.message and "renewed2025" in refused.value.message
    with pytest.raises(InvalidInput, match="choose one of"):
        clusters.update_cluster(operator, name=OTHER_CLUSTER, framework="eif2091")


def test_framework_and_visitors_are_refused_while_a_cycle_runs(cycle_rt: Runtime) -> None:
    with pytest.raises(InvalidInput, match="cannot change while Northbrook/2026-27 is running"):
        clusters.update_cluster(cycle_rt, name=CLUSTER, framework="renewed2025")
    with pytest.raises(InvalidInput, match="visitors per host"):
        clusters.update_cluster(cycle_rt, name=CLUSTER, visitors_per_host=2)
    renamed = clusters.update_cluster(cycle_rt, name=CLUSTER, new_name="Northbrook Schools")
    assert renamed.cycles == ["Northbrook Schools/2026-27"]
    log = renamed.changes
    assert [(c.setting, c.old, c.new, c.actor) for c in log] == [
        ("name", "Northbrook", "Northbrook Schools", FACILITATOR)
    ]


def test_settings_change_with_a_log_and_an_archived_cluster_hides(cycle_rt: Runtime) -> None:
    operator = cycle_rt.acting_as(OPERATOR)
    changed = clusters.update_cluster(
        operator, name=OTHER_CLUSTER, framework="renewed2025", visitors_per_host=2
    )
    assert (changed.framework, changed.visitors_per_host) == ("renewed2025", 2)
    assert {(c.setting, c.old, c.new) for c in changed.changes} == {
        ("framework", "eif2019", "renewed2025"),
        ("visitors per host", "3", "2"),
    }
    with pytest.raises(NotFound):  # another cluster's facilitator: nothing to see
        clusters.cluster_settings(cycle_rt, name=OTHER_CLUSTER)
    with pytest.raises(NotPermitted):  # a facilitator does not archive
        clusters.archive_cluster(cycle_rt.acting_as(OTHER_FACILITATOR), name=OTHER_CLUSTER)
    with pytest.raises(InvalidInput, match="while Northbrook/2026-27 is running"):
        clusters.archive_cluster(operator, name=CLUSTER)
    clusters.archive_cluster(operator, name=OTHER_CLUSTER)
    assert OTHER_CLUSTER not in {c.name for c in clusters.list_clusters(operator)}
    listed = {c.name: c.archived for c in clusters.list_clusters(operator, include_archived=True)}
    assert listed[OTHER_CLUSTER] is True
    with pytest.raises(InvalidInput, match="archived"):
        cycles.start_cycle(operator, cluster=OTHER_CLUSTER, year="2027-28")
    restored = clusters.archive_cluster(operator, name=OTHER_CLUSTER, archived=False)
    assert not restored.archived
    assert [c.setting for c in restored.changes][:2] == ["archived", "archived"]


def test_the_renewed_framework_is_the_default_from_2025_26() -> None:
    from review_engine.core.frameworks import default_for_year, get_framework

    assert default_for_year("2026-27") == default_for_year() == "renewed2025"
    assert default_for_year("2024-25") == "eif2019"
    renewed = get_framework("renewed2025")
    assert len(renewed.areas[0].grades) == 5
    assert {a.key for a in renewed.areas} >= {"inclusion", "curriculum_and_teaching"}
