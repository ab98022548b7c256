"""``python -m bot serve``: run the Slack app, over Socket Mode or as an HTTP server.

``--socket`` (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN) connects out to Slack, for
development without a public URL. ``--http`` (needs SLACK_BOT_TOKEN and
SLACK_SIGNING_SECRET) serves ``POST /slack/events`` and ``GET /health``. Both stop cleanly on
SIGINT or SIGTERM, letting replies in flight finish.

In HTTP mode the deployment layer (:mod:`bot.deploy`) adds ``/metrics``, draining on SIGTERM,
knowledge reloads on SIGHUP or file changes, and ``--workers N`` worker processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.commands._core import add_knowledge_option
from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from bot.ports import ConversationStore, EventDeduplicator, ReplyStore
from bot.settings import Settings, listening_error

log = logging.getLogger("bot.serve")

MAX_PORT = 65535


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--socket", action="store_true", help="connect to Slack over Socket Mode (no public URL)"
    )
    mode.add_argument("--http", action="store_true", help="serve Slack's requests over HTTP")
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help="HTTP port (default: $PORT or 3000; 0 picks one)",
    )
    parser.add_argument("--host", default=None, help="HTTP address (default: $HOST or 0.0.0.0)")
    parser.add_argument(
        "--workers",
        type=_at_least_one,
        default=None,
        help="HTTP worker processes sharing the port (default: $WEB_CONCURRENCY or 1)",
    )
    add_knowledge_option(parser)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port number, 0 to {MAX_PORT}")
    return int(text)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a whole number, at least 1")
    return int(text)


@dataclass
class Backends:
    """Where the Slack layer keeps its state, and how to let go of it."""

    reply_store: ReplyStore
    deduplicator: EventDeduplicator
    conversations: ConversationStore
    close: Callable[..., Awaitable[None]]  # close(give_up_after=None)
    health: Callable[[], str | None] | None = None  # the storage writer's, for /health
    on_lost_rows: Callable[[Callable[[int], None]], None] | None = None


async def open_backends(settings: Settings) -> Backends:
    """The stores the app runs with: replies in the database (unless STORE_REPLIES is off),
    event deduplication shared in Redis when REDIS_URL is set, else in this process's memory."""
    from bot.deploy.conversations import conversation_store_for
    from bot.deploy.dedupe import open_event_deduplicator
    from bot.slack.memory import InMemoryReplyStore
    from bot.storage.serving import open_reply_store

    deduplicator, close_deduplicator = await open_event_deduplicator(settings)
    try:
        sql_store = await open_reply_store(settings)
    except BaseException:
        await close_deduplicator()
        raise

    async def close(give_up_after: float | None = None) -> None:
        """Let go; queued writes get ``give_up_after`` seconds (the grace) if storage is down."""
        budget = settings.shutdown_grace_seconds if give_up_after is None else give_up_after
        try:
            if sql_store is not None:
                await sql_store.aclose(budget)
        finally:
            await close_deduplicator()

    def on_lost_rows(hook: Callable[[int], None]) -> None:
        if sql_store is not None:
            sql_store.writer.on_lost = hook

    return Backends(
        reply_store=sql_store or InMemoryReplyStore(),
        deduplicator=deduplicator,
        conversations=conversation_store_for(settings, deduplicator),
        close=close,
        health=sql_store.health if sql_store is not None else None,
        on_lost_rows=on_lost_rows,
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.socket:
        settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    else:
        from bot.storage.serving import installs_into_many_workspaces

        if not installs_into_many_workspaces(settings):  # OAuth: no bot token of its own
            settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bot.slack.redaction import install as redact_logs

    redact_logs()  # at any level: no message text, user id or token (bot.slack.redaction)
    if args.knowledge is not None:  # reloads read the same directory
        settings = dataclasses.replace(settings, knowledge_dir=args.knowledge)
    router = Router(load_knowledge(settings.knowledge_dir))
    if args.socket:
        asyncio.run(_serve_socket_mode(settings, router))
    else:
        host = args.host or settings.host
        port = settings.port if args.port is None else args.port
        workers = settings.web_workers if args.workers is None else args.workers
        if workers > 1:  # a pre-fork supervisor; see bot.deploy.workers
            from bot.deploy.workers import serve_workers

            def serve_worker(listener: socket.socket, current: Router) -> None:
                asyncio.run(_serve_http(settings, current, host, port, listener=listener))

            return serve_workers(
                settings, router, host=host, port=port, workers=workers, serve_worker=serve_worker
            )
        asyncio.run(_serve_http(settings, router, host, port))
    return 0


async def _stopped() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        await stop.wait()
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)


