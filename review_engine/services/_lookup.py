"""Finding records by the keys users type: cluster names, cycle references, URNs, emails."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from review_engine.errors import InvalidInput, NotFound
from review_engine.store.models import Cluster, Cycle, Person, Review, School

YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")


def check_year(year: str) -> str:
    """An academic year such as 2026-27 (the second part follows the first)."""
    match = YEAR_RE.match(year)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise InvalidInput(f"academic year {year!r} should look like 2026-27")
    return year


def cycle_label(cluster: Cluster | str, year: str) -> str:
    name = cluster if isinstance(cluster, str) else cluster.name
    return f"{name}/{year}"


def get_cluster(session: Session, name: str) -> Cluster:
    cluster = session.exec(select(Cluster).where(Cluster.name == name)).first()
    if cluster is None:
        raise NotFound("cluster", name, "see `review cluster list`")
    return cluster


def get_cycle(session: Session, ref: str) -> tuple[Cycle, Cluster]:
    """A cycle by `CLUSTER/YEAR` (e.g. MC2SP/2026-27) or by its number."""
    if ref.isdigit():
        cycle = session.get(Cycle, int(ref))
        if cycle is None:
            raise NotFound("cycle", ref, "see `review cycle list`")
        cluster = session.get(Cluster, cycle.cluster_id)
        assert cluster is not None
        return cycle, cluster
    if "/" not in ref:
        raise InvalidInput(f"cycle {ref!r} should be CLUSTER/YEAR, e.g. MC2SP/2026-27")
    name, year = ref.rsplit("/", 1)
    row = session.exec(
        select(Cycle, Cluster)
        .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
        .where(Cluster.name == name, Cycle.academic_year == year)
    ).first()
    if row is None:
        get_cluster(session, name)  # says so if the cluster itself is unknown
        raise NotFound("cycle", ref, f"start it with `review cycle start --cluster {name!r}`")
    return row[0], row[1]


def get_school(session: Session, urn: int) -> School:
    school = session.get(School, urn)
    if school is None:
        raise NotFound("school", urn, "import it with `review schools import`")
    return school


def get_person(session: Session, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == email.lower())).first()
    if person is None:
        raise NotFound("person", email, "add them with `review people add`")
    return person


def get_review(session: Session, cycle: Cycle, urn: int, label: str) -> Review:
    review = session.exec(
        select(Review).where(Review.cycle_id == cycle.id, Review.school_urn == urn)
    ).first()
    if review is None:
        raise NotFound("school", urn, f"it is not part of cycle {label}")
    return review
