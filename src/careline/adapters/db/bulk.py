"""Bulk INSERT without SQLAlchemy's per-row parameter assembly (docs/benchmarks.md#what-the-time-goes-to).

`connection.execute(insert(table), rows)` builds each row's parameters through the compiled statement;
ingestion writes about eight rows per message (message, conversation, customer, identity, four events),
and that assembly was about a tenth of its CPU time. Here the statement is compiled once per (dialect,
table, columns), each column's own bind processor (the one SQLAlchemy would apply: UTC datetimes, JSON) is
applied in one loop, and the rows go to the driver's executemany. Same SQL, same values, same driver call;
only the Python in between is shorter (tests/integration/test_bulk.py compares the stored bytes).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


class _Plan:
    def __init__(self, sql: str, columns: Sequence[tuple[str, Processor]], positional: bool) -> None:
        self.sql = sql
        self.columns = columns
        self.positional = positional


# Per engine's dialect (forgotten with it), per table and column list: the compiled plan, or None for "use Core".
_plans: weakref.WeakKeyDictionary[Dialect, dict[tuple[sa.Table, tuple[str, ...]], _Plan | None]] = (
    weakref.WeakKeyDictionary()
)


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``, as ``connection.execute(insert(table), rows)``."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        # psycopg gets SQLAlchemy's own batched multi-row INSERT, which is faster there than executemany.
        connection.execute(sa.insert(table), list(rows))
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
    plans = _plans.setdefault(dialect, {})
    if (table, keys) not in plans:
        plans[table, keys] = _compile(dialect, table, keys)
    return plans[table, keys]


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
