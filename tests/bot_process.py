"""The bot run as a real process (``python -m bot serve``) against the fake Slack: its
environment (this process's without any of the bot's settings, plus the test's) and
:class:`BotProcess`, which collects its log lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.settings import Settings
from tests.slack.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[1]

# Set by a parent that collects metrics; a bot under test must not write into its files.
_INHERITED_NOT = frozenset({"PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"})


def settings_variables() -> frozenset[str]:
    """Every environment variable :meth:`Settings.from_env` reads."""
    read: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recording())
    return frozenset(read)


def bot_environment(fake: FakeSlack, **settings: str) -> dict[str, str]:
    """No bot setting inherited from this process; the Web API is ``fake``'s; then ``settings``."""
    ignored = settings_variables() | _INHERITED_NOT
    env = {key: value for key, value in os.environ.items() if key not in ignored}
    env.update(SLACK_API_BASE_URL=fake.api_url, LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


class BotProcess:
    """A ``python -m bot serve`` child process and the log lines it prints (on stderr), read
    as they come so that tests wait for a line, never for a time."""

    def __init__(self, process: asyncio.subprocess.Process, name: str = "bot") -> None:
        self.name = name
        self.process = process
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str, env: Mapping[str, str]) -> BotProcess:
        """``python -m bot serve ARGS`` from the repository root."""
        return cls(await spawn(*args, env=env))

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())
            async with self._new_line:
                self._new_line.notify_all()
        async with self._new_line:
            self._new_line.notify_all()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def matching(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return [m for line in self.lines if (m := pattern.search(line))]

    async def wait_for_lines(
        self, pattern: re.Pattern[str], *, count: int = 1, within: float = 20.0
    ) -> list[re.Match[str]]:
        """Wait until ``count`` log lines match ``pattern``; fail if the process ends first."""
        try:
            async with asyncio.timeout(within), self._new_line:
                await self._new_line.wait_for(
                    lambda: len(self.matching(pattern)) >= count or self._reader.done()
                )
        except TimeoutError:
            tail = "\n".join(self.lines[-200:])
            raise AssertionError(
                f"{self.name}: no {count} lines matching {pattern.pattern!r} "
                f"within {within}s:\n{tail}"
            ) from None
        found = self.matching(pattern)
        tail = "\n".join(self.lines[-200:])
        assert len(found) >= count, f"{self.name} ended early:\n{tail}"
        return found

    async def wait_for_line(self, pattern: re.Pattern[str], within: float = 20.0) -> re.Match[str]:
        return (await self.wait_for_lines(pattern, within=within))[0]

    def send_signal(self, number: signal.Signals) -> None:
        self.process.send_signal(number)

    async def wait_exit(self, within: float) -> int:
        async with asyncio.timeout(within):
            code = await self.process.wait()
            await self._reader
        return code

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM, then its exit status."""
        if self.running:
            self.send_signal(signal.SIGTERM)
        return await self.wait_exit(within)

    async def kill(self) -> None:
        """Stop the process and any workers it started, whatever state they are in."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.send_signal(signal.SIGTERM)
            try:
                await self.wait_exit(30.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


async def spawn(*args: str, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    """``python -m bot serve ARGS`` in its own process group (so teardown reaches its workers),
    its stderr piped for :class:`BotProcess`."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        *args,
        cwd=ROOT,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
