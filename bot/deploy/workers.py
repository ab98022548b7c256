"""``serve --http --workers N``: a pre-fork supervisor and N aiohttp worker processes.

Why pre-fork on one shared socket, and not the alternatives:

- The supervisor binds and listens once, then forks the workers; each serves the inherited
  socket with aiohttp's ``SockSite``. The kernel hands each connection to a worker that is
  waiting in ``accept``, so a busy worker takes fewer. ``--port 0`` works (the port is known
  before any worker starts), and the knowledge is loaded and validated once, before forking.
- ``SO_REUSEPORT`` (one socket per worker) spreads connections by a hash, busy or not, and
  drops the connections queued on a worker's socket when that worker exits: a stopping
  worker would lose requests it had not accepted yet.
- gunicorn with aiohttp's ``GunicornWebWorker`` would add a dependency whose SIGHUP restarts
  the workers, which would load an unvalidated edit and crash-loop on an invalid one;
  here SIGHUP means "reload the knowledge if it is valid".

The supervisor owns the signals and the knowledge watch:

- **SIGTERM / SIGINT**: forwarded to every worker, which drains (see
  :mod:`bot.deploy.runtime`); workers still running ``SHUTDOWN_GRACE_SECONDS`` + 5 s later
  are killed. The exit status is 0 when every worker stopped cleanly.
- **SIGHUP**, or a settled change to a knowledge file: the supervisor loads and validates the
  knowledge (one log line if it is invalid, and nothing else happens); when it is valid it
  sends the workers SIGHUP and they swap their routers. A worker started later starts with
  the newest valid knowledge.
- A worker that dies is replaced; more than five deaths in a minute, or a worker that stops
  on a settings error (exit status 2), stop the whole replica with that status.
- A worker whose event loop stalls (it touches a heartbeat file every second) is killed after
  ``WORKER_STALL_SECONDS`` and replaced.
- Workers never outlive the supervisor: each records the supervisor's pid *before* the fork
  and asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``).

Metrics: the supervisor points ``PROMETHEUS_MULTIPROC_DIR`` at an empty directory before any
worker starts, so ``/metrics`` in any worker reports the sum over all of them
(:mod:`bot.deploy.metrics`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from bot.core.router import Router
from bot.deploy.reload import KnowledgeWatcher, Loaded, Rejected
from bot.settings import Settings, SettingsError, listening_error

log = logging.getLogger(__name__)

SUPERVISOR_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD})
KILL_AFTER_GRACE_SECONDS = 5.0
MAX_DEATHS_PER_MINUTE = 5
IDLE_WAKEUP_SECONDS = 1.0
# prometheus-client's own variable; it must be set before prometheus_client is imported,
# which is why this module does not import bot.deploy.metrics.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

ServeWorker = Callable[[socket.socket, Router], None]


def bind_listener(host: str, port: int, *, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket for the workers to share (SO_REUSEADDR, as servers set)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=backlog)
    except (OSError, OverflowError) as error:
        if isinstance(error, OverflowError):
            raise SettingsError("PORT", f"must be a port number, not {port}") from None
        raise listening_error(host, port, error) from None


@contextlib.contextmanager
def shared_metrics_directory() -> Iterator[Path]:
    """An empty ``PROMETHEUS_MULTIPROC_DIR`` for this replica's workers.

    A directory given in the environment is emptied of old values and kept; otherwise a
    temporary one is made and removed afterwards.
    """
    if "prometheus_client" in sys.modules and MULTIPROC_DIR_VARIABLE not in os.environ:
        raise RuntimeError("prometheus_client was imported before the metrics directory was set")
    given = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.db"):
            old.unlink()
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="hackathon-bot-metrics-"))
    os.environ[MULTIPROC_DIR_VARIABLE] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_DIR_VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)


def serve_workers(
    settings: Settings,
    router: Router,
    *,
    host: str,
    port: int,
    workers: int,
    serve_worker: ServeWorker,
) -> int:
    """Serve with ``workers`` processes until stopped; returns the exit status."""
    listener = bind_listener(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    try:
        with shared_metrics_directory():
            log.info(
                "serving Slack on http://%s:%d/slack/events with %d worker processes",
                bound_host,
                bound_port,
                workers,
            )
            supervisor = Supervisor(
                settings, router, listener=listener, workers=workers, serve_worker=serve_worker
            )
            return supervisor.run()
    finally:
        listener.close()


class Supervisor:
    """Forks the workers, forwards signals to them, replaces dead ones, watches knowledge."""

    def __init__(
        self,
        settings: Settings,
        router: Router,
        *,
        listener: socket.socket,
        workers: int,
        serve_worker: ServeWorker,
    ) -> None:
        self.settings = settings
        self.router = router
        self.listener: socket.socket | None = listener
        self.workers = workers
        self.serve_worker = serve_worker
        self.children: set[int] = set()
        self.watcher = KnowledgeWatcher(settings.knowledge_dir)
        self._stopping = False
        self._kill_at = 0.0
        self._killed = False
        self._exit_status = 0
        self._deaths: deque[float] = deque()
        self._next_poll = time.monotonic() + settings.knowledge_poll_seconds
        self._heartbeats = Path(tempfile.mkdtemp(prefix="hackathon-bot-heartbeats-"))
        self._heartbeat_of: dict[int, Path] = {}
        self.stall_seconds = settings.worker_stall_seconds

    def run(self) -> int:
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, SUPERVISOR_SIGNALS)
        # Handlers too, so that as PID 1 in a container these signals are not discarded.
        previous_handlers = {s: signal.signal(s, _ignore) for s in SUPERVISOR_SIGNALS}
        try:
            self._start_missing_workers()
            while True:
                received = signal.sigtimedwait(SUPERVISOR_SIGNALS, self._wait_seconds())
                number = received.si_signo if received is not None else None
                if number in (signal.SIGTERM, signal.SIGINT):
                    self.stop(signal.Signals(number))
                elif number == signal.SIGHUP and not self._stopping:
                    self.reload("SIGHUP")
                self._reap()
                if self._stopping:
                    if not self.children:
                        log.info("every worker stopped")
                        return self._exit_status
                    if not self._killed and time.monotonic() >= self._kill_at:
                        self._kill_remaining()
                    continue
                self._kill_stalled()
                if time.monotonic() >= self._next_poll and self.settings.knowledge_poll_seconds:
                    self._next_poll = time.monotonic() + self.settings.knowledge_poll_seconds
                    if self.watcher.settled_change():
                        self.reload("file change")
                self._start_missing_workers()
        finally:
            for number, handler in previous_handlers.items():
                signal.signal(number, handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
            shutil.rmtree(self._heartbeats, ignore_errors=True)

    def _wait_seconds(self) -> float:
        if self._stopping:
            return max(0.05, min(IDLE_WAKEUP_SECONDS, self._kill_at - time.monotonic()))
        if self.settings.knowledge_poll_seconds:
            return max(0.05, min(IDLE_WAKEUP_SECONDS, self._next_poll - time.monotonic()))
        return IDLE_WAKEUP_SECONDS

    # --- signals ------------------------------------------------------------------------------

    def stop(self, number: signal.Signals) -> None:
        """Forward a stop signal to the workers (again, on a second one: they stop waiting)."""
        if not self._stopping:
            self._stopping = True
            self._kill_at = (
                time.monotonic() + self.settings.shutdown_grace_seconds + KILL_AFTER_GRACE_SECONDS
            )
            log.info("%s: stopping %d workers", number.name, len(self.children))
            if self.listener is not None:  # the workers keep their copies while they drain
                self.listener.close()
                self.listener = None
        self._signal_children(number)

    def reload(self, trigger: str) -> Loaded | Rejected | None:
        """Validate the knowledge here; only a valid edit reaches the workers."""
        outcome = self.watcher.try_load(trigger)
        if isinstance(outcome, Loaded):
            self.router = outcome.router
            log.info(
                "knowledge valid (%s): %d entries; workers reloading",
                trigger,
                len(outcome.router.kb.entries),
            )
            self._signal_children(signal.SIGHUP)
        return outcome

    def _signal_children(self, number: signal.Signals) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    def _kill_stalled(self) -> None:
        """SIGKILL a worker whose event loop has not beaten for ``stall_seconds`` (a loop stuck
        in a computation answers nothing and ignores SIGTERM); it is then replaced."""
        if not self.stall_seconds:
            return
        now = time.time()
        for pid, heartbeat in list(self._heartbeat_of.items()):
            try:
                silent = now - heartbeat.stat().st_mtime
            except FileNotFoundError:
                continue
            if silent > self.stall_seconds:
                log.error(
                    "worker %d has not answered for %.0f s (stalled); replacing it", pid, silent
                )
                heartbeat.unlink(missing_ok=True)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def _kill_remaining(self) -> None:
        log.error(
            "%d workers still running after the grace period: killing them", len(self.children)
        )
        self._killed = True
        self._exit_status = 1
        self._signal_children(signal.SIGKILL)

    # --- workers ------------------------------------------------------------------------------

    def _start_missing_workers(self) -> None:
        while len(self.children) < self.workers and self.listener is not None:
            supervisor = os.getpid()  # read before forking: the child may outlive it at once
            heartbeat = self._heartbeats / f"{time.monotonic_ns()}"
            heartbeat.touch()
            pid = os.fork()
            if pid == 0:
                self._become_worker(self.listener, supervisor, heartbeat)
            self.children.add(pid)
            self._heartbeat_of[pid] = heartbeat
            log.info("worker %d started", pid)

    def _become_worker(self, listener: socket.socket, supervisor: int, heartbeat: Path) -> NoReturn:
        status = 1
        try:
            # Stop signals stay blocked until the worker's event loop handles them.
            for number in SUPERVISOR_SIGNALS:
                signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            # SIGTERM when the supervisor dies, however it dies; and if it died before this
            # was set, stop now (nobody would ever send it).
            _set_parent_death_signal(signal.SIGTERM)
            if os.getppid() == supervisor:
                global _worker_context
                _worker_context = WorkerContext(supervisor, heartbeat)
                self.serve_worker(listener, self.router)
            status = 0
        except SettingsError as error:
            print(f"python -m bot serve: {error}", file=sys.stderr)
            status = 2
        except BaseException:
            log.exception("worker %d failed", os.getpid())
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)
            heartbeat = self._heartbeat_of.pop(pid, None)
            if heartbeat is not None:
                heartbeat.unlink(missing_ok=True)
            self._forget_metrics_of(pid)
            self._worker_exited(pid, os.waitstatus_to_exitcode(wait_status))

    def _worker_exited(self, pid: int, status: int) -> None:
        if self._stopping:
            if status != 0:
                log.warning("worker %d stopped with status %d", pid, status)
                self._exit_status = self._exit_status or 1
            return
        if status == 2:
            log.error("worker %d stopped on a settings error; stopping", pid)
            self._exit_status = 2
            self.stop(signal.SIGTERM)
            return
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and self._deaths[0] < now - 60:
            self._deaths.popleft()
        if len(self._deaths) > MAX_DEATHS_PER_MINUTE:
            log.error("workers keep dying (%d in a minute); stopping", len(self._deaths))
            self._exit_status = 1
            self.stop(signal.SIGTERM)
            return
        log.error("worker %d exited unexpectedly with status %d; starting another", pid, status)

    @staticmethod
    def _forget_metrics_of(pid: int) -> None:
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(pid)  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What a worker process knows of its supervisor (set in the worker just after the fork)."""

    supervisor_pid: int
    heartbeat: Path  # touched by the worker's event loop; its age tells the supervisor

    def beat(self) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.heartbeat)


_worker_context: WorkerContext | None = None


def worker_context() -> WorkerContext | None:
    """This process's supervisor and heartbeat file, if it is a worker."""
    return _worker_context


def _set_parent_death_signal(number: signal.Signals) -> None:
    """Linux's PR_SET_PDEATHSIG: the kernel sends ``number`` when the parent exits."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(number), 0, 0, 0)
    except (OSError, AttributeError):  # not fatal: the runtime also watches the supervisor
        log.debug("could not set the parent-death signal")


_PR_SET_PDEATHSIG = 1


def _ignore(number: int, frame: object) -> None:
    """Placeholder handler: the signals are blocked and taken by ``sigtimedwait``."""
