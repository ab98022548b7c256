"""Retention: deleting rows older than ``RETENTION_DAYS`` (``python -m bot purge``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select

from bot.storage.models import ChoiceRow, ReplyRow, VoteRow


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    replies: int
    votes: int
    choices: int


def purge_before(engine: Engine, cutoff: datetime) -> PurgeCounts:
    """Delete replies made before ``cutoff``, with their votes and choices, in one transaction."""
    with engine.begin() as connection:
        old = select(ReplyRow.id).where(ReplyRow.created_at < cutoff).scalar_subquery()
        votes = connection.execute(delete(VoteRow).where(VoteRow.reply_pk.in_(old))).rowcount
        choices = connection.execute(delete(ChoiceRow).where(ChoiceRow.reply_pk.in_(old))).rowcount
        replies = connection.execute(delete(ReplyRow).where(ReplyRow.created_at < cutoff)).rowcount
    return PurgeCounts(replies=replies, votes=votes, choices=choices)
