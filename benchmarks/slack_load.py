"""Load on the Slack HTTP server: signed ``app_mention`` events on loopback, a fake Web API.

Starts the fake Slack Web API (tests/slack/fake_slack.py) in this process and the bot as
``python -m bot serve --http`` in a child process pointed at it, then fires signed events at
``POST /slack/events``. Reports events per second, ack latency (p50, p90, p99, max) and
checks that every event was answered exactly once (``--retries`` also sends each event again
as Slack's retries, which must not add replies).

    python benchmarks/slack_load.py                       # 2000 events at 250/s
    python benchmarks/slack_load.py --rate 0 --concurrency 32   # as fast as it goes
    python benchmarks/slack_load.py --store               # with replies stored in SQLite

Exit status 1 when an event was not answered exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.slack.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender, mention  # noqa: E402

SERVING = re.compile(r"serving Slack on (http://\S+)/slack/events")
QUESTIONS = [
    "Which tech companies took part in the hackathon?",
    "Who co-hosted the hackathon?",
    "Who chairs the advertising taskforce?",
    "How much is the innovation call worth?",
    "What is the Child Abuse Image Database?",
    "How much did the hackathon cost?",
    "tell me about the Home Secretary",
    "What measures did the government announce against online CSE?",
]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def start_bot(
    fake: FakeSlack, store_path: Path | None
) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_BASE_URL=fake.api_url,
        LOG_LEVEL="INFO",  # the "serving Slack on" line; only warnings are echoed below
        STORE_REPLIES="true" if store_path else "false",
    )
    if store_path is not None:
        env["DATABASE_URL"] = f"sqlite:///{store_path}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stderr.readline()).decode()
            if not line:
                raise RuntimeError("the bot exited before serving")
            match = SERVING.search(line)
            if match:
                break

    async def drain() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            text = raw.decode(errors="replace").rstrip()
            if " ERROR " in text or " WARNING " in text:
                print(f"  bot: {text}", file=sys.stderr)

    asyncio.get_running_loop().create_task(drain())
    return process, match.group(1)


async def fire(
    sender: SlackSender, name: str, count: int, rate: float, concurrency: int, retries: int
) -> tuple[list[float], list[dict[str, object]], float]:
    """Send ``count`` events; return ack latencies (s), the events, and the wall time."""
    events = [
        mention(QUESTIONS[n % len(QUESTIONS)], channel=f"C{n % 50:08d}") for n in range(count)
    ]
    latencies: list[float] = []
    failures: Counter[int] = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            event_id = f"Ev{name}{n:08d}"
            response = await sender.event(events[n], event_id=event_id)
            latencies.append(response.seconds)
            if response.status != 200:
                failures[response.status] += 1
            for attempt in range(1, retries + 1):
                retry = await sender.event(events[n], event_id=event_id, retry_num=attempt)
                if retry.status != 200:
                    failures[retry.status] += 1

    started = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for n in range(count):
        if rate > 0:
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    if failures:
        print(f"non-200 acks: {dict(failures)}", file=sys.stderr)
    return latencies, events, wall


async def main(args: argparse.Namespace) -> int:
    fake = FakeSlack()
    await fake.start()
    store_dir = tempfile.TemporaryDirectory() if args.store else None
    store_path = Path(store_dir.name) / "bench.db" if store_dir else None
    process, base = await start_bot(fake, store_path)
    try:
        connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            sender = SlackSender(session, f"{base}/slack/events")
            # Warm up: auth.test, imports, connection pools.
            await fire(sender, "Warm", args.warmup, 0, min(args.concurrency, 8), 0)
            await fake.wait_for_calls("chat.postMessage", count=args.warmup, within=60)
            fake.calls.clear()
            bot_cpu_before = cpu_seconds(process.pid)
            own_cpu_before = time.process_time()

            latencies, events, ack_wall = await fire(
                sender, "Load", args.events, args.rate, args.concurrency, args.retries
            )
            answered_started = time.perf_counter() - ack_wall
            await fake.wait_for(
                lambda f: len(f.delivered("chat.postMessage")) >= args.events, within=120
            )
            answered_wall = time.perf_counter() - answered_started
            bot_cpu = cpu_seconds(process.pid) - bot_cpu_before
            own_cpu = time.process_time() - own_cpu_before
            # Give duplicates, if any, a moment to show up before counting.
            await asyncio.sleep(1.0)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.wait()
        await fake.close()
        if store_dir is not None:
            store_dir.cleanup()

    replies = Counter(
        (c.body.get("channel"), c.body.get("thread_ts")) for c in fake.delivered("chat.postMessage")
    )
    expected = {(e["channel"], e["ts"]) for e in events}
    missing = [key for key in expected if replies[key] == 0]
    doubled = [key for key in expected if replies[key] > 1]
    strays = [key for key in replies if key not in expected]
    ms = [s * 1000 for s in latencies]
    result = {
        "events": args.events,
        "deliveries": args.events * (1 + args.retries),
        "rate_target": args.rate or "max",
        "concurrency": args.concurrency,
        "store": bool(args.store),
        "acked_per_second": round(len(latencies) / ack_wall, 1),
        "answered_per_second": round(args.events / answered_wall, 1),
        "ack_ms_p50": round(statistics.median(ms), 2),
        "ack_ms_p90": round(percentile(ms, 0.90), 2),
        "ack_ms_p99": round(percentile(ms, 0.99), 2),
        "ack_ms_max": round(max(ms), 2),
        "bot_cpu_ms_per_event": round(bot_cpu * 1000 / args.events, 2),
        "load_and_fake_cpu_ms_per_event": round(own_cpu * 1000 / args.events, 2),
        "missing": len(missing),
        "doubled": len(doubled),
        "strays": len(strays),
    }
    if args.json:
        print(json.dumps(result))
    else:
        width = max(map(len, result))
        for key, value in result.items():
            print(f"{key.ljust(width)}  {value}")
        verdict = "yes" if not (missing or doubled or strays) else "NO"
        print(f"{'exactly_once'.ljust(width)}  {verdict}")
    return 0 if not (missing or doubled or strays) else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events to send (default 2000)")
    parser.add_argument(
        "--rate", type=float, default=250, help="events per second; 0: as fast as possible"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    parser.add_argument(
        "--retries", type=int, default=0, help="resend each event this many times as Slack retries"
    )
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured events first")
    parser.add_argument(
        "--store", action="store_true", help="store replies in a temporary SQLite file"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
