"""Log redaction: at any level, no message text, user id or token reaches the logs.

The bot's own log lines are written to carry none (they name kinds, counts and error types).
The libraries under it are not: at DEBUG slack_sdk and slack_bolt write every request and
response, with bodies (what people typed), user ids and, with OAuth, every installation's bot
token; Bolt warns about an unhandled request by printing it; aiohttp writes a traceback for a
client that hung up. :func:`install` puts one filter on the root handlers that every record
passes, whichever logger wrote it:

- records of those libraries below WARNING are dropped (they are request and response dumps);
- every record's text is masked: Slack tokens, user/team/channel ids, ``hooks.slack.com``
  paths and, in a library's record, any ``{...}`` payload it quotes;
- an exception attached to a record becomes one line (its type and where it was raised), never
  a traceback, whose messages could quote a request;
- an aborted connection is one line.
"""

from __future__ import annotations

import logging
import re
import traceback

from aiohttp.http_exceptions import HttpProcessingError

# Loggers of the libraries that may dump requests; their DEBUG and INFO lines are dropped.
NOISY_LIBRARIES = ("slack_sdk", "slack_bolt", "slack", "aiohttp", "asyncio", "websockets")

_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+")
_BEARER = re.compile(r"(?i)\b(bearer|authorization)(['\"]?\s*[:=]?\s*['\"]?)\s*[^\s'\",}]+")
_SLACK_ID = re.compile(r"\b[UWTCDGE][A-Z0-9]{6,}\b")
_HOOK = re.compile(r"(https://hooks\.slack\.com/)\S*")
_SIGNATURE = re.compile(r"\bv0=[0-9a-f]{16,}")
_PAYLOAD = re.compile(r"[{\[].*", re.DOTALL)
_ABORTED = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def mask(text: str, *, library: bool = False) -> str:
    """``text`` with tokens, Slack ids, hook paths and signatures masked; for a library's
    record, also anything from the first brace or bracket on (a quoted request or response)."""
    text = _TOKEN.sub("xox…", text)
    text = _BEARER.sub(r"\1\2…", text)
    text = _SIGNATURE.sub("v0=…", text)
    text = _HOOK.sub(r"\1…", text)
    text = _SLACK_ID.sub("<id>", text)
    if library:
        text = _PAYLOAD.sub("{…}", text)
    return text


def _is_library(name: str) -> bool:
    return any(name == lib or name.startswith(lib + ".") for lib in NOISY_LIBRARIES)


def _one_line(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}{where}"


class RedactingFilter(logging.Filter):
    """Drops or rewrites records so that they carry nothing anyone typed or any secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        library = _is_library(record.name)
        if library and record.levelno < logging.WARNING:
            return False
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not format
            text = str(record.msg)
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, _ABORTED) or (
            isinstance(error, HttpProcessingError) and record.name.startswith("aiohttp")
        ):
            text = (
                "a client closed its connection before the answer was sent"
                if isinstance(error, _ABORTED)
                else f"a client sent an incomplete or malformed request ({type(error).__name__})"
            )
            error = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        text = mask(text, library=library)
        if error is not None:
            text = f"{text} ({_one_line(error)})"
        record.msg, record.args = text, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTER = RedactingFilter()


def install(root: logging.Logger | None = None) -> None:
    """Put the filter on every handler of the root logger (call after configuring logging)."""
    root = root or logging.getLogger()
    for handler in root.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
