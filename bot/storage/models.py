"""The tables: one row per reply, one vote per person per reply, one clarify choice per person.

Which columns a row may fill is decided by :mod:`bot.storage.privacy`; the schema only allows
it (every column a safeguarding row must leave empty is nullable). Times are stored as naive
UTC and handed back timezone-aware, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

REPLY_ID_MAX = 128
INTENT_MAX = 128
QUESTION_MAX = 2000
USER_HASH_LENGTH = 64  # hex SHA-256

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime stored as a naive UTC timestamp."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ReplyRow(Base):
    """One reply the bot gave, reduced to what the privacy rules allow."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reply_id: Mapped[str] = mapped_column(String(REPLY_ID_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel_type: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(INTENT_MAX), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    user_hash: Mapped[str | None] = mapped_column(String(USER_HASH_LENGTH))
    question: Mapped[str | None] = mapped_column(Text)


class VoteRow(Base):
    """A person's 👍 or 👎 on a reply; changing it updates the same row."""

    __tablename__ = "reply_votes"
    __table_args__ = (UniqueConstraint("reply_pk", "user_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reply_pk: Mapped[int] = mapped_column(ForeignKey("replies.id", ondelete="CASCADE"))
    user_hash: Mapped[str] = mapped_column(String(USER_HASH_LENGTH))
    vote: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChoiceRow(Base):
    """Which "did you mean" candidate a person chose; a NULL intent means "none of these"."""

    __tablename__ = "clarify_choices"
    __table_args__ = (UniqueConstraint("reply_pk", "user_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reply_pk: Mapped[int] = mapped_column(ForeignKey("replies.id", ondelete="CASCADE"))
    user_hash: Mapped[str] = mapped_column(String(USER_HASH_LENGTH))
    chosen_intent: Mapped[str | None] = mapped_column(String(INTENT_MAX))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
