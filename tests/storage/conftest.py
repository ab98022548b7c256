"""Fixtures for the storage tests: a fresh database on SQLite always, on PostgreSQL when asked.

PostgreSQL runs get a schema of their own (``search_path`` set through the URL, so that
subprocesses and the command line see it too), dropped when the test ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url

from bot.settings import Secret, Settings
from bot.storage.store import SqlReplyStore
from tests.storage.curation_data import seed

TEST_SECRET = Secret("test-user-hash-secret-0123456789")


def _postgres_admin_url() -> str:
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not raw:
        pytest.skip(
            "TEST_DATABASE_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1/test)"
        )
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        pytest.skip("TEST_DATABASE_URL does not name a PostgreSQL database")
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new schema."""
    admin_url = _postgres_admin_url()
    schema = f"bot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return str(request.getfixturevalue("postgres_url"))


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": database_url, "user_hash_secret": TEST_SECRET}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SqlReplyStore]:
    opened = SqlReplyStore.open(settings)
    try:
        yield opened
    finally:
        await opened.aclose()


def dump_database(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    """Every row of every table, as (table, row) pairs."""
    metadata = MetaData()
    metadata.reflect(engine)
    rows: list[tuple[str, dict[str, object]]] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                rows.append((table.name, dict(row)))
    return rows


def table_counts(engine: Engine) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, _row in dump_database(engine):
        counts[table] = counts.get(table, 0) + 1
    return counts


SEEDED_AT = datetime.now(UTC)  # "now" for the seeded history of tests/storage/curation_data.py


async def seed_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Store the curation history in ``database_url`` and point the commands at it."""
    store = SqlReplyStore.open(make_settings(database_url))
    try:
        await seed(store, SEEDED_AT)
    finally:
        await store.aclose()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("USER_HASH_SECRET", TEST_SECRET.reveal())
    return database_url


@pytest.fixture
async def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database (SQLite, and PostgreSQL when asked) holding the curation history."""
    return await seed_database(database_url, monkeypatch)
