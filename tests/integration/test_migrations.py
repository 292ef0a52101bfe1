"""The migrations build exactly the schema that tables.py declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from careline.adapters.db.engine import create_engine, migrate
from careline.adapters.db.tables import metadata


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as db:
            context = MigrationContext.configure(db, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
