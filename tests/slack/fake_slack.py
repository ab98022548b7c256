"""A fake Slack on loopback: the Web API methods the bot calls, ``response_url`` endpoints,
and a Socket Mode WebSocket. It records every call, can be told to fail the next calls
with 429 or 5xx, and rejects messages that break Slack's Block Kit limits as Slack does.

Modelled on slack-bolt's tests/mock_web_api_server, but served by aiohttp on a free port so
the bot talks to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0TEST01"

RESPONSE_PATH = "/response/"


def auth_test_answer() -> dict[str, Any]:
    """What ``auth.test`` answers for the test workspace's bot token."""
    return {
        "ok": True,
        "url": "https://test.slack.com/",
        "team": "Test",
        "user": "hackathon-bot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made: ``method`` is the Web API method or ``response_url``."""

    method: str
    body: dict[str, Any]
    status: int
    path: str
    headers: dict[str, str] = field(repr=False)
    response: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(slots=True)
class _Failure:
    status: int
    retry_after: int | None
    error: str | None = None  # with status 200: Slack's {"ok": false, "error": ...}


class FakeSlack:
    """The fake server. Start it with :meth:`start`; stop it with :meth:`close`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        # Bot tokens the Web API accepts, and methods answered by a handler of a test's own
        # that checks credentials itself (tests/storage/fake_oauth.py: oauth.v2.access).
        self.bot_tokens: set[str] = {BOT_TOKEN}
        self.methods: dict[str, Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self.held = 0  # calls that have waited at a hold

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post(RESPONSE_PATH + "{token}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}{RESPONSE_PATH}{token}"

    # --- scripting --------------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (or ``response_url``) with ``status``."""
        self._failures.setdefault(method, []).extend(
            _Failure(status, retry_after) for _ in range(times)
        )

    def refuse_next(self, method: str, error: str) -> None:
        """Answer the next call of ``method`` with 200 and ``{"ok": false, "error": error}``."""
        self._failures.setdefault(method, []).append(_Failure(200, None, error))

    def hold(self, method: str) -> asyncio.Event:
        """Keep calls of ``method`` waiting until the returned event is set."""
        return self._holds.setdefault(method, asyncio.Event())

    def slow_down(self, method: str, seconds: float) -> None:
        """Make every call of ``method`` take ``seconds`` before it is answered."""
        self._delays[method] = seconds

    # --- inspecting -------------------------------------------------------------------------

    def delivered(self, *methods: str) -> list[Call]:
        """Successful calls of the given methods, in order."""
        return [c for c in self.calls if c.ok and c.method in methods]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self, condition: Callable[[FakeSlack], bool], *, within: float = 5.0
    ) -> None:
        """Wait until ``condition(self)`` holds; fail the test after ``within`` seconds."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: condition(self))

    async def wait_for_calls(
        self, *methods: str, count: int = 1, within: float = 5.0
    ) -> list[Call]:
        await self.wait_for(lambda fake: len(fake.delivered(*methods)) >= count, within=within)
        return self.delivered(*methods)

    # --- Socket Mode ------------------------------------------------------------------------

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope to the connected app."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: bool(self._sockets))
        await self._sockets[-1].send_str(json.dumps(envelope))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        await self._record(Call("socket.connect", {}, 200, request.path, {}))
        self._sockets.append(socket)
        async with self._changed:
            self._changed.notify_all()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
                    async with self._changed:
                        self._changed.notify_all()
        finally:
            self._sockets.remove(socket)
        return socket

    # --- HTTP handlers ----------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    def _scripted_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        return queue.pop(0) if queue else None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await _read_body(request)
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        if method in self._holds:
            self.held += 1
            async with self._changed:
                self._changed.notify_all()
            await self._holds[method].wait()
        headers = dict(request.headers)
        failure = self._scripted_failure(method)
        if failure is not None and failure.error is not None:
            refusal = {"ok": False, "error": failure.error}
            await self._record(Call(method, body, 400, request.path, headers, refusal))
            return web.json_response(refusal)
        if failure is not None:
            await self._record(Call(method, body, failure.status, request.path, headers))
            extra = (
                {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            )
            if failure.status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers=extra
                )
            return web.Response(status=failure.status, text="upstream failure", headers=extra)
        tokens = {APP_TOKEN} if method == "apps.connections.open" else self.bot_tokens
        problem = block_kit_problem(body)
        if method in self.methods:
            answer: dict[str, Any] = self.methods[method](body, headers)
        elif headers.get("Authorization") not in {f"Bearer {token}" for token in tokens}:
            answer = {"ok": False, "error": "invalid_auth"}
        elif problem is not None:
            answer = {"ok": False, "error": "invalid_blocks", "detail": problem}
        else:
            answer = self._answer(method, body)
        # A call Slack refuses (ok: false) is recorded with status 400, so it never counts
        # as delivered.
        status = 200 if answer["ok"] else 400
        await self._record(Call(method, body, status, request.path, headers, answer))
        return web.json_response(answer)

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return auth_test_answer()
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "views.publish":
            return {"ok": True, "view": body.get("view")}
        if method in (
            "assistant.threads.setStatus",
            "assistant.threads.setSuggestedPrompts",
            "assistant.threads.setTitle",
        ):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await _read_body(request)
        headers = dict(request.headers)
        failure = self._scripted_failure("response_url")
        if failure is not None:
            await self._record(Call("response_url", body, failure.status, request.path, headers))
            return web.Response(status=failure.status, text="upstream failure")
        problem = block_kit_problem(body)
        status = 400 if problem is not None else 200
        await self._record(Call("response_url", body, status, request.path, headers))
        return web.Response(status=status, text=problem or "ok")


async def _read_body(request: web.Request) -> dict[str, Any]:
    if request.query:  # some slack_sdk methods send their arguments as query parameters
        fields = dict(request.query)
        return {**fields, **(await _read_body_only(request))}
    return await _read_body_only(request)


async def _read_body_only(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    text = await request.text()
    fields: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in ("blocks", "view"):
        if isinstance(fields.get(key), str):
            fields[key] = json.loads(fields[key])
    return fields


def block_kit_problem(body: dict[str, Any]) -> str | None:
    """Why Slack would reject this message or view, or None (the limits the bot must keep)."""
    view = body.get("view")
    blocks = body.get("blocks")
    if isinstance(view, str):
        view = json.loads(view)
    if isinstance(view, dict):
        blocks = view.get("blocks")
        if len(blocks or []) > 100:
            return "a view has more than 100 blocks"
    elif blocks is not None and len(blocks) > 50:
        return "a message has more than 50 blocks"
    if isinstance(body.get("text"), str) and len(body["text"]) > 40_000:
        return "text is longer than 40,000 characters"
    for block in blocks or []:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > 3000:
            return "section text is longer than 3,000 characters"
        if block.get("type") == "header" and len(text) > 150:
            return "header text is longer than 150 characters"
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                if len(element["text"]["text"]) > 75:
                    return "button text is longer than 75 characters"
                if len(element.get("value", "")) > 2000:
                    return "button value is longer than 2,000 characters"
            elif len(element.get("text", "")) > 3000:
                return "context text is longer than 3,000 characters"
    return None
