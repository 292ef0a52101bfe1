"""The bulk INSERT path stores exactly what SQLAlchemy Core's executemany would (adapters/db/bulk.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import bulk
from careline.adapters.db import tables as t
from careline.adapters.db.bulk import insert_rows
from careline.adapters.db.engine import create_engine, migrate

Inserter = Callable[[sa.Connection, sa.Table, Sequence[dict[str, Any]]], None]
AT = datetime(2015, 2, 24, 11, 35, 7, 120, tzinfo=UTC)


def _core(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    connection.execute(sa.insert(table), list(rows))


def _stored(engine: sa.Engine, insert: Inserter, rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    """Insert, read back the raw driver values (no type processing), and roll back."""
    with engine.connect() as connection, connection.begin() as transaction:
        for name, table_rows in rows.items():
            insert(connection, t.metadata.tables[name], table_rows)
        stored = {
            name: sorted((tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {name}")), key=repr)
            for name in rows
        }
        transaction.rollback()
    return stored


def _rows() -> dict[str, list[dict[str, Any]]]:
    later = AT + timedelta(hours=5, microseconds=3)
    return {
        "channel_accounts": [
            {
                "id": "acc_1",
                "kind": "x",
                "name": "Delta",
                "callback_url": None,
                "config": {"a": [1, None]},
                "created_at": AT,
            },
        ],
        # "tier" omitted: it has a Python-side default, so this table goes through Core.
        "customers": [
            {"id": f"cus_{n}", "display_name": f"customer {n}", "created_at": later, "merged_into_id": None}
            for n in range(3)
        ],
        "identities": [
            {"channel": "x", "external_id": f"ext-{n}", "customer_id": f"cus_{n}", "handle": None if n else "h"}
            for n in range(3)
        ],
        "events": [
            {
                "type": "message.received",
                "conversation_id": None,
                "actor": "customer:cus_0",
                "occurred_at": AT,
                "recorded_at": later,
                "data": {"text": 'naïve ✈️ "quoted"', "score": -0.5, "none": None},
            },
            {
                "type": "customer.created",
                "conversation_id": "cnv_1",
                "actor": "system:ingestion",
                "occurred_at": AT.astimezone(UTC),
                "recorded_at": later,
                "data": {},
            },
        ],
    }


def test_bulk_insert_stores_the_same_values_as_core(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate(engine)
        rows = _rows()
        core, fast = _stored(engine, _core, rows), _stored(engine, insert_rows, rows)
        fast_tables = [
            name
            for name, table_rows in rows.items()
            if bulk._plan(engine.dialect, t.metadata.tables[name], tuple(table_rows[0]))
        ]
    finally:
        engine.dispose()
    core["events"] = [row[1:] for row in core["events"]]  # seq is the database's own counter
    fast["events"] = [row[1:] for row in fast["events"]]
    assert fast == core
    assert all(fast[name] for name in rows)
    assert fast_tables == ["channel_accounts", "identities", "events"]  # customers: Core fills in the tier


def test_nothing_to_insert_is_no_statement(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            insert_rows(connection, t.events, [])
            assert connection.exec_driver_sql("SELECT count(*) FROM events").scalar() == 0
    finally:
        engine.dispose()
