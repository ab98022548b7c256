"""Interfaces between the Slack layer and what stores its state.

The Slack layer talks only to these protocols; in-memory implementations serve tests and a
single process, and the storage and deployment layers provide durable or shared ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Vote(StrEnum):
    UP = "up"
    DOWN = "down"


class VoteOutcome(StrEnum):
    RECORDED = "recorded"  # first vote by this person on this reply
    CHANGED = "changed"  # the person changed their vote
    UNCHANGED = "unchanged"  # the same vote again
    UNKNOWN_REPLY = "unknown_reply"  # no such reply; nothing written


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """One reply the bot gave. The store decides what of it may be kept (privacy rules)."""

    reply_id: str
    created_at: datetime
    team_id: str | None
    channel_type: str  # "im", "channel", "command", ...
    kind: str  # a ReplyKind value
    intent: str | None
    confidence: float
    latency_ms: float
    user_id: str | None
    question: str


class ReplyStore(Protocol):
    """Keeps replies, votes and "did you mean" choices."""

    async def record_reply(self, record: ReplyRecord) -> None: ...

    async def record_vote(self, *, reply_id: str, user_id: str, vote: Vote) -> VoteOutcome: ...

    async def record_choice(
        self, *, reply_id: str, user_id: str, chosen_intent: str | None
    ) -> bool:
        """Store which clarify candidate was chosen (None: "none of these").

        Returns False, writing nothing, when the reply is unknown.
        """
        ...


class EventDeduplicator(Protocol):
    """Claims delivery keys so that each Slack event is handled once."""

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is seen within the TTL, False afterwards."""
        ...


class ConversationStore(Protocol):
    """What a conversation (a channel thread, a DM thread, or a DM) has been about: the entry
    ids of its recent answers, never message text, for a limited time; and which threads
    are the AI-app side panel's (assistant threads)."""

    async def recall(self, key: str) -> tuple[str, ...]:
        """The intents of the conversation's recent answers, most recent last."""
        ...

    async def remember(self, key: str, intent: str) -> None:
        """Add an answered intent to the conversation (its time window starts again)."""
        ...

    async def mark_assistant_thread(self, key: str) -> None: ...

    async def is_assistant_thread(self, key: str) -> bool: ...
