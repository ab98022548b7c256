"""Settings: every knob the bot reads from the environment, parsed once into one object.

Secrets are wrapped in :class:`Secret` so they never show in a repr or a log line.
A missing or malformed value raises :class:`SettingsError`, which names the variable;
the command line turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
DEFAULT_SLACK_API_BASE_URL = "https://slack.com/api/"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable, never its value."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret string that never prints itself."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"


def listening_error(host: str, port: int, error: OSError) -> SettingsError:
    """One line for any failure to listen: a bad address, a port in use, no permission."""
    # getaddrinfo's errors (negative numbers on Linux); socket.create_server re-raises them
    # as a plain OSError.
    if isinstance(error, socket.gaierror) or (error.errno is not None and error.errno < 0):
        return SettingsError("HOST", "is not an address this machine can listen on")
    reason = error.strerror or type(error).__name__
    return SettingsError("PORT", f"cannot listen on {host}:{port} ({reason})")


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _secret(env: Mapping[str, str], name: str, prefix: str | None = None) -> Secret | None:
    value = _text(env, name)
    if value is None:
        return None
    if prefix is not None and not value.startswith(prefix):
        raise SettingsError(name, f"must start with {prefix!r}")
    return Secret(value)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _text(env, name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(name, "must be true or false")


def _int(
    env: Mapping[str, str],
    name: str,
    default: int,
    minimum: int = 0,
    maximum: int | None = None,
) -> int:
    value = _text(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(name, "must be a whole number") from None
    if number < minimum:
        raise SettingsError(name, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise SettingsError(name, f"must be at most {maximum}")
    return number


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    value = _text(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(name, "must be a number") from None
    if not math.isfinite(number):
        raise SettingsError(name, "must be a finite number")
    if number < minimum:
        raise SettingsError(name, f"must be at least {minimum}")
    return number


def _url(
    env: Mapping[str, str], name: str, default: str | None, schemes: tuple[str, ...]
) -> str | None:
    value = _text(env, name) or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise SettingsError(name, f"must be a URL starting with one of: {', '.join(schemes)}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, read from the environment by :meth:`from_env`."""

    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    log_level: str = "INFO"
    # Slack
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_client_id: str | None = None
    slack_client_secret: Secret | None = None
    slack_api_base_url: str = DEFAULT_SLACK_API_BASE_URL
    # Storage
    database_url: str = "sqlite:///hackathon-bot.db"
    database_auto_upgrade: bool = True
    store_replies: bool = True  # off: replies and votes are kept in memory only
    store_question_text: bool = True
    retention_days: int = 90
    user_hash_secret: Secret | None = None
    storage_retry_seconds: float = 60.0  # how long writes are held and retried in an outage
    # Deployment
    redis_url: str | None = None
    host: str = "0.0.0.0"  # noqa: S104 - a server listens on all interfaces in a container
    port: int = 3000
    shutdown_grace_seconds: float = 10.0
    dedupe_ttl_seconds: int = 900
    redis_key_prefix: str = "hackathon-bot:"  # namespaces the dedupe keys in a shared Redis
    knowledge_poll_seconds: float = 2.0  # how often to look for knowledge edits; 0: SIGHUP only
    # Conversations
    conversation_ttl_seconds: int = 1800  # how long a follow-up can lean on an earlier answer
    contact: str | None = None  # how to reach a person: a channel, an address or a URL
    web_workers: int = 1  # HTTP worker processes per replica
    worker_stall_seconds: float = 30.0  # a worker whose event loop is silent this long is killed

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        # Bolt itself switches to OAuth when it sees both of these, even beside a bot token.
        if (
            _text(env, "SLACK_BOT_TOKEN")
            and _text(env, "SLACK_CLIENT_ID")
            and _text(env, "SLACK_CLIENT_SECRET")
        ):
            raise SettingsError(
                "SLACK_BOT_TOKEN",
                "set it for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to "
                "install into many workspaces, not both",
            )
        default = cls()  # each default is written once, in the fields above
        knowledge = _text(env, "BOT_KNOWLEDGE_DIR")
        level = (_text(env, "LOG_LEVEL") or default.log_level).upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError("LOG_LEVEL", "must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return cls(
            knowledge_dir=Path(knowledge) if knowledge else default.knowledge_dir,
            log_level=level,
            slack_bot_token=_secret(env, "SLACK_BOT_TOKEN", "xoxb-"),
            slack_app_token=_secret(env, "SLACK_APP_TOKEN", "xapp-"),
            slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
            slack_client_id=_text(env, "SLACK_CLIENT_ID"),
            slack_client_secret=_secret(env, "SLACK_CLIENT_SECRET"),
            slack_api_base_url=_url(
                env, "SLACK_API_BASE_URL", default.slack_api_base_url, ("http", "https")
            )
            or default.slack_api_base_url,
            database_url=_text(env, "DATABASE_URL") or default.database_url,
            database_auto_upgrade=_bool(
                env, "DATABASE_AUTO_UPGRADE", default.database_auto_upgrade
            ),
            store_replies=_bool(env, "STORE_REPLIES", default.store_replies),
            store_question_text=_bool(env, "STORE_QUESTION_TEXT", default.store_question_text),
            retention_days=_int(env, "RETENTION_DAYS", default.retention_days, minimum=1),
            user_hash_secret=_secret(env, "USER_HASH_SECRET"),
            worker_stall_seconds=_float(env, "WORKER_STALL_SECONDS", default.worker_stall_seconds),
            storage_retry_seconds=_float(
                env, "STORAGE_RETRY_SECONDS", default.storage_retry_seconds
            ),
            redis_url=_url(env, "REDIS_URL", default.redis_url, ("redis", "rediss", "unix")),
            host=_text(env, "HOST") or default.host,
            port=_int(env, "PORT", default.port, minimum=1, maximum=65535),
            shutdown_grace_seconds=_float(
                env, "SHUTDOWN_GRACE_SECONDS", default.shutdown_grace_seconds
            ),
            dedupe_ttl_seconds=_int(
                env, "DEDUPE_TTL_SECONDS", default.dedupe_ttl_seconds, minimum=900
            ),
            redis_key_prefix=_text(env, "REDIS_KEY_PREFIX") or default.redis_key_prefix,
            knowledge_poll_seconds=_float(
                env, "KNOWLEDGE_POLL_SECONDS", default.knowledge_poll_seconds
            ),
            web_workers=_int(env, "WEB_CONCURRENCY", default.web_workers, minimum=1),
            conversation_ttl_seconds=_int(
                env, "CONVERSATION_TTL_SECONDS", default.conversation_ttl_seconds, minimum=1
            ),
            contact=_text(env, "CONTACT"),
        )

    def require(self, *names: str) -> None:
        """Raise :class:`SettingsError` for the first named setting that is unset."""
        for name in names:
            if getattr(self, name.lower()) is None:
                raise SettingsError(name.upper(), "is required for this command")
