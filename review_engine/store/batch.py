"""Set-based helpers for the tick: batched IN lists, inserts that skip duplicates, plain
executemany inserts, chunking."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, any_, bindparam, func, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

CHUNK = 5_000


def insert_ignore(session: Session, table: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys), skipping any a concurrent tick already wrote
    (unique keys)."""
    if not rows:
        return
    columns = list(rows[0])
    values = (tuple(row[c] for c in columns) for row in rows)
    insert_many(session, table, columns, values, skip_duplicates=True)


def insert_many(
    session: Session,
    model: type[Any],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    same: Mapping[str, Any] | None = None,
    skip_duplicates: bool = False,
) -> None:
    """Insert `rows` (tuples in `columns` order; `same` holds the values every row shares) with
    one driver executemany of the compiled Core INSERT (ON CONFLICT DO NOTHING if
    `skip_duplicates`). Values are converted by their column's type exactly as a Core
    executemany would, but a shared value once rather than once per row, and without
    SQLAlchemy's per-row parameter bookkeeping: it halves the cost of 5,000 history rows."""
    remaining = iter(rows)
    first = next(remaining, None)
    if first is None:
        return
    shared = dict(same or {})
    keys = [*columns, *shared]
    dialect = session.get_bind().dialect
    table = table_of(model)

    def converter(name: str) -> Any:
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    fixed = tuple(
        convert(value) if (convert := converter(name)) else value for name, value in shared.items()
    )
    converters = [(i, c) for i, name in enumerate(columns) if (c := converter(name)) is not None]
    statement: Any = insert(table)
    if skip_duplicates:
        maker = pg_insert if dialect.name == "postgresql" else sqlite_insert
        statement = maker(table).on_conflict_do_nothing()
    compiled = statement.inline().compile(dialect=dialect, column_keys=keys)
    # e.g. SQLite's "?": values in the order the statement names the columns; psycopg's
    # "%(name)s": by name.
    names = list(compiled.positiontup or ()) if compiled.positional else keys
    assert sorted(names) == sorted(keys), (names, keys)
    order = itemgetter(*map(keys.index, names)) if names != keys else None

    def driver_row(row: Sequence[Any]) -> Any:
        if converters:
            row = list(row)
            for i, convert in converters:
                row[i] = convert(row[i])
        values = tuple(row) + fixed
        if order is not None:
            values = order(values)
        return values if compiled.positional else dict(zip(names, values, strict=True))

    params = [driver_row(first), *map(driver_row, remaining)]
    session.connection().exec_driver_sql(compiled.string, params)


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
