"""A background thread that does the database writes, so that replying never waits on them.

Replies are queued and written in batches (what arrives within 50 ms shares one transaction),
fire and forget. Votes and choices go through the same queue (their callers need an answer,
and a vote must never overtake the reply it is for), and their result comes back as a future.
If the queue is full a reply record is dropped and counted rather than slowing the reply down.

No row can stop the writer: a batch the database refuses for a *transient* reason (the
connection was lost, the server restarts, SQLite is locked) is retried with backoff for up to
``retry_seconds``, holding everything queued behind it (the queue stays bounded); any other
failure is narrowed down to the rows that cause it, and only those are dropped. Rows lost
either way are counted (:attr:`WriterStats.replies_dropped`, and ``on_lost`` for the metrics)
and logged once per outage, never with their contents.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.storage.writes import insert_replies

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_RETRY_SECONDS = 60.0
_FIRST_BACKOFF_SECONDS = 0.05
_MAX_BACKOFF_SECONDS = 2.0


def is_transient(error: BaseException) -> bool:
    """Whether a database error may go away by itself (connection lost, server restarting)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError
    )


@dataclass(frozen=True, slots=True)
class _ReplyJob:
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _CallJob:
    function: Callable[[], Any]
    future: Future[Any]
    database: bool = True  # uses the database: retried in an outage, and proves it is back


class _Stop:
    pass


class _GaveUpError(RuntimeError):
    """Closing ran out of time while the database was unreachable."""


_STOP = _Stop()
_Job = _ReplyJob | _CallJob | _Stop


@dataclass(slots=True)
class WriterStats:
    """Counters for benchmarks and metrics (read without locking; they only grow)."""

    replies_written: int = 0
    replies_dropped: int = 0
    retries: int = 0  # transient failures retried (batches and calls)
    # The most recent batch write times (seconds), for the benchmark's p99.
    batch_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


