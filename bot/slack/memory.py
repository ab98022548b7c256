"""In-process implementations of the Slack layer's ports (:mod:`bot.ports`).

They serve tests, development and a single-process deployment. The storage layer provides a
durable :class:`~bot.ports.ReplyStore` and the deployment layer a shared
:class:`~bot.ports.EventDeduplicator`; the Slack layer cannot tell them apart.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from bot.core.conversation import MAX_CONTEXT_INTENTS
from bot.ports import ReplyRecord, Vote, VoteOutcome

MIN_DEDUPE_TTL_SECONDS = 900.0
_V = TypeVar("_V")
CONVERSATION_TTL_SECONDS = 1800.0
ASSISTANT_THREAD_TTL_SECONDS = 7 * 24 * 3600.0


class InMemoryReplyStore:
    """Replies, votes and choices in dictionaries, bounded to the most recent replies."""

    def __init__(self, *, max_replies: int = 50_000) -> None:
        self._max_replies = max_replies
        self.replies: OrderedDict[str, ReplyRecord] = OrderedDict()
        # reply id -> user id -> vote / chosen intent
        self.votes: dict[str, dict[str, Vote]] = {}
        self.choices: dict[str, dict[str, str | None]] = {}

    async def record_reply(self, record: ReplyRecord) -> None:
        self.replies[record.reply_id] = record
        while len(self.replies) > self._max_replies:
            old_id, _ = self.replies.popitem(last=False)
            self.votes.pop(old_id, None)
            self.choices.pop(old_id, None)

    async def record_vote(self, *, reply_id: str, user_id: str, vote: Vote) -> VoteOutcome:
        if reply_id not in self.replies:
            return VoteOutcome.UNKNOWN_REPLY
        votes = self.votes.setdefault(reply_id, {})
        previous = votes.get(user_id)
        votes[user_id] = Vote(vote)
        if previous is None:
            return VoteOutcome.RECORDED
        return VoteOutcome.UNCHANGED if previous == vote else VoteOutcome.CHANGED

    async def record_choice(
        self, *, reply_id: str, user_id: str, chosen_intent: str | None
    ) -> bool:
        if reply_id not in self.replies:
            return False
        self.choices.setdefault(reply_id, {})[user_id] = chosen_intent
        return True


class TTLEventDeduplicator:
    """Remembers claimed keys for ``ttl_seconds`` (at least 15 minutes, Slack's retry window).

    Keys expire in the order they were claimed, so expiry is a walk from the oldest end.
    Single-threaded by design: it is only used from the event loop.
    """

    def __init__(
        self,
        ttl_seconds: float = MIN_DEDUPE_TTL_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < MIN_DEDUPE_TTL_SECONDS:
            raise ValueError(f"ttl_seconds must be at least {MIN_DEDUPE_TTL_SECONDS:.0f}")
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    async def claim(self, key: str) -> bool:
        now = self._clock()
        self._forget_expired(now)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl_seconds
        return True

    def _forget_expired(self, now: float) -> None:
        while self._expiry:
            oldest_key, expires_at = next(iter(self._expiry.items()))
            if expires_at > now:
                return
            del self._expiry[oldest_key]


class InMemoryConversationStore:
    """Conversation context in this process's memory: entry ids per conversation key, each
    conversation forgotten ``ttl_seconds`` after its last answer; at most ``max_keys``
    conversations (the least recently answered go first)."""

    def __init__(
        self,
        ttl_seconds: float = CONVERSATION_TTL_SECONDS,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._max_keys = max_keys
        self._clock = clock
        self._context: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        self._assistant: OrderedDict[str, float] = OrderedDict()

    async def recall(self, key: str) -> tuple[str, ...]:
        found = self._context.get(key)
        if found is None or found[0] <= self._clock():
            return ()
        return found[1]

    async def remember(self, key: str, intent: str) -> None:
        now = self._clock()
        intents = [i for i in await self.recall(key) if i != intent]
        intents = [*intents, intent][-MAX_CONTEXT_INTENTS:]
        self._context.pop(key, None)
        self._context[key] = (now + self.ttl_seconds, tuple(intents))
        _trim(self._context, self._max_keys, now, lambda value: value[0])

    async def mark_assistant_thread(self, key: str) -> None:
        now = self._clock()
        self._assistant.pop(key, None)
        self._assistant[key] = now + ASSISTANT_THREAD_TTL_SECONDS
        _trim(self._assistant, self._max_keys, now, lambda value: value)

    async def is_assistant_thread(self, key: str) -> bool:
        expires = self._assistant.get(key)
        return expires is not None and expires > self._clock()


def _trim(
    items: OrderedDict[str, _V], max_keys: int, now: float, expiry: Callable[[_V], float]
) -> None:
    """Drop expired entries from the oldest end, and the oldest beyond ``max_keys``."""
    while items:
        oldest = next(iter(items.values()))
        if expiry(oldest) > now and len(items) <= max_keys:
            return
        items.popitem(last=False)
