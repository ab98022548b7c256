"""One serving process's life: ready, serving, reloading knowledge, draining, gone.

:class:`ReplicaRuntime` attaches to the aiohttp application that :func:`create_web_app` built:

- a middleware that times and counts every request, and while draining answers Events API
  deliveries (and ``/health``) with 503;
- ``GET /metrics`` in Prometheus' text format (:mod:`bot.deploy.metrics`);
- :meth:`ReplicaRuntime.serve_until_stopped`, which handles the signals:

  - **SIGTERM / SIGINT**: stop being ready and drain. ``/health`` answers 503 so the load
    balancer stops sending traffic. New Events API deliveries get 503 *without*
    ``X-Slack-No-Retry``, so Slack delivers them again, to a replica that is not stopping.
    Slash commands and button clicks are still answered: Slack never retries those, so a
    503 would show the person an error. Requests already being answered and replies in
    flight get up to ``SHUTDOWN_GRACE_SECONDS`` to finish; then the caller closes the server.
    A second signal stops waiting.
  - **SIGHUP**: reload the knowledge (validated first; see :mod:`bot.deploy.reload`).

  A process that is the only one serving also polls the knowledge files every
  ``KNOWLEDGE_POLL_SECONDS``. Under the worker supervisor, the supervisor polls and validates
  once, and sends the workers SIGHUP only for a valid edit.

The router is swapped by one attribute assignment on the event loop's thread, so a request
sees either the old knowledge or the new, never a mixture; a reply being written keeps the
router it started with.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_sdk.http_retry.async_handler import AsyncRetryHandler

from bot.deploy.metrics import CONTENT_TYPE, Metrics, create_metrics
from bot.deploy.reload import KnowledgeWatcher, Loaded, Rejected
from bot.deploy.workers import WorkerContext, worker_context
from bot.ports import EventDeduplicator, ReplyStore
from bot.settings import Settings
from bot.slack.app import SlackApp, web_api_retry_handlers
from bot.slack.server import EVENTS_PATH, HEALTH_PATH

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
SUPERVISOR_CHECK_SECONDS = 1.0
HEARTBEAT_SECONDS = 1.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HANDLED_SIGNALS = (*STOP_SIGNALS, signal.SIGHUP)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ReplicaRuntime:
    """Readiness, draining, knowledge reloads and metrics for one serving process.

    ``supervised``: a worker of :mod:`bot.deploy.workers`. The supervisor polls the knowledge
    and signals; the worker stops by itself if the supervisor disappears.
    """

    def __init__(self, settings: Settings, *, supervised: bool = False) -> None:
        self.settings = settings
        self.metrics: Metrics = create_metrics()
        context = worker_context() if supervised else None
        # Recorded by the supervisor before it forked: os.getppid() here could already be 1.
        self.supervisor_pid = context.supervisor_pid if context is not None else None
        # The heartbeat starts now, so a slow start-up is not taken for a stalled loop.
        self._heartbeat: asyncio.Task[None] | None = (
            asyncio.get_running_loop().create_task(_beat_forever(context), name="heartbeat")
            if context is not None
            else None
        )
        self.watch_knowledge = not supervised and settings.knowledge_poll_seconds > 0
        self.draining = False
        self._slack_app: SlackApp | None = None
        self._watcher: KnowledgeWatcher | None = None
        self._requests_in_flight = 0
        self._requests_idle = asyncio.Event()
        self._requests_idle.set()
        self._stop = asyncio.Event()
        self._hurry = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Task[object]] = set()
        self._drain_started: float | None = None

    # --- wiring -------------------------------------------------------------------------------

    def reply_store(self, inner: ReplyStore) -> ReplyStore:
        return self.metrics.reply_store(inner)

    def deduplicator(self, inner: EventDeduplicator) -> EventDeduplicator:
        return self.metrics.deduplicator(inner)

    def retry_handlers(self) -> list[AsyncRetryHandler]:
        """The Slack layer's retry handlers, counted."""
        return self.metrics.retry_handlers(web_api_retry_handlers())

    def attach(self, web_app: web.Application, slack_app: SlackApp) -> None:
        """Add the middleware and ``/metrics`` to ``web_app`` (before it starts)."""
        self._slack_app = slack_app
        self._watcher = KnowledgeWatcher(self.settings.knowledge_dir)
        self.metrics.knowledge_entries.set(len(slack_app.services.knowledge.entries))
        web_app.middlewares.append(self._middleware)
        web_app.router.add_get(METRICS_PATH, self._handle_metrics)

    # --- requests -----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = _route_label(request)
        if request.path == EVENTS_PATH and _is_events_api(request):
            retried = "X-Slack-Retry-Num" in request.headers
            self.metrics.slack_deliveries.labels("retry" if retried else "first").inc()
        if self.draining:
            refusal = self._refusal_while_draining(request)
            if refusal is not None:
                self.metrics.http_requests.labels(route, str(refusal.status)).inc()
                return refusal
        started = time.perf_counter()
        self._requests_in_flight += 1
        self._requests_idle.clear()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            self._requests_in_flight -= 1
            if self._requests_in_flight == 0:
                self._requests_idle.set()
            self.metrics.http_requests.labels(route, str(status)).inc()
            self.metrics.http_duration.labels(route).observe(time.perf_counter() - started)

    def _refusal_while_draining(self, request: web.Request) -> web.Response | None:
        if request.path == HEALTH_PATH:
            return web.json_response({"status": "draining"}, status=503)
        if request.path == EVENTS_PATH and _is_events_api(request):
            # No X-Slack-No-Retry: Slack is meant to deliver this again, elsewhere.
            self.metrics.shed_while_draining.inc()
            return web.json_response({"error": "shutting down"}, status=503)
        return None

    async def _handle_metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    # --- life ---------------------------------------------------------------------------------

    async def serve_until_stopped(self) -> None:
        """Serve until SIGTERM or SIGINT, reloading on SIGHUP; then drain and return."""
        loop = asyncio.get_running_loop()
        for number in STOP_SIGNALS:
            loop.add_signal_handler(number, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        # A supervised worker starts with these blocked, so none is lost before this point.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED_SIGNALS)
        watchers = [asyncio.create_task(self._watch(), name="knowledge-watcher")]
        if self.supervisor_pid is not None:
            watchers.append(asyncio.create_task(self._watch_supervisor(self.supervisor_pid)))
        if self._heartbeat is not None:
            watchers.append(self._heartbeat)
        try:
            await self._stop.wait()
            await self.drain()
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            for number in HANDLED_SIGNALS:
                loop.remove_signal_handler(number)

    def request_stop(self) -> None:
        if self._stop.is_set():
            log.warning("second stop signal: not waiting for replies in flight any longer")
            self._hurry.set()
        self._stop.set()

    def request_reload(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload("SIGHUP"), name="reload")
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def drain(self) -> bool:
        """Refuse new events and wait for the work in hand; False if the grace ran out."""
        self.draining = True
        self._drain_started = time.monotonic()
        self.metrics.draining.set(1)
        in_flight = self._slack_app.services.work.running if self._slack_app else 0
        grace = self.settings.shutdown_grace_seconds
        log.info(
            "draining: not ready, refusing new events; %d requests and %d replies in flight "
            "(grace %.0fs)",
            self._requests_in_flight,
            in_flight,
            grace,
        )
        deadline = time.monotonic() + grace
        finished = await self._first_of(self._requests_idle.wait(), deadline)
        if finished and self._slack_app is not None:
            remaining = max(0.0, deadline - time.monotonic())
            work = self._slack_app.services.work
            finished = await self._first_of(work.wait_idle(remaining), deadline)
        if finished:
            log.info("drained: every reply in flight was sent")
        else:
            log.warning("stopping before every reply in flight was sent")
        return finished

    def grace_remaining(self, minimum: float = 1.0) -> float:
        """Seconds left of ``SHUTDOWN_GRACE_SECONDS`` since draining began (at least
        ``minimum``); the whole grace if it has not begun."""
        grace = self.settings.shutdown_grace_seconds
        if self._drain_started is None:
            return grace
        return max(minimum, grace - (time.monotonic() - self._drain_started))

    async def _first_of(self, waiting: Awaitable[bool], deadline: float) -> bool:
        """Await ``waiting`` until ``deadline`` or a second stop signal; its result, or False."""
        work = asyncio.ensure_future(waiting)
        hurry = asyncio.ensure_future(self._hurry.wait())
        try:
            done, _ = await asyncio.wait(
                {work, hurry},
                timeout=max(0.0, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (work, hurry):
                task.cancel()
            await asyncio.gather(work, hurry, return_exceptions=True)
        return work in done and work.exception() is None and work.result()

    # --- knowledge ----------------------------------------------------------------------------

    async def reload(self, trigger: str) -> Loaded | Rejected | None:
        """Load and validate the knowledge off the event loop, then swap the router."""
        if self._watcher is None or self._slack_app is None:
            return None
        async with self._reload_lock:
            outcome = await asyncio.to_thread(self._watcher.try_load, trigger)
            if isinstance(outcome, Loaded):
                services = self._slack_app.services
                services.router = outcome.router  # the atomic swap
                entries = len(outcome.router.kb.entries)
                self.metrics.knowledge_entries.set(entries)
                self.metrics.knowledge_reloads.labels("applied").inc()
                log.info("knowledge reloaded (%s): %d entries", trigger, entries)
            elif isinstance(outcome, Rejected):
                self.metrics.knowledge_reloads.labels("rejected").inc()
            return outcome

    async def _watch(self) -> None:
        if not self.watch_knowledge or self._watcher is None:
            return
        interval = self.settings.knowledge_poll_seconds
        watcher = self._watcher
        while not self.draining:
            await asyncio.sleep(interval)
            async with self._reload_lock:
                changed = await asyncio.to_thread(watcher.settled_change)
            if changed:
                await self.reload("file change")

    async def _watch_supervisor(self, supervisor_pid: int) -> None:
        """Stop (draining) when the supervisor is gone: the worker was orphaned."""
        while True:
            if os.getppid() != supervisor_pid:
                break
            await asyncio.sleep(SUPERVISOR_CHECK_SECONDS)
        log.error("the supervisor %d is gone; this worker stops", supervisor_pid)
        self.request_stop()


async def _beat_forever(context: WorkerContext) -> None:
    """Show the supervisor that this event loop runs (it kills a worker that stalls)."""
    while True:
        context.beat()
        await asyncio.sleep(HEARTBEAT_SECONDS)


def _route_label(request: web.Request) -> str:
    """The route's path template (bounded label values); ``unmatched`` for 404s."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _is_events_api(request: web.Request) -> bool:
    """Events API deliveries are JSON; slash commands and interactivity are form-encoded."""
    return request.content_type == "application/json"
