"""Schools: importing the GIAS extract (upsert by URN, all or nothing) and looking them up."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, or_, update
from sqlmodel import col, select

from review_engine.core.gias import SchoolRecord, read_gias
from review_engine.core.safe_text import NAME_MAX, check_int, check_la_code, check_text
from review_engine.errors import ImportRejected
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import get_school
from review_engine.store.models import School

_FIELDS = tuple(f.name for f in fields(SchoolRecord) if f.compare)
_CHUNK = 2_000  # URNs per IN (...) lookup: well under SQLite's and PostgreSQL's limits
_WHOLE_TABLE = 10_000  # above this many rows, read the whole table once instead


@dataclass(frozen=True)
class ImportReport:
    source: str
    added: int
    updated: int
    unchanged: int
    rejected: int
    skipped_other_la: int
    dry_run: bool
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SchoolView:
    urn: int
    name: str
    phase: str | None
    establishment_type: str | None
    la_name: str | None
    town: str | None
    postcode: str | None
    status: str | None
    trust_name: str | None
    ofsted_rating: str | None
    easting: int | None
    northing: int | None


def _row(record: SchoolRecord) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in _FIELDS}
    row["ofsted_framework"] = "eif2019" if record.ofsted_rating else None
    return row


def import_gias(
    rt: Runtime,
    *,
    path: Path,
    la_codes: Collection[str] | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert schools from a GIAS extract; any bad row rejects the whole file unless skipped.
    A programme admin's work (school names and details are everyone's reference data)."""
    if la_codes is not None:
        la_codes = [
            check_la_code(c) for c in ([la_codes] if isinstance(la_codes, str) else la_codes)
        ]
    with rt.db.transaction() as session:
        policy.require_admin(policy.resolve_actor(session, rt.actor), "import schools")
    result = read_gias(path, la_codes=la_codes, progress=progress, source_name=path.name)
    if result.errors and not skip_invalid:
        raise ImportRejected(result.errors, source=path.name)
    incoming = {r.urn: _row(r) for r in result.records}
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    with rt.db.transaction() as session:
        urns = list(incoming)
        existing: dict[int, dict[str, Any]] = {}
        table = School.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in _FIELDS] + [table.c.ofsted_framework]
        if len(urns) > _WHOLE_TABLE:  # a national extract: one scan beats many IN lists
            wanted = set(urns)
            for found in session.execute(select(*columns)):
                if found.urn in wanted:
                    existing[found.urn] = dict(found._mapping)
        else:
            for start in range(0, len(urns), _CHUNK):
                chunk = urns[start : start + _CHUNK]
                for found in session.execute(select(*columns).where(table.c.urn.in_(chunk))):
                    existing[found.urn] = dict(found._mapping)
        for urn, row in incoming.items():
            before = existing.get(urn)
            if before is None:
                added.append(row)
            elif before != row:
                changed.append(row)
        if not dry_run:
            # Core executemany: batched multi-row statements, none of the ORM's bookkeeping.
            connection = session.connection()
            if added:
                connection.execute(insert(table), added)
            if changed:
                names = [n for n in changed[0] if n != "urn"]
                connection.execute(
                    update(table)
                    .where(table.c.urn == bindparam("key_urn"))
                    .values({n: bindparam(n) for n in names}),
                    [{**row, "key_urn": row["urn"]} for row in changed],
                )
            if len(added) + len(changed) > _WHOLE_TABLE and rt.db.dialect == "postgresql":
                connection.exec_driver_sql("ANALYZE school")  # fresh statistics for the planner
        else:
            session.rollback()
    return ImportReport(
        source=path.name,
        added=len(added),
        updated=len(changed),
        unchanged=len(incoming) - len(added) - len(changed),
        rejected=len(result.errors),
        skipped_other_la=result.skipped_other_la,
        dry_run=dry_run,
        errors=[str(e) for e in result.errors],
    )


def _view(s: School) -> SchoolView:
    return SchoolView(
        urn=s.urn,
        name=s.name,
        phase=s.phase,
        establishment_type=s.establishment_type,
        la_name=s.la_name,
        town=s.town,
        postcode=s.postcode,
        status=s.status,
        trust_name=s.trust_name,
        ofsted_rating=s.ofsted_rating,
        easting=s.easting,
        northing=s.northing,
    )


def list_schools(
    rt: Runtime, *, la: str | None = None, search: str | None = None, limit: int = 200
) -> list[SchoolView]:
    """Schools by name, optionally in one local authority (code or name) or matching text."""
    check_text(la or "", "--la", max_len=NAME_MAX, multiline=False)
    check_text(search or "", "--search", max_len=NAME_MAX, multiline=False)
    check_int(limit, "--limit")
    with rt.db.transaction() as session:
        query = select(School).order_by(col(School.name), col(School.urn)).limit(limit)
        if la:
            query = query.where(or_(col(School.la_code) == la, col(School.la_name) == la))
        if search:
            query = query.where(col(School.name).ilike(f"%{search}%"))
        return [_view(s) for s in session.exec(query)]


def show_school(rt: Runtime, *, urn: int) -> SchoolView:
    with rt.db.transaction() as session:
        return _view(get_school(session, urn))
