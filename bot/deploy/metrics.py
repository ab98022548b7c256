"""Prometheus metrics for ``/metrics``: requests, reply kinds, latencies, dedupe, Slack API calls.

One process (``--workers 1``) keeps its metrics in its own registry. Several worker processes
share one listening socket, so a scrape reaches whichever worker accepts it; per-worker numbers
would jump between scrapes. They therefore use prometheus-client's multiprocess mode: every
worker writes its values to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR`` (set by the
supervisor before any worker starts, see :mod:`bot.deploy.workers`), and ``/metrics`` in any
worker adds up the files of all of them.

Everything is counted through wrappers around the Slack layer's ports and retry handlers, so
the Slack layer does not know it is measured. Labels carry routes, kinds and Slack method
names, never message text or user ids.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.ports import EventDeduplicator, ReplyRecord, ReplyStore, Vote, VoteOutcome

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # also named in bot.deploy.workers
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)
_REPLY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SLACK_METHOD = re.compile(r"^[a-z]+(?:\.[a-zA-Z]+)+$")


def multiprocess_dir() -> str | None:
    """The directory the worker processes share their metrics in, if several run."""
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


class Metrics:
    """The bot's metrics. Create one per process (:func:`create_metrics`)."""

    def __init__(self, registry: CollectorRegistry | None, exposition: CollectorRegistry) -> None:
        self._exposition = exposition
        self.http_requests = Counter(
            "hackathon_bot_http_requests",
            "HTTP requests answered, by route and status",
            ["route", "status"],
            registry=registry,
        )
        self.stored_rows_lost = Counter(
            "hackathon_bot_stored_rows_lost",
            "Reply rows the storage writer could not store (queue full, or an outage longer "
            "than STORAGE_RETRY_SECONDS)",
            registry=registry,
        )
        self.http_duration = Histogram(
            "hackathon_bot_http_request_duration_seconds",
            "Time to answer an HTTP request; for Slack's requests this is the ack latency",
            ["route"],
            buckets=_ACK_BUCKETS,
            registry=registry,
        )
        self.slack_deliveries = Counter(
            "hackathon_bot_slack_event_deliveries",
            "Events API deliveries received, first deliveries and Slack's retries",
            ["delivery"],
            registry=registry,
        )
        self.shed_while_draining = Counter(
            "hackathon_bot_events_refused_while_draining",
            "Events API deliveries answered 503 while shutting down (Slack retries them)",
            registry=registry,
        )
        self.replies = Counter(
            "hackathon_bot_replies",
            "Replies sent, by reply kind and where they were asked",
            ["kind", "channel_type"],
            registry=registry,
        )
        self.reply_latency = Histogram(
            "hackathon_bot_reply_latency_seconds",
            "Time from handling a question to the reply being accepted by Slack",
            ["kind"],
            buckets=_REPLY_BUCKETS,
            registry=registry,
        )
        self.dedupe_claims = Counter(
            "hackathon_bot_dedupe_claims",
            "Delivery keys claimed: first sightings and duplicates suppressed",
            ["key", "result"],
            registry=registry,
        )
        self.dedupe_backend_errors = Counter(
            "hackathon_bot_dedupe_backend_errors",
            "Claims the shared store (Redis) could not answer; this process's cache decided",
            registry=registry,
        )
        self.slack_api_errors = Counter(
            "hackathon_bot_slack_api_errors",
            "Failed Slack API attempts (Web API and response_url), by method and status",
            ["method", "status"],
            registry=registry,
        )
        self.slack_api_retries = Counter(
            "hackathon_bot_slack_api_retries",
            "Slack API calls retried, by method and reason",
            ["method", "reason"],
            registry=registry,
        )
        self.knowledge_reloads = Counter(
            "hackathon_bot_knowledge_reloads",
            "Knowledge reloads, applied or rejected as invalid",
            ["result"],
            registry=registry,
        )
        self.knowledge_entries = Gauge(
            "hackathon_bot_knowledge_entries",
            "Knowledge entries being served",
            registry=registry,
            multiprocess_mode="livemostrecent",
        )
        self.draining = Gauge(
            "hackathon_bot_draining",
            "1 while the process is shutting down and refusing new events",
            registry=registry,
            multiprocess_mode="livemax",
        )

    def exposition(self) -> bytes:
        """The current values in Prometheus' text format."""
        return generate_latest(self._exposition)

    # --- wrappers for the Slack layer's ports ------------------------------------------------

    def reply_store(self, inner: ReplyStore) -> ReplyStore:
        return MeteredReplyStore(inner, self)

    def deduplicator(self, inner: EventDeduplicator) -> EventDeduplicator:
        return MeteredDeduplicator(inner, self)

    def retry_handlers(self, handlers: list[AsyncRetryHandler]) -> list[AsyncRetryHandler]:
        """``handlers`` counted, behind an observer that counts every failed attempt."""
        return [SlackCallObserver(self), *(CountingRetryHandler(h, self) for h in handlers)]


