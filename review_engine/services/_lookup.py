"""Finding records by the keys users type: cluster names, cycle references, URNs, emails."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from review_engine.core.safe_text import (
    CLUSTER_NAME_MAX,
    EMAIL_MAX,
    check_int,
    check_la_code,
    check_text,
    check_urn,
)
from review_engine.errors import AlreadyExists, InvalidInput, NotFound
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
    check_text(name, "cluster name", max_len=CLUSTER_NAME_MAX, multiline=False)
    cluster = session.exec(select(Cluster).where(Cluster.name == name)).first()
    if cluster is None:
        raise NotFound("cluster", name, "see `review cluster list`")
    return cluster


def get_cycle(session: Session, ref: str) -> tuple[Cycle, Cluster]:
    """A cycle by `CLUSTER/YEAR` (e.g. MC2SP/2026-27) or by its number."""
    check_text(ref, "cycle", max_len=CLUSTER_NAME_MAX + 10, multiline=False)
    if ref.isascii() and ref.isdigit():
        cycle = session.get(Cycle, check_int(int(ref), "cycle number"))
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
    check_urn(urn)
    school = session.get(School, urn)
    if school is None:
        raise NotFound("school", urn, "import it with `review schools import`")
    return school


def get_person(session: Session, email: str) -> Person:
    check_text(email, "email", max_len=EMAIL_MAX, multiline=False)
    person = session.exec(select(Person).where(Person.email == email.lower())).first()
    if person is None:
        raise NotFound("person", email, "add them with `review people add`")
    return person


def get_review(session: Session, cycle: Cycle, urn: int, label: str) -> Review:
    check_urn(urn)
    review = session.exec(
        select(Review).where(Review.cycle_id == cycle.id, Review.school_urn == urn)
    ).first()
    if review is None:
        raise NotFound("school", urn, f"it is not part of cycle {label}")
    return review


def check_urns(*urns: int | None, field: str = "URN") -> None:
    """Every URN a user typed is 6 to 8 digits (None: not given)."""
    for urn in urns:
        if urn is not None:
            check_urn(urn, field)


def refuse_taken_cluster_name(session: Session, name: str) -> None:
    """Cluster names are unique ignoring case: `gmn` is refused beside `GMN`, naming it."""
    # Compared in Python: SQLite's lower() folds ASCII only. Clusters number in the hundreds.
    wanted = name.casefold()
    taken = next((n for n in session.exec(select(Cluster.name)) if n.casefold() == wanted), None)
    if taken is not None:
        if taken == name:
            raise AlreadyExists("cluster", name)
        raise AlreadyExists("cluster", f"{taken} (names ignore case, so not {name})")


def check_la_known(session: Session, code: str) -> str:
    """A three-digit LA code that some imported school has."""
    code = check_la_code(code)
    known = session.exec(select(School.urn).where(School.la_code == code).limit(1)).first()
    if known is None:
        raise NotFound("LA code", code, "no imported school has it; see `review schools list`")
    return code
