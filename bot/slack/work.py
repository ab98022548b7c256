"""Tracking the work the Slack layer does after it has acknowledged a request.

Slack needs an acknowledgement within 3 seconds; the answer comes later. Everything that
runs after the ack (the reply itself, recording it) is tracked here, so that a shutting-down
server can wait for in-flight replies and tests can wait until the bot is idle instead of
sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)


class InFlightWork:
    """Counts running pieces of work and keeps references to spawned tasks."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Told of every failure a guard or a spawned task swallowed (health tracking).
        self.on_failure: Callable[[BaseException], None] | None = None

    @property
    def running(self) -> int:
        return self._running

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Mark the enclosed block as in-flight work."""
        self._started()
        try:
            yield
        finally:
            self._finished()

    @asynccontextmanager
    async def guard(self, name: str) -> AsyncIterator[None]:
        """Tracked work that never raises: a failure is logged in one line and swallowed.

        Every listener runs in one, after its ack: a listener that raised after acking would
        have Bolt's error path overwrite the ack, and Slack would get no answer in time.
        """
        self._started()
        try:
            yield
        except Exception as error:
            from bot.slack.failures import ReportedError, describe_error

            if not isinstance(error, ReportedError):
                log.error("Slack %s failed: %s", name, describe_error(error))
            if self.on_failure is not None:
                self.on_failure(error)
        finally:
            self._finished()

    def spawn(self, work: Coroutine[Any, Any, object], *, name: str) -> asyncio.Task[None]:
        """Run ``work`` in the background, tracked; its failure is logged, never raised."""
        self._started()
        task = asyncio.create_task(self._guarded(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self, within: float) -> bool:
        """Wait until no work runs; False if ``within`` seconds passed first."""
        try:
            async with asyncio.timeout(within):
                # Let listener tasks scheduled just before this call start and register.
                await asyncio.sleep(0)
                while self._running:
                    await self._idle.wait()
                    await asyncio.sleep(0)
        except TimeoutError:
            return False
        return True

    async def _guarded(self, work: Coroutine[Any, Any, object], name: str) -> None:
        try:
            await work
        except Exception as error:  # background work has nobody to raise to
            from bot.slack.failures import describe_error

            log.error("background work %s failed: %s", name, describe_error(error))
            if self.on_failure is not None:
                self.on_failure(error)
        finally:
            self._finished()

    def _started(self) -> None:
        self._running += 1
        self._idle.clear()

    def _finished(self) -> None:
        self._running -= 1
        if self._running == 0:
            self._idle.set()
