"""Fixtures for the deployment tests: Redis (from TEST_REDIS_URL, with a key prefix of this
run's own) and replicas that are always stopped, talking to the shared ``fake_slack``."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.deploy.replicas import Replica, replica_environment
from tests.slack.fake_slack import FakeSlack


@dataclass(frozen=True)
class RedisTarget:
    url: str
    prefix: str


@pytest.fixture
async def redis_target() -> AsyncIterator[RedisTarget]:
    """The test Redis and a fresh key prefix; the prefix's keys are deleted afterwards."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    prefix = f"hackathon-bot-test:{uuid.uuid4().hex}:"
    yield RedisTarget(url, prefix)
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # No pooled connections: a stopped replica must not leave a dead one behind.
    connector = aiohttp.TCPConnector(force_close=True, limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


StartReplica = Callable[..., Awaitable[Replica]]


@pytest.fixture
async def start_replica(
    fake_slack: FakeSlack, http: aiohttp.ClientSession
) -> AsyncIterator[StartReplica]:
    """Start replicas (``start_replica(name, workers=1, **env)``); all stopped afterwards."""
    started: list[Replica] = []

    async def start(name: str, *, workers: int = 1, **env: str) -> Replica:
        replica = await Replica.start(
            name, replica_environment(fake_slack, **env), http, workers=workers
        )
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            await replica.kill()
