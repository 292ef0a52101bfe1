"""Alembic environment: runs on the connection handed in by careline.adapters.db.engine.migrate."""

from alembic import context

from careline.adapters.db.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # plain `alembic` command line: build an engine from the URL
    from careline.adapters.db.engine import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    connection = engine.connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
