"""OAuth states: single use even when two callbacks race, and never usable once expired."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.storage.database import Database
from bot.storage.oauth import STATE_EXPIRATION_SECONDS, SingleUseOAuthStateStore, build_stores
from tests.storage.conftest import make_settings


@pytest.fixture
def states(database_url: str) -> Iterator[SingleUseOAuthStateStore]:
    database = Database.open(make_settings(database_url))
    try:
        yield build_stores(database.engine, "client")[1]
    finally:
        database.close()


def test_states_expire_after_ten_minutes(states: SingleUseOAuthStateStore) -> None:
    assert STATE_EXPIRATION_SECONDS == 600
    state = states.issue()
    with states.engine.begin() as connection:
        an_instant_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
        connection.execute(update(states.oauth_states).values(expire_at=an_instant_ago))
    assert states.consume(state) is False


def test_a_state_is_consumed_once(states: SingleUseOAuthStateStore) -> None:
    state = states.issue()
    assert states.consume(state) is True
    assert states.consume(state) is False
    assert states.consume("never-issued") is False


@pytest.mark.parametrize("attempt", range(5))
def test_racing_callbacks_consume_a_state_once(
    states: SingleUseOAuthStateStore, attempt: int
) -> None:
    state = states.issue()
    start = threading.Barrier(4)

    def consume() -> bool:
        start.wait(10)
        return states.consume(state)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: consume(), range(4)))
    assert sorted(results) == [False, False, False, True]
