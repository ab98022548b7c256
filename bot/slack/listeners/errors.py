"""The one global error handler: log what failed without logging what anyone wrote."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """A one-line description that never includes message text or request bodies."""
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if error.response is not None else None
        return f"SlackApiError({code or 'unknown'})"
    return type(error).__name__


def describe_request(body: dict[str, Any] | None) -> str:
    if not body:
        return "request"
    if isinstance(body.get("event"), dict):
        return f"{body['event'].get('type', 'unknown')} event"
    if "command" in body:
        return f"{body['command']} command"
    return f"{body.get('type', 'unknown')} request"


async def handle_error(error: Exception, body: dict[str, Any] | None) -> None:
    log.error("Slack %s failed: %s", describe_request(body), describe_error(error))
    log.debug("failure details", exc_info=error)


def register(app: AsyncApp) -> None:
    app.error(handle_error)
