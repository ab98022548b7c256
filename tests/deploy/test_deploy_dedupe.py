"""Duplicate suppression in Redis (``SET NX`` with a TTL of at least 15 minutes), its local
cache, what happens when Redis does not answer, and how the settings choose it."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from bot.deploy.dedupe import RedisEventDeduplicator, open_event_deduplicator, redis_location
from bot.deploy.metrics import create_metrics
from bot.settings import Settings, SettingsError
from bot.slack.memory import TTLEventDeduplicator
from tests.deploy.conftest import RedisTarget


def unreachable_redis_url(password: str = "") -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = f":{password}@" if password else ""
    return f"redis://{auth}127.0.0.1:{port}/0"


@pytest.mark.redis
async def test_the_first_claim_wins_across_processes_sharing_redis(
    redis_target: RedisTarget,
) -> None:
    settings = Settings(redis_url=redis_target.url, redis_key_prefix=redis_target.prefix)
    # Two replicas: two deduplicators, each with its own local cache and Redis connection.
    first, close_first = await open_event_deduplicator(settings)
    second, close_second = await open_event_deduplicator(settings)
    try:
        assert isinstance(first, RedisEventDeduplicator)
        results = await asyncio.gather(
            *(dedupe.claim("event:Ev1") for dedupe in (first, second, first, second))
        )
        assert sorted(results) == [False, False, False, True]
        assert await second.claim("event:Ev2") is True
        assert await first.claim("event:Ev2") is False
    finally:
        await close_first()
        await close_second()


@pytest.mark.redis
async def test_a_key_with_a_lone_surrogate_is_claimed_like_any_other(
    redis_target: RedisTarget,
) -> None:
    # redis-py encodes str keys strictly: a payload's lone surrogate raised out of claim().
    settings = Settings(redis_url=redis_target.url, redis_key_prefix=redis_target.prefix)
    first, close_first = await open_event_deduplicator(settings)
    second, close_second = await open_event_deduplicator(settings)
    try:
        assert await first.claim("message:T1:C\ud800:1.2") is True
        assert await second.claim("message:T1:C\ud800:1.2") is False
    finally:
        await close_first()
        await close_second()


@pytest.mark.redis
async def test_keys_carry_the_prefix_and_live_at_least_15_minutes(
    redis_target: RedisTarget,
) -> None:
    settings = Settings(
        redis_url=redis_target.url, redis_key_prefix=redis_target.prefix, dedupe_ttl_seconds=1200
    )
    dedupe, close = await open_event_deduplicator(settings)
    client = Redis.from_url(redis_target.url)
    try:
        assert await dedupe.claim("message:T1:C1:1712345678.000001") is True
        key = f"{redis_target.prefix}message:T1:C1:1712345678.000001"
        ttl = await client.ttl(key)
        assert 900 <= ttl <= 1200
    finally:
        await client.aclose()
        await close()


@pytest.mark.redis
async def test_a_retry_to_the_same_process_is_answered_from_its_cache(
    redis_target: RedisTarget,
) -> None:
    client = Redis.from_url(redis_target.url)
    dedupe = RedisEventDeduplicator(client, prefix=redis_target.prefix, ttl_seconds=900)
    try:
        assert await dedupe.claim("event:Ev9") is True
        await client.delete(f"{redis_target.prefix}event:Ev9")  # Redis forgot (a restart)
        assert await dedupe.claim("event:Ev9") is False
    finally:
        await client.aclose()


async def test_when_redis_does_not_answer_the_local_cache_decides_and_it_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Redis.from_url(unreachable_redis_url(), socket_connect_timeout=0.5, socket_timeout=0.5)
    dedupe = RedisEventDeduplicator(client, prefix="p:", ttl_seconds=900)
    metrics = create_metrics()
    metered = metrics.deduplicator(dedupe)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.deploy.dedupe"):
            assert await metered.claim("event:Ev1") is True  # answered, not lost
            assert await metered.claim("event:Ev1") is False  # still deduplicated here
            assert await metered.claim("event:Ev2") is True
    finally:
        await client.aclose()
    exposed = text_string_to_metric_families(metrics.exposition().decode())
    errors = next(f for f in exposed if f.name == "hackathon_bot_dedupe_backend_errors")
    assert [s.value for s in errors.samples if s.name.endswith("_total")] == [2]
    warnings = [r for r in caplog.records if "Redis did not answer" in r.getMessage()]
    assert len(warnings) == 1  # one line when it starts failing, not one per claim


async def test_without_redis_url_each_process_keeps_its_own_cache() -> None:
    dedupe, close = await open_event_deduplicator(Settings())
    try:
        assert isinstance(dedupe, TTLEventDeduplicator)
        assert dedupe.ttl_seconds >= 900
    finally:
        await close()


async def test_an_unreachable_redis_url_is_a_settings_error_without_the_password() -> None:
    url = unreachable_redis_url(password="hunter2")
    with pytest.raises(SettingsError) as raised:
        await open_event_deduplicator(Settings(redis_url=url))
    assert raised.value.variable == "REDIS_URL"
    assert "127.0.0.1:" in str(raised.value)
    assert "hunter2" not in str(raised.value)


async def test_a_ttl_under_15_minutes_is_refused() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(ValueError, match="at least 900"):
            RedisEventDeduplicator(client, prefix="p:", ttl_seconds=60)
    finally:
        await client.aclose()


def test_redis_location_names_host_and_port_or_socket_never_the_password() -> None:
    assert redis_location("redis://:pw@cache.internal:6380/1") == "cache.internal:6380"
    assert redis_location("rediss://user:pw@cache.internal/0") == "cache.internal:6379"
    assert redis_location("unix:///run/redis.sock") == "/run/redis.sock"
