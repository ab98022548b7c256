"""The SQL implementation of :class:`bot.ports.ReplyStore`.

Privacy is applied before anything is queued (:class:`~bot.storage.privacy.PrivacyPolicy`);
the writes themselves run on a :class:`~bot.storage.writer.BackgroundWriter` thread, so
recording a reply costs the reply path a hash and a queue put.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from bot.ports import ReplyRecord, Vote, VoteOutcome
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.privacy import PrivacyPolicy, UserHasher, resolve_user_hash_key, validated_intent
from bot.storage.writer import DEFAULT_RETRY_SECONDS, BackgroundWriter
from bot.storage.writes import upsert_choice, upsert_vote


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlReplyStore:
    """Replies, votes and "did you mean" choices in SQLite or PostgreSQL."""

    def __init__(
        self,
        database: Database,
        policy: PrivacyPolicy,
        *,
        clock: Callable[[], datetime] = _utc_now,
        max_pending: int = 10_000,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        self.database = database
        self.policy = policy
        self._clock = clock
        self.writer = BackgroundWriter(
            database.engine, max_pending=max_pending, retry_seconds=retry_seconds
        )

    @classmethod
    def open(cls, settings: Settings, *, clock: Callable[[], datetime] = _utc_now) -> SqlReplyStore:
        """Open the configured database (upgrading it if the settings say so) and start writing."""
        database = Database.open(settings)
        try:
            key = resolve_user_hash_key(settings.user_hash_secret, database.engine.url)
        except BaseException:
            database.close()
            raise
        policy = PrivacyPolicy(UserHasher(key), settings.store_question_text)
        return cls(database, policy, clock=clock, retry_seconds=settings.storage_retry_seconds)

    def health(self) -> str | None:
        """None while the writer runs; else what is wrong (for ``/health``)."""
        return None if self.writer.alive else "storage writer stopped"

    async def record_reply(self, record: ReplyRecord) -> None:
        self.writer.submit_reply(self.policy.reply_values(record))

    async def record_vote(self, *, reply_id: str, user_id: str, vote: Vote) -> VoteOutcome:
        vote = Vote(vote)
        user_hash = self.policy.hasher(user_id)
        job = partial(
            upsert_vote,
            self.database.engine,
            reply_id=reply_id,
            user_hash=user_hash,
            vote=vote,
            now=self._clock(),
        )
        return await asyncio.wrap_future(self.writer.call(job))

    async def record_choice(
        self, *, reply_id: str, user_id: str, chosen_intent: str | None
    ) -> bool:
        chosen_intent = validated_intent(chosen_intent)
        user_hash = self.policy.hasher(user_id)
        job = partial(
            upsert_choice,
            self.database.engine,
            reply_id=reply_id,
            user_hash=user_hash,
            chosen_intent=chosen_intent,
            now=self._clock(),
        )
        return await asyncio.wrap_future(self.writer.call(job))

    async def flush(self) -> None:
        """Wait until every record queued so far is in the database."""
        await asyncio.wrap_future(self.writer.call(lambda: None, database=False))

    async def aclose(self, give_up_after: float | None = None) -> None:
        await asyncio.to_thread(self.close, give_up_after)

    def close(self, give_up_after: float | None = None) -> None:
        """Finish the queued writes, stop the writer and release the connections.

        With ``give_up_after`` seconds, writes still held for an unreachable database by then
        are counted as lost.
        """
        self.writer.close(give_up_after)
        self.database.close()
