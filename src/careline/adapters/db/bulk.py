"""Bulk INSERT without SQLAlchemy's per-row parameter assembly (docs/benchmarks.md#what-the-time-goes-to).

`connection.execute(insert(table), rows)` builds each row's parameters through the compiled statement
(about 9 µs a row); ingestion writes five rows per message, which made that a quarter of its time. Here the
statement is compiled once per (dialect, table, columns), each column's own bind processor (the same one
SQLAlchemy would apply: UTC datetimes, JSON) is applied in one tight loop, and the rows go to the driver's
executemany. Same SQL, same values, same driver call; only the Python in between is shorter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


class _Plan:
    def __init__(self, sql: str, columns: list[tuple[str, Processor]], positional: bool) -> None:
        self.sql = sql
        self.columns = columns
        self.positional = positional


_plans: dict[tuple[Dialect, sa.Table, tuple[str, ...]], _Plan | None] = {}


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``, as ``connection.execute(insert(table), rows)``."""
    if not rows:
        return
    keys = tuple(rows[0])
    plan = _plan(connection.dialect, table, keys)
    if plan is None:
        connection.execute(sa.insert(table), list(rows))
        return
    columns = plan.columns
    if plan.positional:
        params: list[Any] = [
            tuple(row[key] if process is None else process(row[key]) for key, process in columns) for row in rows
        ]
    else:
        params = [{key: row[key] if process is None else process(row[key]) for key, process in columns} for row in rows]
    connection.exec_driver_sql(plan.sql, params)


def _plan(dialect: Dialect, table: sa.Table, keys: tuple[str, ...]) -> _Plan | None:
    cache_key = (dialect, table, keys)
    if cache_key not in _plans:
        _plans[cache_key] = _compile(dialect, table, keys)
    return _plans[cache_key]


def _compile(dialect: Dialect, table: sa.Table, keys: tuple[str, ...]) -> _Plan | None:
    """The statement and per-column processors; None where SQLAlchemy would add values of its own."""
    omitted = [column for column in table.columns if column.key not in keys]
    if any(column.default is not None for column in omitted) or any(key not in table.columns for key in keys):
        return None  # a Python-side default (or a typo) is SQLAlchemy's to handle
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    names = list(compiled.positiontup or ()) if dialect.positional else list(compiled.bind_names.values())
    if sorted(names) != sorted(keys):
        return None
    columns = [(name, table.columns[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
    return _Plan(str(compiled), columns, dialect.positional)
