"""Set-based helpers for the tick: batched IN lists, inserts that skip duplicates, chunking."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, any_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

CHUNK = 5_000


def insert_ignore(session: Session, table: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping any a concurrent tick already wrote (unique keys)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    session.connection().execute(maker(table_of(table)).on_conflict_do_nothing(), list(rows))


def in_(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` sent as one bound parameter (an array on PostgreSQL, a JSON array
    read by json_each on SQLite): thousands of ids cost no more to compile and send than one."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(listed.c.value))


def table_of(model: type[Any]) -> Table:
    """A model's Core table: executemany without the ORM's bulk-insert bookkeeping."""
    table: Table = model.__table__
    return table


def chunks(items: Sequence[Any] | Iterable[Any]) -> Iterable[list[Any]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
