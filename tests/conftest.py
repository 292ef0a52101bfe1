"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from CARELINE_TEST_POSTGRES_URL (default: the local trust-auth server). Without CI a
missing server skips its tests; under CI=true a missing server is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from careline.adapters.db.tables import metadata
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings

DATA = Path(os.environ.get("CARELINE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
POSTGRES_ADMIN_URL = os.environ.get(
    "CARELINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CARELINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session."""
    name = f"careline_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as db:
            db.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        _unavailable(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as db:
        db.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server of the scale-out tests: CARELINE_TEST_REDIS_URL (default: the local server)."""
    import redis  # only the tests that need Redis pay for the import

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable(f"Redis is unreachable at {REDIS_URL}: {error}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'careline.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_tables(url)
    return url


def _empty_tables(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as db:
            existing = set(sa.inspect(db).get_table_names())
            names = [t.name for t in metadata.sorted_tables if t.name in existing]
            if names:
                db.exec_driver_sql("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Careline]:
    careline = bootstrap(settings)
    yield careline
    careline.close()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"the shared datasets are missing at {DATA}", pytrace=False)
    return DATA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests (marked ``slow``) first: with several workers (scripts/test), one started last would keep the
    whole run waiting for it alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