class BackgroundWriter:
    """One thread, one FIFO queue, every write in order."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_pending: int = 10_000,
        batch_size: int = 500,
        linger_seconds: float = 0.05,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        on_lost: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._retry_seconds = retry_seconds
        self.on_lost = on_lost  # told how many rows were lost (the metrics)
        self._outage = False  # between a failure and the next success: log once
        self._full = False
        self._loss_logged = False
        self._give_up = threading.Event()  # closing and out of time: stop retrying
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=max_pending)
        self._batch_size = batch_size
        self._linger = linger_seconds
        self._urgent = threading.Event()  # set when a job is waiting for an answer
        self._thread = threading.Thread(target=self._run, name="reply-store-writer", daemon=True)
        self._closed = False
        self.stats = WriterStats()
        self._thread.start()

    def submit_reply(self, values: dict[str, Any]) -> bool:
        """Queue a reply row; False (and counted) if the writer is closed or full."""
        if self._closed:
            self.stats.replies_dropped += 1
            return False
        try:
            self._queue.put_nowait(_ReplyJob(values))
        except queue.Full:
            if not self._full:
                log.warning("reply store queue is full; reply records are being dropped")
            self._full = True
            self._lost(1)
            return False
        self._full = False
        return True

    def call(self, function: Callable[[], T], *, database: bool = True) -> Future[T]:
        """Run ``function`` on the writer thread after everything queued before it.

        ``database``: it uses the database, so it is retried through an outage.
        """
        future: Future[T] = Future()
        if self._closed:
            future.set_exception(RuntimeError("the reply store is closed"))
            return future
        self._queue.put(_CallJob(function, future, database))
        self._urgent.set()
        return future

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is written."""
        self.call(lambda: None, database=False).result(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the thread.

        With a ``timeout``, a database that is still down when it runs out is given up on:
        the rows still queued are counted as lost and the thread stops.
        """
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._urgent.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._give_up.set()
            self._thread.join(_MAX_BACKOFF_SECONDS + 1.0)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def alive(self) -> bool:
        """False once the thread has stopped (closed, or killed by something unforeseen)."""
        return self._thread.is_alive()

    @property
    def in_outage(self) -> bool:
        return self._outage

    def _lost(self, count: int) -> None:
        self.stats.replies_dropped += count
        if self.on_lost is not None:
            try:
                self.on_lost(count)
            except Exception:  # a metrics hook must not stop the writer
                log.debug("the lost-rows hook failed")

    def _run(self) -> None:
        carried: _Job | None = None
        while True:
            job = carried if carried is not None else self._queue.get()
            carried = None
            if isinstance(job, _Stop):
                self._drop_remaining()
                return
            try:
                carried = self._handle(job)
            except Exception as error:  # never let anything stop the thread
                log.error("the reply store writer failed on a job: %s", type(error).__name__)

    def _drop_remaining(self) -> None:
        """After the stop marker nothing is queued, except when closing gave up early."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, _ReplyJob):
                self._lost(1)
            elif isinstance(job, _CallJob) and job.future.set_running_or_notify_cancel():
                job.future.set_exception(RuntimeError("the reply store is closed"))

    def _handle(self, job: _ReplyJob | _CallJob) -> _Job | None:
        """Do ``job`` (and the replies queued right after it); return a job taken but not done."""
        carried: _Job | None = None
        if isinstance(job, _CallJob):
            self._run_call(job)
            return None
        # Let replies gather for the linger time (a vote, a flush or close cuts it short),
        # then write them in one transaction: one commit for many replies costs the
        # process far less than one each, and queued replies do not wake this thread.
        self._urgent.wait(self._linger)
        self._urgent.clear()
        batch = [job.values]
        while len(batch) < self._batch_size:
            try:
                following = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(following, _ReplyJob):
                batch.append(following.values)
            else:
                carried = following
                break
        self._write_batch(batch)
        return carried

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        try:
            self._with_retries(lambda: insert_replies(self._engine, batch))
        except Exception as error:
            if isinstance(error, _GaveUpError) or is_transient(error) or len(batch) == 1:
                # Out of retry time, or this one row cannot be stored. Never log the rows:
                # they may hold question text.
                self._lost(len(batch))
                in_outage = isinstance(error, _GaveUpError) or is_transient(error)
                if not (in_outage and self._loss_logged):
                    log.warning(
                        "could not store %d reply records: %s%s",
                        len(batch),
                        type(error).__name__,
                        " (more are lost until the database is back)" if in_outage else "",
                    )
                self._loss_logged = self._loss_logged or in_outage
                return
            # Something in the batch is refused: store the others, one by one.
            for row in batch:
                self._write_batch([row])
            return
        self.stats.batch_seconds.append(time.perf_counter() - started)
        self.stats.replies_written += len(batch)

    def _with_retries(self, work: Callable[[], T]) -> T:
        """``work()``, retried with backoff on transient errors for up to ``retry_seconds``."""
        deadline = time.monotonic() + self._retry_seconds
        backoff = _FIRST_BACKOFF_SECONDS
        while True:
            if self._give_up.is_set():
                raise _GaveUpError("the reply store closed while the database was unreachable")
            try:
                result = work()
            except Exception as error:
                if not is_transient(error):
                    raise
                if not self._outage:
                    log.warning(
                        "the database cannot be reached (%s); holding writes and retrying for "
                        "up to %g s",
                        type(error).__name__,
                        self._retry_seconds,
                    )
                    self._outage = True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._give_up.is_set():
                    raise
                self.stats.retries += 1
                if self._give_up.wait(min(backoff, remaining)):
                    raise
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            if self._outage:
                log.info("the database is reachable again; writes resumed")
                self._outage = False
                self._loss_logged = False
            return result

    def _run_call(self, job: _CallJob) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            work = job.function
            job.future.set_result(self._with_retries(work) if job.database else work())
        except BaseException as error:  # handed to the waiting caller
            job.future.set_exception(error)
