"""Conversation context shared by every replica: entry ids per conversation in Redis.

A follow-up in a thread may reach a different replica than the question before it. With
``REDIS_URL`` set, each conversation's recent intents are one Redis key (the JSON list of
entry ids, never message text) under ``REDIS_KEY_PREFIX`` + ``context:``, expiring
``CONVERSATION_TTL_SECONDS`` after the last answer; assistant threads are marked under
``assistant:``. Without it, each process keeps its own
(:class:`~bot.slack.memory.InMemoryConversationStore`).

Every write also goes to this process's memory, so if Redis cannot answer the conversation
carries on from what this replica saw (logged once, until Redis answers again).
"""

from __future__ import annotations

import json
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.conversation import MAX_CONTEXT_INTENTS
from bot.deploy.dedupe import RedisEventDeduplicator
from bot.ports import ConversationStore, EventDeduplicator
from bot.settings import Settings
from bot.slack.memory import ASSISTANT_THREAD_TTL_SECONDS, InMemoryConversationStore

log = logging.getLogger(__name__)


class RedisConversationStore:
    """Conversation context in Redis, behind this process's own memory of it."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str,
        ttl_seconds: int,
        local: InMemoryConversationStore | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.local = local or InMemoryConversationStore(ttl_seconds)
        self._failing = False

    async def recall(self, key: str) -> tuple[str, ...]:
        try:
            raw = await self.client.get(f"{self.prefix}context:{key}")
        except (RedisError, OSError) as error:
            self._backend_failed(error)
            return await self.local.recall(key)
        self._backend_answered()
        return _intents(raw)

    async def remember(self, key: str, intent: str) -> None:
        await self.local.remember(key, intent)
        name = f"{self.prefix}context:{key}"
        try:
            intents = [i for i in _intents(await self.client.get(name)) if i != intent]
            intents = [*intents, intent][-MAX_CONTEXT_INTENTS:]
            await self.client.set(name, json.dumps(intents), ex=self.ttl_seconds)
        except (RedisError, OSError) as error:
            self._backend_failed(error)
            return
        self._backend_answered()

    async def mark_assistant_thread(self, key: str) -> None:
        await self.local.mark_assistant_thread(key)
        try:
            await self.client.set(
                f"{self.prefix}assistant:{key}", b"1", ex=int(ASSISTANT_THREAD_TTL_SECONDS)
            )
        except (RedisError, OSError) as error:
            self._backend_failed(error)

    async def is_assistant_thread(self, key: str) -> bool:
        try:
            return bool(await self.client.exists(f"{self.prefix}assistant:{key}"))
        except (RedisError, OSError) as error:
            self._backend_failed(error)
            return await self.local.is_assistant_thread(key)

    def _backend_failed(self, error: Exception) -> None:
        if not self._failing:
            self._failing = True
            log.warning(
                "Redis did not answer for conversation context (%s); this process uses its "
                "own until it does",
                type(error).__name__,
            )

    def _backend_answered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("Redis answers again; conversation context is shared again")


def _intents(raw: object) -> tuple[str, ...]:
    """The intents stored under a key (nothing for a missing or malformed value)."""
    if not isinstance(raw, bytes | str):
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(i for i in value if isinstance(i, str))[-MAX_CONTEXT_INTENTS:]


def conversation_store_for(
    settings: Settings, deduplicator: EventDeduplicator
) -> ConversationStore:
    """The conversation store the settings ask for: in Redis, on the connection the shared
    deduplicator already opened (same prefix), when ``REDIS_URL`` is set; else in memory."""
    local = InMemoryConversationStore(settings.conversation_ttl_seconds)
    if isinstance(deduplicator, RedisEventDeduplicator):
        return RedisConversationStore(
            deduplicator.client,
            prefix=settings.redis_key_prefix,
            ttl_seconds=settings.conversation_ttl_seconds,
            local=local,
        )
    return local
