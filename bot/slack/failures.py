"""Describing a failure in one line that never carries message text, ids, tokens or bodies."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError


class ReportedError(Exception):
    """A failure already logged where it happened (a guard does not log it again)."""


def describe_error(error: BaseException) -> str:
    """A one-line description of ``error``: its type, and Slack's error code or HTTP status.

    Slack's answer may be anything (a JSON object, an HTML error page, a plain string from a
    proxy), so nothing is assumed about its shape.
    """
    if isinstance(error, SlackApiError):
        response = getattr(error, "response", None)
        data = getattr(response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 64:
            return f"SlackApiError({code})"
        status = getattr(response, "status_code", None)
        return f"SlackApiError(HTTP {status})" if isinstance(status, int) else "SlackApiError"
    return type(error).__name__


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the Web API could not be reached at all (not that it said no)."""
    return isinstance(error, aiohttp.ClientConnectionError | asyncio.TimeoutError | OSError)
