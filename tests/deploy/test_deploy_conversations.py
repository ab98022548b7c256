"""Conversation context shared by replicas through Redis: a follow-up answered by another
replica than the question before it, what the keys hold, and Redis not answering."""

from __future__ import annotations

import json

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.deploy.conversations import RedisConversationStore, conversation_store_for
from bot.deploy.dedupe import open_event_deduplicator
from bot.settings import Settings
from bot.slack.memory import InMemoryConversationStore, TTLEventDeduplicator
from tests.deploy.conftest import RedisTarget, StartReplica
from tests.deploy.replicas import Event, deliver, replies_by_ts
from tests.deploy.test_deploy_dedupe import unreachable_redis_url
from tests.slack.fake_slack import FakeSlack
from tests.slack.inspect_messages import visible_text
from tests.slack.slack_requests import next_ts

pytestmark = [pytest.mark.redis]


@pytest.mark.slow
async def test_a_follow_up_answered_by_another_replica_leans_on_the_first_answer(
    start_replica: StartReplica,
    redis_target: RedisTarget,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
) -> None:
    env = {"REDIS_URL": redis_target.url, "REDIS_KEY_PREFIX": redis_target.prefix}
    first_replica = await start_replica("replica-a", **env)
    second_replica = await start_replica("replica-b", **env)
    question = Event.mention("what is CAID?")
    assert (await deliver(http, first_replica, question, retry_num=None)).status == 200
    await fake_slack.wait_for(lambda f: question.ts in replies_by_ts(f))

    follow_up = Event.mention("who uses it?", thread_ts=question.ts)
    assert (await deliver(http, second_replica, follow_up, retry_num=None)).status == 200
    await fake_slack.wait_for(lambda f: len(replies_by_ts(f).get(question.ts, [])) == 2)
    answer = replies_by_ts(fake_slack)[question.ts][-1]
    assert "police forces" in visible_text(answer.body), "answered from the shared context"


async def test_the_context_holds_entry_ids_under_the_prefix_and_expires(
    redis_target: RedisTarget,
) -> None:
    settings = Settings(
        redis_url=redis_target.url,
        redis_key_prefix=redis_target.prefix,
        conversation_ttl_seconds=1800,
    )
    dedupe, close = await open_event_deduplicator(settings)
    client = Redis.from_url(redis_target.url)
    try:
        store = conversation_store_for(settings, dedupe)
        assert isinstance(store, RedisConversationStore)
        key = f"T1:C1:{next_ts()}"
        for intent in ("caid-overview", "caid-users", "caid-overview"):
            await store.remember(key, intent)
        assert await store.recall(key) == ("caid-users", "caid-overview")
        name = f"{redis_target.prefix}context:{key}"
        assert json.loads(await client.get(name)) == ["caid-users", "caid-overview"]
        assert 0 < await client.ttl(name) <= 1800
        other = InMemoryConversationStore()
        assert await other.recall(key) == ()
        assert await conversation_store_for(settings, dedupe).recall(key) == (
            "caid-users",
            "caid-overview",
        ), "another replica's store sees it"
        await store.mark_assistant_thread(key)
        assert await store.is_assistant_thread(key)
    finally:
        await client.aclose()
        await close()


async def test_when_redis_does_not_answer_the_process_keeps_its_own_context() -> None:
    client = Redis.from_url(unreachable_redis_url(), socket_connect_timeout=0.2)
    store = RedisConversationStore(client, prefix="p:", ttl_seconds=1800)
    try:
        await store.remember("T1:D1:", "caid-overview")
        assert await store.recall("T1:D1:") == ("caid-overview",)
        await store.mark_assistant_thread("T1:D1:1.2")
        assert await store.is_assistant_thread("T1:D1:1.2")
    finally:
        await client.aclose()


async def test_without_redis_url_the_context_is_kept_in_memory() -> None:
    store = conversation_store_for(Settings(), TTLEventDeduplicator())
    assert isinstance(store, InMemoryConversationStore)
