"""A background thread that does the database writes, so that replying never waits on them.

Replies are queued and written in batches (what arrives within 50 ms shares one transaction),
fire and forget. Votes and choices go through the same queue (their callers need an answer,
and a vote must never overtake the reply it is for), and their result comes back as a future.
If the queue is full a reply record is dropped and counted rather than slowing the reply down.
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
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.writes import insert_replies

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _ReplyJob:
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _CallJob:
    function: Callable[[], Any]
    future: Future[Any]


class _Stop:
    pass


_STOP = _Stop()
_Job = _ReplyJob | _CallJob | _Stop


@dataclass(slots=True)
class WriterStats:
    """Counters for benchmarks and metrics (read without locking; they only grow)."""

    replies_written: int = 0
    replies_dropped: int = 0
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
    ) -> None:
        self._engine = engine
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
            self.stats.replies_dropped += 1
            log.warning("reply store queue is full; a reply record was dropped")
            return False
        return True

    def call(self, function: Callable[[], T]) -> Future[T]:
        """Run ``function`` on the writer thread after everything queued before it."""
        future: Future[T] = Future()
        if self._closed:
            future.set_exception(RuntimeError("the reply store is closed"))
            return future
        self._queue.put(_CallJob(function, future))
        self._urgent.set()
        return future

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is written."""
        self.call(lambda: None).result(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._urgent.set()
        self._thread.join(timeout)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        carried: _Job | None = None
        while True:
            job = carried if carried is not None else self._queue.get()
            carried = None
            if isinstance(job, _Stop):
                return
            if isinstance(job, _CallJob):
                self._run_call(job)
                continue
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

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        try:
            insert_replies(self._engine, batch)
        except SQLAlchemyError as error:
            # Never log the rows: they may hold question text.
            self.stats.replies_dropped += len(batch)
            log.warning("could not store %d reply records: %s", len(batch), type(error).__name__)
            return
        self.stats.batch_seconds.append(time.perf_counter() - started)
        self.stats.replies_written += len(batch)

    @staticmethod
    def _run_call(job: _CallJob) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            job.future.set_result(job.function())
        except BaseException as error:  # handed to the waiting caller
            job.future.set_exception(error)
