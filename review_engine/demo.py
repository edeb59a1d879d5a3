"""The demo: a whole review cycle for the shipped sample cluster, on a throwaway SQLite file.

`review demo` (and `make demo`) call `run`; it drives the sample cluster from planned to
closed through the same services the CLI uses, on a simulated clock that walks the year.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from review_engine.config import Settings
from review_engine.domain import Role
from review_engine.errors import InvalidInput
from review_engine.runtime import Runtime
from review_engine.services import admin, clusters, cycles, people, schools, transitions
from review_engine.testing import FakeClock

CLUSTER = "Northbrook Learning Partnership"
YEAR = "2026-27"
FACILITATOR = "facilitator@northbrook.example"


@dataclass(frozen=True)
class DemoRun:
    runtime: Runtime
    cycle: str
    database: Path


def sample_path(name: str) -> Path:
    """A file shipped in review_engine/samples."""
    return Path(str(resources.files("review_engine") / "samples" / name))


def run(workdir: Path, *, out: Path, say: Callable[[str], None]) -> DemoRun:
    """Run the sample cycle from import to close (documents into `out`); returns the runtime."""
    database = workdir / "demo.sqlite"
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=workdir)
    admin.init_database(settings)
    clock = FakeClock(datetime(2026, 7, 14, 9, 0, tzinfo=UTC))
    rt = Runtime.open(settings, clock=clock, actor=FACILITATOR)

    gias = sample_path("gias-sample.csv")
    report = schools.import_gias(rt, path=gias)
    say(f"imported {report.added} schools from {gias.name}")
    people.add_person(rt, email=FACILITATOR, name="Sam Okafor", role=Role.FACILITATOR)
    heads = _add_heads(rt)
    say(f"added the facilitator and {len(heads)} head teachers")

    clusters.create_cluster(rt, name=CLUSTER, facilitator_email=FACILITATOR)
    every = schools.list_schools(rt)
    closed = [s for s in every if s.status == "Closed"]
    members = [s.urn for s in every if s.status != "Closed"]
    clusters.add_schools(rt, cluster=CLUSTER, urns=members)
    say(f"created cluster {CLUSTER} with {len(members)} schools")
    for school in closed:
        try:
            clusters.add_schools(rt, cluster=CLUSTER, urns=[school.urn])
        except InvalidInput as refused:
            say(f"refused as expected: {refused}")

    started = cycles.start_cycle(rt, cluster=CLUSTER, year=YEAR)
    cycle = started.cycle
    say(f"started cycle {cycle}")

    def fire(machine: str, trigger: str, urn: int | None = None, by: str | None = None) -> None:
        actor_rt = rt.acting_as(by) if by else rt
        transitions.fire(actor_rt, cycle=cycle, machine=machine, trigger=trigger, school_urn=urn)

    clock.set(datetime(2026, 9, 3, 7, 0, tzinfo=UTC))
    fire("cycle", "open_self_review")
    for urn in members:
        clock.advance(days=3)
        fire("self_review", "start", urn, heads[urn])
        fire("self_review", "submit", urn, heads[urn])
        fire("self_review", "accept", urn)
    say("self-review: every school submitted its SEF; the facilitator accepted them")

    clock.set(datetime(2026, 11, 2, 7, 0, tzinfo=UTC))
    fire("cycle", "open_peer_review")
    for urn in members:
        fire("peer_visit", "assign_triad", urn)
        fire("peer_visit", "agree_focus", urn, heads[urn])
        fire("peer_visit", "schedule", urn, heads[urn])
    for urn in members:
        clock.advance(days=4)
        fire("peer_visit", "complete", urn, heads[urn])
    say("peer review: triads formed, each host set its focus, every visit happened")

    clock.set(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))
    fire("cycle", "open_write_up")
    for urn in members:
        clock.advance(days=2)
        for trigger in ("draft", "reviewers_agree", "host_agree", "publish"):
            fire("write_up", trigger, urn)
    say("write-up: every WWW/EBI summary drafted, agreed and published")

    clock.set(datetime(2027, 2, 22, 8, 0, tzinfo=UTC))
    fire("cycle", "open_support")
    for urn in members:
        for trigger in ("agree_plan", "start"):
            fire("support", trigger, urn)
    clock.set(datetime(2027, 7, 1, 8, 0, tzinfo=UTC))
    for urn in members:
        for trigger in ("review_impact", "close"):
            fire("support", trigger, urn)
    fire("cycle", "close")
    say("support: plans agreed, impact reviewed; the cycle is closed")
    del out  # documents arrive with the documents issue
    return DemoRun(runtime=rt, cycle=cycle, database=database)


def _add_heads(rt: Runtime) -> dict[int, str]:
    """One head teacher per sample school, from the shipped people file."""
    heads: dict[int, str] = {}
    with sample_path("people.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            urn = int(row["urn"])
            people.add_person(
                rt, email=row["email"], name=row["name"], role=Role(row["role"]), school_urn=urn
            )
            if row["role"] == Role.HEAD:
                heads[urn] = row["email"]
    return heads
