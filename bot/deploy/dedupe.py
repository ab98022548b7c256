"""Duplicate suppression shared by every replica: ``SET key NX EX ttl`` in Redis.

Slack retries an event it thinks was not acknowledged, and a load balancer may hand the retry
to a different replica than the first delivery. With ``REDIS_URL`` set, the first replica to
claim a delivery key in Redis answers it and the others see a duplicate. Without it, each
process keeps its own TTL cache (:class:`~bot.slack.memory.TTLEventDeduplicator`), which is
enough for one process.

Every claim is made in this process's cache first, so a retry that lands on the same replica
never costs a round trip. If Redis cannot answer (down, or slower than its timeout), the local
cache decides on its own: the reply is still sent, at the risk of a duplicate if Slack's
retry of the same event lands on another replica during the outage. A lost answer is worse
than a rare second one; each such claim is logged on the first failure and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.ports import EventDeduplicator
from bot.settings import Settings, SettingsError
from bot.slack.memory import MIN_DEDUPE_TTL_SECONDS, TTLEventDeduplicator

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 1.0


class RedisEventDeduplicator:
    """Claims delivery keys in Redis, behind a local TTL cache of this process's claims."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str,
        ttl_seconds: int,
        local: TTLEventDeduplicator | None = None,
    ) -> None:
        if ttl_seconds < MIN_DEDUPE_TTL_SECONDS:
            raise ValueError(f"ttl_seconds must be at least {MIN_DEDUPE_TTL_SECONDS:.0f}")
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.local = local or TTLEventDeduplicator(ttl_seconds)
        self.on_backend_error: Callable[[], None] | None = None
        self._failing = False

    async def claim(self, key: str) -> bool:
        if not await self.local.claim(key):
            return False
        try:
            # As bytes: a key holds whatever a payload carried, even a lone surrogate.
            name = (self.prefix + key).encode("utf-8", "surrogatepass")
            claimed = await self.client.set(name, b"1", nx=True, ex=self.ttl_seconds)
        except (RedisError, OSError) as error:
            self._backend_failed(error)
            return True  # the local cache said first; see the module's docstring
        if self._failing:
            self._failing = False
            log.warning("Redis answers again; duplicate suppression is shared again")
        return bool(claimed)

    def _backend_failed(self, error: Exception) -> None:
        if not self._failing:
            self._failing = True
            log.warning(
                "Redis did not answer a dedupe claim (%s); this process decides alone until "
                "it does",
                type(error).__name__,
            )
        if self.on_backend_error is not None:
            self.on_backend_error()


def redis_location(url: str) -> str:
    """Where a Redis URL points, for messages: host and port or socket path, no password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


async def open_event_deduplicator(
    settings: Settings,
) -> tuple[EventDeduplicator, Callable[[], Awaitable[None]]]:
    """The deduplicator the settings ask for, and how to close it.

    With ``REDIS_URL``, checks the server answers; raises :class:`SettingsError` naming
    ``REDIS_URL`` and its host (never its password) when it does not.
    """
    local = TTLEventDeduplicator(settings.dedupe_ttl_seconds)
    if settings.redis_url is None:

        async def nothing_to_close() -> None:
            return None

        return local, nothing_to_close
    client = Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        raise SettingsError(
            "REDIS_URL",
            f"cannot reach Redis at {redis_location(settings.redis_url)} ({type(error).__name__})",
        ) from None
    deduplicator = RedisEventDeduplicator(
        client,
        prefix=settings.redis_key_prefix,
        ttl_seconds=settings.dedupe_ttl_seconds,
        local=local,
    )
    return deduplicator, client.aclose
