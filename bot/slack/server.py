"""The HTTP face of the Slack app: an aiohttp application in front of Bolt's dispatcher.

Slack posts events, slash commands and interactivity to ``POST /slack/events``. Before Bolt
sees a request this module checks what Bolt itself handles badly: a missing or non-numeric
timestamp (Bolt answers 500), and a body that is not the JSON or form data Slack sends (Bolt
raises). Forged, stale or unsigned requests get 401 and malformed ones 400, never a 500.
``GET /health`` says the process is up and which knowledge it serves.

The application is built by :func:`create_web_app` so that deployment code can add routes,
middleware and start-up or clean-up hooks to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import __version__
from bot.slack.app import SlackApp
from bot.slack.failures import describe_error

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
MAX_BODY_BYTES = 1024 * 1024
MAX_CLOCK_SKEW_SECONDS = 5 * 60
# Slack's payloads nest about ten levels (a view's blocks' elements' options); anything much
# deeper is not Slack's, and would make Bolt's recursive walks raise RecursionError.
MAX_JSON_DEPTH = 64
# Errors in Bolt's handling that come from a payload's shape: the request gets 400.
_SHAPE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)

SLACK_APP_KEY = web.AppKey("slack_app", SlackApp)


class MalformedBodyError(ValueError):
    """The request body is not an event envelope, a slash command or an interaction payload."""


def parse_slack_body(text: str, content_type: str | None) -> dict[str, Any]:
    """Parse a request body the way Slack sends it; raise :class:`MalformedBodyError` if not.

    JSON carries Events API envelopes; form data carries slash commands, and interactivity
    as a JSON ``payload`` field. (Bolt decides "form with payload" by searching the raw body
    for the word, so a command whose text says "payload" would lose its fields.)
    """
    if not text.strip():
        raise MalformedBodyError("empty body")
    if content_type == "application/json" or text.startswith("{"):
        body = _json_object(text)
        if not isinstance(body.get("type"), str):
            raise MalformedBodyError("an event envelope needs a type")
        if "event" in body and not isinstance(body["event"], dict):
            raise MalformedBodyError("event must be an object")
        return body
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        payload = _json_object(fields["payload"])
        if not isinstance(payload.get("type"), str):
            raise MalformedBodyError("an interaction payload needs a type")
        return payload
    if "command" in fields or "ssl_check" in fields:
        return fields
    raise MalformedBodyError("neither a command nor an interaction payload")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedBodyError("not valid JSON, or nested too deeply") from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise MalformedBodyError("nested too deeply")
    if not isinstance(value, dict):
        raise MalformedBodyError("JSON body must be an object")
    return value


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Sequence[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class RequestSignature:
    """Slack's request signing (v0): an HMAC-SHA256 of the timestamp and the raw body bytes."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_secret.encode()
        self._clock = clock

    def is_valid(self, raw: bytes, timestamp: str, signature: str) -> bool:
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return False
        if abs(self._clock() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return False
        base = b"v0:" + timestamp.encode() + b":" + raw
        expected = "v0=" + hmac.new(self._key, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


class SlackRequestHandler:
    """Verifies, parses and dispatches Slack's requests to the Bolt app."""

    def __init__(self, slack_app: SlackApp, signing_secret: str) -> None:
        self.slack_app = slack_app
        self.signature = RequestSignature(signing_secret)

    async def handle_events(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not self.signature.is_valid(raw, timestamp, signature):
            return _error(401, "invalid request signature")
        # Everything from here on is guarded: whatever the body, the answer is never a 500.
        try:
            text = raw.decode("utf-8")
            body = parse_slack_body(text, request.content_type)
            bolt_request = self._bolt_request(request, text, body)
        except _SHAPE_ERRORS as error:
            log.info("rejected a malformed Slack request: %s", type(error).__name__)
            return _error(400, "malformed request body")
        try:
            bolt_response = await self.slack_app.bolt.async_dispatch(bolt_request)
        except _SHAPE_ERRORS as error:
            log.info("rejected a Slack request Bolt could not handle: %s", type(error).__name__)
            return _error(400, "malformed request body")
        except Exception as error:
            log.error("a Slack request failed in dispatch: %s", describe_error(error))
            return _error(503, "temporarily unavailable")
        if bolt_response.status == 404:
            # No listener for it (an event, interaction or type the bot does not handle):
            # acknowledge anyway, as a 404 only shows an error or makes Slack retry.
            return web.Response(status=200)
        if bolt_response.status >= 500:
            # Bolt's own handling failed (every listener of ours catches its failures after
            # acknowledging), which only a payload Slack would not send does.
            log.info("rejected a Slack request Bolt failed on (HTTP %d)", bolt_response.status)
            return _error(400, "malformed request body")
        return await to_aiohttp_response(bolt_response)

    async def handle_oauth(self, request: web.Request) -> web.StreamResponse:
        """Serve the OAuth install and redirect pages when the app installs into workspaces."""
        flow = self.slack_app.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = AsyncBoltRequest(
            body="", query=request.query_string, headers=_headers(request)
        )
        if request.path == flow.install_path:
            response = await flow.handle_installation(bolt_request)
        elif request.path == flow.redirect_uri_path:
            response = await flow.handle_callback(bolt_request)
        else:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(response)

    @staticmethod
    def _bolt_request(request: web.Request, text: str, body: dict[str, Any]) -> AsyncBoltRequest:
        bolt_request = AsyncBoltRequest(
            body=text, query=request.query_string, headers=_headers(request)
        )
        if bolt_request.body != body:
            bolt_request.body = body
            bolt_request.context = build_async_context(AsyncBoltContext({}), body)
        return bolt_request


def _headers(request: web.Request) -> dict[str, str | Sequence[str]]:
    return {name.lower(): request.headers.getall(name) for name in set(request.headers.keys())}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


HealthCheck = Callable[[], str | None]
HEALTH_CHECKS_KEY = web.AppKey("health_checks", list[HealthCheck])


async def handle_health(request: web.Request) -> web.Response:
    """200 with ``status`` ``ok``, or ``degraded`` while the Slack Web API cannot be reached
    (requests are still acknowledged); 503 with the failing check's name when a part this
    process needs has stopped (the storage writer, say). Answered by the event loop, so a
    stalled loop does not answer at all."""
    slack_app = request.app[SLACK_APP_KEY]
    failing = [problem for check in request.app[HEALTH_CHECKS_KEY] if (problem := check())]
    status = "failing" if failing else "degraded" if slack_app.services.degraded else "ok"
    body: dict[str, object] = {
        "status": status,
        "version": __version__,
        "entries": len(slack_app.services.knowledge.entries),
    }
    if failing:
        body["failing"] = failing
    return web.json_response(body, status=503 if failing else 200)


def create_web_app(
    slack_app: SlackApp, *, signing_secret: str, grace_seconds: float = 10.0
) -> web.Application:
    """The aiohttp application serving Slack's requests and the health check.

    Closing the application (its clean-up) waits up to ``grace_seconds`` for in-flight
    replies and closes the Slack app's HTTP session.
    """
    if not signing_secret:
        raise ValueError("a signing secret is required: HTTP mode always verifies requests")
    handler = SlackRequestHandler(slack_app, signing_secret)
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app[SLACK_APP_KEY] = slack_app
    web_app[HEALTH_CHECKS_KEY] = []  # deployment code adds checks (the storage writer's)
    web_app.router.add_post(EVENTS_PATH, handler.handle_events)
    web_app.router.add_get(HEALTH_PATH, handle_health)
    flow = slack_app.bolt.oauth_flow
    if flow is not None:
        web_app.router.add_get(flow.install_path, handler.handle_oauth)
        web_app.router.add_get(flow.redirect_uri_path, handler.handle_oauth)

    async def close_slack_app(_: web.Application) -> None:
        await slack_app.close(grace_seconds)

    web_app.on_cleanup.append(close_slack_app)
    return web_app
