"""``python -m bot.deploy.healthcheck``, the image's health check, against real HTTP servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.deploy.healthcheck import health_url, main
from bot.settings import Settings


@pytest.fixture
async def health_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A server whose /health answers the status at the head of the list."""
    statuses = [200]

    async def health(_: web.Request) -> web.Response:
        return web.Response(status=statuses[0])

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/health", statuses
    finally:
        await runner.cleanup()


async def run(*argv: str) -> int:
    # The check blocks (urllib); the server under test runs on this event loop.
    return await asyncio.to_thread(main, list(argv))


async def test_healthy_is_zero_and_draining_is_one(
    health_server: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, statuses = health_server
    assert await run("--url", url) == 0
    assert capsys.readouterr().out.startswith("healthy: ")
    statuses[0] = 503
    assert await run("--url", url) == 1
    assert "HTTP 503" in capsys.readouterr().out


async def test_nothing_listening_is_unhealthy() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert await run("--url", f"http://127.0.0.1:{port}/health") == 1


def test_the_default_url_is_this_containers_port() -> None:
    assert health_url(Settings.from_env({"PORT": "8123"})) == "http://127.0.0.1:8123/health"
