"""Requests exactly as Slack sends them: signed JSON events, form-encoded slash commands and
form-encoded interactivity payloads, with Slack's headers (``X-Slack-Signature``,
``X-Slack-Request-Timestamp``, ``X-Slack-Retry-Num`` on retries)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "test-signing-secret"
_counter = itertools.count(1)


def sign(body: str | bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: str, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(body, stamp),
    }


def next_ts() -> str:
    return f"1712345678.{next(_counter):06d}"


def event_envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0TEST01",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


def mention(
    text: str, *, user: str = "U0ASKER1", channel: str = "C0CHAN01", **extra: Any
) -> dict[str, Any]:
    ts = next_ts()
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        **extra,
    }


def direct_message(
    text: str, *, user: str = "U0ASKER1", channel: str = "D0DIRECT1", **extra: Any
) -> dict[str, Any]:
    ts = next_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        **extra,
    }


@dataclass
class Response:
    status: int
    text: str
    seconds: float


class SlackSender:
    """Sends signed requests to the bot's ``/slack/events``."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def post(self, body: str, headers: dict[str, str]) -> Response:
        started = time.perf_counter()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            text = await response.text()
        return Response(response.status, text, time.perf_counter() - started)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> Response:
        body = json.dumps(event_envelope(event, event_id=event_id))
        return await self.envelope(body, retry_num=retry_num)

    async def envelope(self, body: str, *, retry_num: int | None = None) -> Response:
        headers = signed_headers(body, "application/json")
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.post(body, headers)

    async def command(
        self,
        command: str,
        text: str,
        *,
        response_url: str,
        user: str = "U0ASKER1",
        channel: str = "C0CHAN01",
    ) -> Response:
        body = urlencode(
            {
                "token": "verification-token-unused",
                "team_id": TEAM_ID,
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": "asker",
                "command": command,
                "text": text,
                "api_app_id": "A0TEST01",
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": "1337.42.abcd",
            }
        )
        return await self.post(body, signed_headers(body, "application/x-www-form-urlencoded"))

    async def interaction(self, payload: dict[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, signed_headers(body, "application/x-www-form-urlencoded"))


def block_actions(
    action: dict[str, Any],
    *,
    user: str,
    channel: str,
    response_url: str,
    message: dict[str, Any] | None = None,
    ephemeral: bool = False,
    message_ts: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on ``action`` (a button dict from a message)."""
    ts = message_ts or (message or {}).get("ts") or next_ts()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "clicker", "team_id": TEAM_ID},
        "api_app_id": "A0TEST01",
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": "1337.42.efgh",
        "team": {"id": TEAM_ID, "domain": "test"},
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "type": action.get("type", "button"),
                "action_id": action.get("click_action_id", action["action_id"]),
                "block_id": action.get("block_id", "b"),
                "text": action.get("text", {"type": "plain_text", "text": "x"}),
                "value": action.get("value", ""),
                "action_ts": str(time.time()),
            }
        ],
    }
    if message is not None and not ephemeral:
        payload["message"] = {**message, "ts": ts, "type": "message", "user": BOT_USER_ID}
    return payload
