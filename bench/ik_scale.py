"""Benchmark Inside Knowledge at national scale: 20,000 schools and 1,000 offers on PostgreSQL.

Builds 20,000 schools across England's nine regions (Core inserts: set-up only), a programme
with the first round's five topics, 200 host schools nominated and approved, and 1,000 offers
made and published through the services (five per host, spread over the school year). Then
times, through the same service calls the web pages make (`prospectus.search`, no sign-in):
each kind of search (everything, topic, region, a later page, phase and topic, a date range,
words, nearest a URN, within 40 km of a postcode, region with topic and words), and bookings
(`bookings.book`, one school at a time on offers across the country, then 50 schools racing for
one offer's last places from 50 threads). Prints p50/p95 per kind, the statements a search
issues, and each p95 as a ratio to its target (200 ms): a ratio above 1 misses it. Exits 1 on a
miss or an oversold offer.

PostgreSQL from REVIEW_BENCH_POSTGRES_URL (or REVIEW_TEST_POSTGRES_URL); a database of its own
is created and dropped. Without one it says so and exits 0.

Run: .venv/bin/python bench/ik_scale.py [--schools 20000] [--offers 1000] [--searches 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, make_url, text
from sqlalchemy.exc import OperationalError

from review_engine.config import Settings, normalise_url
from review_engine.core.domain import Role
from review_engine.core.knowledge import REGIONS, ProspectusQuery
from review_engine.errors import ReviewEngineError
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin
from review_engine.services.knowledge import bookings, nominations, offers, programme, prospectus
from review_engine.services.knowledge.views import Practitioner
from review_engine.store.models import Person, School
from review_engine.testing import FakeClock

TARGET_MS = 200.0  # p95 of a search and of a booking
FIRST_URN = 800_000
TOPICS = ("disadvantaged", "sustainability", "assessment", "ks2-writing", "budgets")
WORDS = ("phonics", "feedback", "governors", "energy", "tracking", "moderation", "procurement")
# Rough National Grid boxes (metres) of England's regions: schools spread inside them.
BOXES = {
    "North East": (390_000, 460_000, 500_000, 620_000),
    "North West": (320_000, 400_000, 370_000, 520_000),
    "Yorkshire and the Humber": (400_000, 520_000, 400_000, 500_000),
    "East Midlands": (440_000, 560_000, 280_000, 400_000),
    "West Midlands": (330_000, 440_000, 230_000, 350_000),
    "East of England": (520_000, 650_000, 190_000, 340_000),
    "London": (505_000, 560_000, 160_000, 200_000),
    "South East": (420_000, 630_000, 100_000, 230_000),
    "South West": (180_000, 420_000, 20_000, 240_000),
}
assert set(BOXES) == set(REGIONS)
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def postcode(n: int) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    unit = letters[(n // 1980) % 20] + letters[(n // 39_600) % 20]
    return f"Q{letters[n % 20]}{(n // 20) % 99 + 1} {(n // 7) % 10}{unit}"


def head(urn: int) -> str:
    return f"head@{urn}.bench.example"


def build(rt: Runtime, n_schools: int, n_offers: int) -> tuple[list[int], list[int]]:
    """The schools (set-based), then the programme, hosts and offers through the services.
    Returns the schools' URNs and the offers' ids."""
    regions = list(BOXES)
    urns = [FIRST_URN + n for n in range(n_schools)]
    schools, people = [], []
    for n, urn in enumerate(urns):
        e0, e1, n0, n1 = BOXES[regions[n % len(regions)]]
        schools.append(
            {
                "urn": urn,
                "name": f"Bench School {urn}",
                "is_closed": False,
                "phase": "Secondary" if n % 5 == 4 else "Primary",
                "region": regions[n % len(regions)],
                "town": "Benchton",
                "postcode": postcode(n),
                "easting": e0 + (n * 7919) % (e1 - e0),
                "northing": n0 + (n * 104_729) % (n1 - n0),
            }
        )
        people.append(
            {"email": head(urn), "name": f"Head {urn}", "role": Role.HEAD.value,
             "school_urn": urn, "active": True}
        )  # fmt: skip
    with rt.db.engine.begin() as conn:
        conn.execute(insert(School), schools)
        conn.execute(insert(Person), people)
    made = programme.create_programme(
        rt, name="Inside Knowledge", year="2026-27", first_round_topics=True
    )
    label = str(made.id)
    days = [START.date() + timedelta(days=d) for d in range(21, 280)]
    days = [d for d in days if d.weekday() < 5]
    primaries = [u for n, u in enumerate(urns) if n % 5 != 4]
    offer_ids: list[int] = []
    hosts = -(-n_offers // 5)
    for h in range(hosts):
        host = primaries[(h * 97) % len(primaries)]
        topic = TOPICS[h % len(TOPICS)]
        nomination = nominations.nominate(
            rt, programme=label, topic=topic, school=host, reason="Bench: excels"
        )
        nominations.approve(rt, nomination=nomination.id)
        for k in range(min(5, n_offers - h * 5)):
            day = days[(h * 13 + k * 29) % len(days)]
            offer = offers.create_offer(
                rt,
                programme=label,
                topic=topic,
                title=f"Visit {h * 5 + k + 1}: {WORDS[(h + k) % len(WORDS)]} in use",
                summary=f"See how {WORDS[(h * 3 + k) % len(WORDS)]} works across the school.",
                visit_date=day,
                slot="morning" if k % 2 == 0 else "afternoon",
                schools=7,
                practitioners=2,
                booking_deadline=day - timedelta(days=7),
                host=host,
            )
            offer_ids.append(offers.publish(rt, offer=offer.id).id)
    with rt.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return urns, offer_ids


def searches(urns: list[int], i: int) -> dict[str, ProspectusQuery]:
    school = urns[(i * 7_907) % len(urns)]
    region = REGIONS[i % len(REGIONS)]
    topic = TOPICS[i % len(TOPICS)]
    word = WORDS[i % len(WORDS)]
    return {
        "everything": ProspectusQuery(),
        "topic": ProspectusQuery(topic=topic),
        "region": ProspectusQuery(region=region),
        "region, page 3": ProspectusQuery(region=region, page=3),
        "phase and topic": ProspectusQuery(phase="secondary", topic=topic),
        "date range": ProspectusQuery(
            date_from=START.date() + timedelta(days=120),
            date_to=START.date() + timedelta(days=160),
        ),
        "words": ProspectusQuery(text=word),
        "near a URN": ProspectusQuery(near=str(school)),
        "near a postcode, 40 km": ProspectusQuery(near=postcode(school - FIRST_URN), within_km=40),
        "region, topic and words": ProspectusQuery(region=region, topic=topic, text=word),
    }


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(kind: str, values: list[float], *, target: bool = True) -> float:
    p95 = p(values, 0.95)
    ratio = f"  ratio {p95 / TARGET_MS:5.2f}" if target else "  (queued on one lock: no target)"
    print(
        f"  {kind:<28} n={len(values):>4}  p50 {statistics.median(values):7.1f} ms  "
        f"p95 {p95:7.1f} ms{ratio}"
    )
    return p95


def run(url: str, folder: Path, args: argparse.Namespace) -> int:
    settings = Settings(database_url=url, data_dir=folder)
    admin.init_database(settings)
    clock = FakeClock(START)
    rt = Runtime.open(settings, clock=clock, actor=OPERATOR)
    failed = False
    try:
        started = time.perf_counter()
        urns, offer_ids = build(rt, args.schools, args.offers)
        print(
            f"built {len(urns):,} schools in {len(BOXES)} regions and {len(offer_ids):,} "
            f"published offers in {time.perf_counter() - started:.1f} s (PostgreSQL)"
        )
        public = rt.acting_as("web")
        statements: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            statements.append(statement)

        event.listen(rt.db.engine, "before_cursor_execute", count)
        prospectus.search(public, ProspectusQuery(near=str(urns[0]), text="phonics"))
        per_search = len(statements)
        event.remove(rt.db.engine, "before_cursor_execute", count)
        times: dict[str, list[float]] = defaultdict(list)
        for i in range(args.searches):
            for kind, query in searches(urns, i).items():
                times[kind].append(timed(lambda q=query: prospectus.search(public, q)))
        print(f"prospectus searches (no sign-in; {per_search} statements near a school):")
        worst = max(line(kind, values) for kind, values in times.items())
        every = [v for values in times.values() for v in values]
        overall = line("every search", every)
        failed |= overall > TARGET_MS

        by_region: dict[str, list[int]] = defaultdict(list)
        for n, urn in enumerate(urns):
            if n % 5 != 4:
                by_region[REGIONS[n % len(REGIONS)]].append(urn)
        with rt.db.transaction() as session:
            rows = session.execute(
                text("SELECT id, region FROM ik_offer WHERE state = 'published' ORDER BY id")
            ).all()
            hosts = set(session.execute(text("SELECT host_urn FROM ik_offer")).scalars())
        booked: list[float] = []
        used: set[int] = set(hosts)
        for k, (offer_id, region) in enumerate(rows[: args.bookings]):
            school = next(u for u in by_region[region][k % 50 :] if u not in used)
            used.add(school)
            booked.append(
                timed(
                    lambda o=offer_id, s=school: bookings.book(
                        rt.acting_as(head(s)),
                        offer=o,
                        practitioners=[Practitioner("Ann Lee", f"ann@{s}.bench.example")],
                    )
                )
            )
        print("bookings (one at a time):")
        failed |= line("book a place", booked) > TARGET_MS

        offer_id, region = rows[-1]
        racers = [u for u in by_region[region] if u not in used][:50]
        barrier = threading.Barrier(len(racers))
        results: list[str] = []
        race_times: list[float] = []

        def race(urn: int) -> None:
            barrier.wait()
            started = time.perf_counter()
            try:
                done = bookings.book(
                    rt.acting_as(head(urn)), offer=offer_id, practitioners=[Practitioner("A")]
                )
                results.append(done.state)
            except ReviewEngineError as exc:
                results.append(f"refused: {exc}")
            race_times.append((time.perf_counter() - started) * 1000)

        threads = [threading.Thread(target=race, args=(u,)) for u in racers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        confirmed, waiting = results.count("confirmed"), results.count("waitlisted")
        print(
            f"{len(racers)} schools at once for one offer's 7 places: {confirmed} confirmed, "
            f"{waiting} waiting, {len(results) - confirmed - waiting} refused"
        )
        line("book in a crowd of 50", race_times, target=False)
        failed |= confirmed != 7
        print(f"worst search kind p95 {worst:.1f} ms; target {TARGET_MS:.0f} ms")
    finally:
        rt.db.engine.dispose()
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=1_000)
    parser.add_argument("--searches", type=int, default=50, help="rounds of every kind")
    parser.add_argument("--bookings", type=int, default=200)
    args = parser.parse_args()
    base = os.environ.get("REVIEW_BENCH_POSTGRES_URL") or os.environ.get("REVIEW_TEST_POSTGRES_URL")
    if base is None:
        print("skipped: set REVIEW_BENCH_POSTGRES_URL (the scale test runs on PostgreSQL)")
        return 0
    root = normalise_url(base)
    name = f"bench_ik_scale_{os.getpid()}"

    def server(statement: str) -> None:
        engine = create_engine(root, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    try:
        server(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        print(f"skipped: no PostgreSQL server answers at {base}: {exc.orig}")
        return 0
    url = make_url(root).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run(url, Path(tmp), args)
    finally:
        server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