def create_metrics() -> Metrics:
    """Metrics for this process, shared across workers when the supervisor set that up."""
    if multiprocess_dir() is not None:
        exposition = CollectorRegistry()
        MultiProcessCollector(exposition)  # type: ignore[no-untyped-call]
        # Values go to the shared files; registering them too would count them twice.
        return Metrics(None, exposition)
    registry = CollectorRegistry()
    return Metrics(registry, registry)


class MeteredReplyStore:
    """Counts replies by kind and their latency, then stores them as ``inner`` does."""

    def __init__(self, inner: ReplyStore, metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def record_reply(self, record: ReplyRecord) -> None:
        self._metrics.replies.labels(record.kind, record.channel_type).inc()
        self._metrics.reply_latency.labels(record.kind).observe(record.latency_ms / 1000)
        await self.inner.record_reply(record)

    async def record_vote(self, *, reply_id: str, user_id: str, vote: Vote) -> VoteOutcome:
        return await self.inner.record_vote(reply_id=reply_id, user_id=user_id, vote=vote)

    async def record_choice(
        self, *, reply_id: str, user_id: str, chosen_intent: str | None
    ) -> bool:
        return await self.inner.record_choice(
            reply_id=reply_id, user_id=user_id, chosen_intent=chosen_intent
        )


@runtime_checkable
class ReportsBackendErrors(Protocol):
    """A deduplicator backed by a shared store that tells when the store failed it."""

    on_backend_error: Callable[[], None] | None


class MeteredDeduplicator:
    """Counts first sightings and suppressed duplicates by key type (``event``, ``message``)."""

    def __init__(self, inner: EventDeduplicator, metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics
        if isinstance(inner, ReportsBackendErrors):
            inner.on_backend_error = metrics.dedupe_backend_errors.inc

    async def claim(self, key: str) -> bool:
        first = await self.inner.claim(key)
        kind = key.split(":", 1)[0] if ":" in key else "other"
        self._metrics.dedupe_claims.labels(kind, "first" if first else "duplicate").inc()
        return first


def slack_method(url: str) -> str:
    """The Web API method a URL calls, or ``response_url`` (bounded label values)."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return last if _SLACK_METHOD.match(last) else "response_url"


class SlackCallObserver(AsyncRetryHandler):
    """Never retries; sees every attempt first and counts the failed ones."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        status: str | None = None
        if error is not None:
            status = type(error).__name__
        elif response is not None:
            if response.status_code >= 400:
                status = str(response.status_code)
            elif isinstance(response.body, dict) and response.body.get("ok") is False:
                status = "ok_false"
        if status is not None:
            self._metrics.slack_api_errors.labels(slack_method(request.url), status).inc()
        return False


class CountingRetryHandler(AsyncRetryHandler):
    """Retries exactly as ``inner`` does, counting each retry."""

    def __init__(self, inner: AsyncRetryHandler, metrics: Metrics) -> None:
        super().__init__(
            max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator
        )
        self.inner = inner
        self._metrics = metrics
        self._reason = _retry_reason(inner)

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        retry = await self.inner.can_retry_async(
            state=state, request=request, response=response, error=error
        )
        if retry:
            self._metrics.slack_api_retries.labels(slack_method(request.url), self._reason).inc()
        return retry

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        await self.inner.prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


def _retry_reason(handler: AsyncRetryHandler) -> str:
    name = type(handler).__name__
    for marker, reason in (
        ("RateLimit", "rate_limited"),
        ("ServerError", "server_error"),
        ("ConnectionError", "connection_error"),
    ):
        if marker in name:
            return reason
    return name
