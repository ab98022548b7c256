"""``serve --http --workers N`` as real processes: one port, shared metrics, clean stops,
replaced workers, and the exit status of a replica that cannot start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys

import aiohttp
import pytest

from tests.deploy.conftest import StartReplica
from tests.deploy.replicas import (
    ROOT,
    Event,
    deliver,
    poll,
    replica_environment,
    total,
    wait_until_settled,
)
from tests.slack.fake_slack import FakeSlack

pytestmark = pytest.mark.slow

WORKER_STARTED = re.compile(r"worker (\d+) started")
QUESTION = "Who co-hosted the hackathon?"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_metrics_from_any_worker_count_the_requests_of_all(
    start_replica: StartReplica, http: aiohttp.ClientSession
) -> None:
    replica = await start_replica("replica", workers=2)
    assert len(replica.matching(WORKER_STARTED)) == 2
    batch = [Event.mention(QUESTION) for _ in range(40)]

    attempts = await asyncio.gather(*(deliver(http, replica, e, retry_num=None) for e in batch))

    assert {a.status for a in attempts} == {200}
    await wait_until_settled(http, [replica], event_claims=40)
    # Whichever worker answers the scrape reports the whole replica's counts.
    for _ in range(4):
        samples = await replica.metrics(http)
        events = "hackathon_bot_http_requests_total"
        assert total(samples, events, route="/slack/events", status="200") == 40
        assert total(samples, "hackathon_bot_replies_total", kind="answer") == 40


async def test_sigterm_stops_every_worker_and_exits_zero(
    start_replica: StartReplica,
) -> None:
    replica = await start_replica("replica", workers=3)
    workers = [int(m.group(1)) for m in replica.matching(WORKER_STARTED)]
    assert len(workers) == 3
    assert all(alive(pid) for pid in workers)

    assert await replica.stop(within=30) == 0

    assert not any(alive(pid) for pid in workers)
    assert replica.matching(re.compile(r"every worker stopped"))


async def test_a_worker_that_dies_is_replaced(
    start_replica: StartReplica, http: aiohttp.ClientSession
) -> None:
    replica = await start_replica("replica", workers=2)
    victim = int(replica.matching(WORKER_STARTED)[0].group(1))

    os.kill(victim, signal.SIGKILL)

    await replica.wait_for_lines(re.compile(rf"worker {victim} exited unexpectedly"))
    await replica.wait_for_lines(WORKER_STARTED, count=3)
    for _ in range(6):  # whichever worker takes them, every request is answered
        assert (await deliver(http, replica, Event.mention(QUESTION), retry_num=None)).status == 200
    assert await replica.stop(within=30) == 0


async def test_workers_stop_when_their_supervisor_is_killed(
    start_replica: StartReplica,
) -> None:
    replica = await start_replica("replica", workers=2)
    workers = [int(m.group(1)) for m in replica.matching(WORKER_STARTED)]

    replica.process.kill()  # SIGKILL: the supervisor cannot forward anything

    await replica.wait_exit(within=10)
    await poll(lambda: not any(alive(pid) for pid in workers), within=20, what="orphans gone")


async def test_workers_killed_with_their_supervisor_as_they_start_do_not_outlive_it(
    fake_slack: FakeSlack,
) -> None:
    # The supervisor's pid was read after the fork: a supervisor killed just as its workers
    # started left them serving forever under PID 1 (1 run in 5 of the test above failed).
    # Here every worker is held at its start-up auth.test while the supervisor is killed.
    release = fake_slack.hold("auth.test")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "serve", "--http", "--host", "127.0.0.1", "--port", "0"),
        *("--workers", "2"),
        cwd=ROOT,
        env=replica_environment(fake_slack),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        await fake_slack.wait_for(lambda f: f.held >= 2, within=60)
        assert process.stderr is not None
        while len(workers) < 2:
            async with asyncio.timeout(30):
                line = (await process.stderr.readline()).decode()
            if match := WORKER_STARTED.search(line):
                workers.append(int(match.group(1)))
        process.kill()
        async with asyncio.timeout(30):
            await process.wait()
        release.set()  # the workers go on starting, with no supervisor
        await poll(lambda: not any(alive(pid) for pid in workers), within=30, what="orphans gone")
    finally:
        release.set()
        if process.returncode is None:
            process.kill()
            await process.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_a_stalled_worker_is_replaced(
    start_replica: StartReplica, http: aiohttp.ClientSession
) -> None:
    replica = await start_replica("replica", workers=2, WORKER_STALL_SECONDS="2")
    first = [int(m.group(1)) for m in replica.matching(WORKER_STARTED)]
    os.kill(first[0], signal.SIGSTOP)  # its event loop answers nothing from now on
    try:
        await replica.wait_for_line(re.compile(rf"worker {first[0]} has not answered"), within=30)
        await poll(
            lambda: len(replica.matching(WORKER_STARTED)) >= 3, within=30, what="a replacement"
        )
        await poll(lambda: not alive(first[0]), within=30, what="the stalled worker gone")
        for _ in range(6):  # whichever worker takes them, every request is answered
            async with http.get(f"{replica.url}/health") as response:
                assert response.status == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(first[0], signal.SIGCONT)
    assert await replica.stop(within=30) == 0


@pytest.mark.parametrize("workers", [1, 2])
async def test_an_unreachable_redis_stops_the_replica_with_status_2(
    fake_slack: FakeSlack, workers: int
) -> None:
    env = replica_environment(fake_slack, REDIS_URL=f"redis://:hunter2@127.0.0.1:{unused_port()}/0")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "serve", "--http", "--host", "127.0.0.1", "--port", "0"),
        *("--workers", str(workers)),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 2
    text = stderr.decode()
    assert "REDIS_URL: cannot reach Redis at 127.0.0.1:" in text
    assert "hunter2" not in text
    assert "Traceback" not in text