async def _serve_http(
    settings: Settings,
    router: Router,
    host: str,
    port: int,
    *,
    listener: socket.socket | None = None,
) -> None:
    """Serve until SIGTERM; ``listener``: a socket shared with other worker processes."""
    from aiohttp import web

    from bot.deploy.runtime import ReplicaRuntime
    from bot.slack.app import create_app
    from bot.slack.server import EVENTS_PATH, HEALTH_CHECKS_KEY, create_web_app
    from bot.storage.serving import open_installs

    assert settings.slack_signing_secret is not None
    runtime = ReplicaRuntime(settings, supervised=listener is not None)
    backends = await open_backends(settings)
    installs = None
    try:
        installs = await open_installs(settings, router.kb)
        slack_app = create_app(
            settings,
            router,
            reply_store=runtime.reply_store(backends.reply_store),
            deduplicator=runtime.deduplicator(backends.deduplicator),
            conversations=backends.conversations,
            installation_store=installs.installation_store if installs else None,
            oauth_settings=installs.oauth_settings if installs else None,
            retry_handlers=runtime.retry_handlers(),
        )
        if installs is not None:
            installs.register(slack_app.bolt)
        # Before listening: a refused token stops here; an unreachable Slack serves degraded.
        await slack_app.verify_token()
        web_app = create_web_app(
            slack_app,
            signing_secret=settings.slack_signing_secret.reveal(),
            grace_seconds=settings.shutdown_grace_seconds,
        )
        runtime.attach(web_app, slack_app)
        if backends.health is not None:
            web_app[HEALTH_CHECKS_KEY].append(backends.health)
        if backends.on_lost_rows is not None:
            backends.on_lost_rows(runtime.metrics.stored_rows_lost.inc)
        runner = web.AppRunner(web_app, shutdown_timeout=settings.shutdown_grace_seconds)
        await runner.setup()
        try:
            site = (
                web.SockSite(runner, listener)
                if listener is not None
                else web.TCPSite(runner, host, port)
            )
            try:
                await site.start()
            except OSError as error:
                raise listening_error(host, port, error) from None
            for address in runner.addresses:
                bound_host, bound_port = address[0], address[1]
                log.info("serving Slack on http://%s:%d%s", bound_host, bound_port, EVENTS_PATH)
            log.info("%d knowledge entries loaded", len(router.kb.entries))
            await runtime.serve_until_stopped()  # drains on SIGTERM, reloads on SIGHUP
            log.info("stopping")
        finally:
            await runner.cleanup()
    finally:
        if installs is not None:
            installs.close()
        # What is left of the grace that draining started, so that a database that is down
        # cannot stretch the stop beyond it (the supervisor kills workers soon after).
        await backends.close(runtime.grace_remaining())


async def _serve_socket_mode(settings: Settings, router: Router) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.slack.app import create_app

    assert settings.slack_app_token is not None
    backends = await open_backends(settings)
    try:
        slack_app = create_app(
            settings,
            router,
            reply_store=backends.reply_store,
            deduplicator=backends.deduplicator,
            conversations=backends.conversations,
        )
        await slack_app.verify_token()
        handler = AsyncSocketModeHandler(slack_app.bolt, settings.slack_app_token.reveal())
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack over Socket Mode")
            await _stopped()
            log.info("stopping")
        finally:
            with contextlib.suppress(Exception):
                await handler.close_async()  # type: ignore[no-untyped-call]
            await slack_app.close(settings.shutdown_grace_seconds)
    finally:
        await backends.close()
