"""The one global error handler: log what failed without logging what anyone wrote."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.failures import describe_error

log = logging.getLogger(__name__)


_SAFE_NAME = re.compile(r"[a-z_/.]{1,40}")


def _name(value: object) -> str:
    """A type or command name from a request, or ``unknown``: never free text."""
    return value if isinstance(value, str) and _SAFE_NAME.fullmatch(value) else "unknown"


def describe_request(body: object) -> str:
    if not isinstance(body, dict) or not body:
        return "request"
    event = body.get("event")
    if isinstance(event, dict):
        return f"{_name(event.get('type'))} event"
    if "command" in body:
        return f"{_name(body['command'])} command"
    return f"{_name(body.get('type'))} request"


async def handle_error(error: Exception, body: dict[str, Any] | None) -> None:
    """Bolt's last resort: one line, whatever the error or the body (never a traceback, which
    could show request values in its frames)."""
    try:
        log.error("Slack %s failed: %s", describe_request(body), describe_error(error))
    except Exception:  # this handler must not fail itself
        log.error("a Slack request failed")


def register(app: AsyncApp) -> None:
    app.error(handle_error)
