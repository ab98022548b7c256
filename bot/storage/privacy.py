"""What of a reply may be kept: the privacy rules, in one place.

- The asker is kept only as an HMAC-SHA256 of their Slack user id, keyed with a deployment
  secret (``USER_HASH_SECRET``), never as the raw id.
- Question text is kept only for replies that were not answers (clarify, not_in_source,
  fallback), and only while ``STORE_QUESTION_TEXT`` is on: curators read it to add phrasings.
- Safeguarding and refusal replies keep their kind and time alone: no text, no user hash, no
  channel or workspace, and not even Slack's reply id, so nothing links the row to a person.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bot.core.reply import ReplyKind
from bot.ports import ReplyRecord
from bot.settings import Secret, SettingsError
from bot.storage.engine import is_in_memory
from bot.storage.models import INTENT_MAX, QUESTION_MAX, REPLY_ID_MAX

log = logging.getLogger(__name__)

TEXT_KINDS = frozenset({ReplyKind.CLARIFY, ReplyKind.NOT_IN_SOURCE, ReplyKind.FALLBACK})
KIND_ONLY_KINDS = frozenset({ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL})
MIN_SECRET_LENGTH = 16
SHORT_FIELD_MAX = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
_MENTION = re.compile(r"<@[^<>]*>")


class UserHasher:
    """Keyed hash of a Slack user id: stable for one deployment, useless without its key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_SECRET_LENGTH:
            raise ValueError("the user hash key is too short")
        self._key = key

    def __repr__(self) -> str:
        return "UserHasher(key='**********')"

    def __call__(self, user_id: str) -> str:
        if not user_id or not user_id.strip():
            raise ValueError("user_id is empty")
        raw = user_id.strip().encode("utf-8", "surrogatepass")  # any string hashes
        return hmac.new(self._key, raw, hashlib.sha256).hexdigest()


def _key_file_for(url: URL) -> Path:
    return Path(f"{url.database}.user-hash-key")


def _load_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        # Write a temporary file, then link it into place: two processes starting at once
        # both end up reading the one key that won.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
            log.warning(
                "USER_HASH_SECRET is not set: created a user-hash key in %s; keep it with the "
                "database, or set USER_HASH_SECRET",
                path,
            )
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text(encoding="ascii").strip().encode()


def resolve_user_hash_key(secret: Secret | None, url: URL) -> bytes:
    """The HMAC key: the setting, or (SQLite only, so no set-up is needed) a key file."""
    if secret is not None:
        key = secret.reveal().encode()
        if len(key) < MIN_SECRET_LENGTH:
            raise SettingsError(
                "USER_HASH_SECRET", f"must be at least {MIN_SECRET_LENGTH} characters"
            )
        return key
    if url.get_backend_name() != "sqlite":
        raise SettingsError(
            "USER_HASH_SECRET", "is required with a server database (set a long random string)"
        )
    if is_in_memory(url):
        return secrets.token_bytes(32)
    try:
        return _load_or_create_key_file(_key_file_for(url))
    except OSError as error:
        raise SettingsError(
            "USER_HASH_SECRET", f"is not set and no key file could be kept ({error.strerror})"
        ) from None


@dataclass(frozen=True, slots=True)
class PrivacyPolicy:
    """Turns a :class:`ReplyRecord` into the column values that may be stored."""

    hasher: UserHasher
    store_question_text: bool

    def reply_values(self, record: ReplyRecord) -> dict[str, Any]:
        kind = _validated_kind(record.kind)
        created_at = _utc(record.created_at)
        if kind in KIND_ONLY_KINDS:
            return {
                "reply_id": f"private-{uuid.uuid4().hex}",
                "created_at": created_at,
                "kind": kind.value,
                "team_id": None,
                "channel_type": None,
                "intent": None,
                "confidence": None,
                "latency_ms": None,
                "user_hash": None,
                "question": None,
            }
        keep_text = self.store_question_text and kind in TEXT_KINDS
        return {
            "reply_id": validated_reply_id(record.reply_id),
            "created_at": created_at,
            "kind": kind.value,
            "team_id": _short(record.team_id, "team_id"),
            "channel_type": _short(record.channel_type, "channel_type"),
            "intent": validated_intent(record.intent),
            "confidence": _finite(record.confidence, "confidence"),
            "latency_ms": _finite(record.latency_ms, "latency_ms", minimum=0.0),
            "user_hash": self.hasher(record.user_id) if record.user_id else None,
            "question": _question(record.question) if keep_text else None,
        }


def _validated_kind(kind: str) -> ReplyKind:
    try:
        return ReplyKind(kind)
    except ValueError:
        raise ValueError(f"unknown reply kind {kind!r}") from None


def validated_reply_id(reply_id: str) -> str:
    if not isinstance(reply_id, str) or not reply_id.strip():
        raise ValueError("reply_id is empty")
    if len(reply_id) > REPLY_ID_MAX:
        raise ValueError(f"reply_id is longer than {REPLY_ID_MAX} characters")
    return reply_id


def validated_intent(intent: str | None) -> str | None:
    if intent is None:
        return None
    if not intent.strip() or len(intent) > INTENT_MAX:
        raise ValueError("intent must be a non-empty entry id")
    return intent


def storable(text: str) -> str:
    """``text`` as any database can hold it: no NUL, no lone surrogate (UTF-8 cannot encode
    one; it becomes U+FFFD)."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def without_mentions(text: str) -> str:
    """``text`` without Slack user mentions (``<@U…>``, ``<@U…|name>``): the bot's own is
    clutter for curators, and anyone else's is a user id."""
    return " ".join(_MENTION.sub(" ", text).split())


def _short(value: str | None, name: str) -> str | None:
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    value = storable(value)
    if len(value) > SHORT_FIELD_MAX:
        raise ValueError(f"{name} is longer than {SHORT_FIELD_MAX} characters")
    return value


def _finite(value: float, name: str, minimum: float | None = None) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}")
    return number


def _question(text: str) -> str | None:
    # Nobody needs more than QUESTION_MAX characters to curate.
    cleaned = without_mentions(storable(text)).strip()
    return cleaned[:QUESTION_MAX] or None


def _utc(moment: datetime) -> datetime:
    # A naive time is taken to be UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
