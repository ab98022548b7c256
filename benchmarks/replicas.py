"""One replica against three: events per second, ack latency and memory on this machine.

For each replica count it starts the fake Slack Web API (tests/slack/fake_slack.py) in this
process and that many ``python -m bot serve --http`` processes sharing duplicate suppression in
Redis, then fires signed ``app_mention`` events at them round-robin, as a load balancer would,
as fast as ``--concurrency`` allows. It reports acked and answered events per second, ack
latency p50 and p99, the resident memory of each replica (its supervisor and workers added up;
RSS counts pages the workers share with the supervisor once per process, PSS splits them), and
the 3-to-1 ratios. Every event must be answered exactly once.

    python benchmarks/replicas.py                         # 1 and 3 replicas, 1500 events each
    python benchmarks/replicas.py --workers 2 --events 3000
    python benchmarks/replicas.py --json

The load generator and the fake Slack share the machine's cores with the replicas: on a
2-core machine, three replicas compete with each other and with the generator, so the ratio
says what more processes buy here, not what more machines would. Needs Redis
(``--redis-url``, default ``$TEST_REDIS_URL`` or redis://127.0.0.1:6379/0). Exit status 1
when an event was not answered exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.deploy.replicas import (  # noqa: E402
    Event,
    Replica,
    deliver,
    replica_environment,
    replies_by_ts,
    wait_until_settled,
)
from tests.slack.fake_slack import FakeSlack  # noqa: E402

QUESTIONS = [
    "Which tech companies took part in the hackathon?",
    "Who co-hosted the hackathon?",
    "Who chairs the advertising taskforce?",
    "How much is the innovation call worth?",
    "What is the Child Abuse Image Database?",
    "How much did the hackathon cost?",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = [root]
    for pid in tree:
        tree.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def memory_mib(pid: int, field: str) -> float:
    """``Rss`` or ``Pss`` (shared pages split between their sharers) of a process tree."""
    total_kib = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def cpu_seconds(pid: int) -> float:
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    replicas: int
    workers: int
    events: int
    acked_per_second: float
    answered_per_second: float
    ack_ms_p50: float
    ack_ms_p99: float
    rss_mib_per_replica: list[float]
    pss_mib_per_replica: list[float]
    replica_cpu_ms_per_event: float
    generator_cpu_ms_per_event: float
    non_200: int
    missing: int
    doubled: int


async def fire(
    http: aiohttp.ClientSession, replicas: list[Replica], count: int, concurrency: int
) -> tuple[list[Event], list[float], int, float]:
    batch = [Event.mention(QUESTIONS[n % len(QUESTIONS)]) for n in range(count)]
    latencies: list[float] = []
    non_200 = 0
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        nonlocal non_200
        async with gate:
            attempt = await deliver(http, replicas[n % len(replicas)], batch[n], retry_num=None)
        latencies.append(attempt.seconds)
        if attempt.status != 200:
            non_200 += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return batch, latencies, non_200, time.perf_counter() - started


async def measure(args: argparse.Namespace, count: int) -> Run:
    fake = FakeSlack()
    await fake.start()
    prefix = f"hackathon-bot-bench:{uuid.uuid4().hex}:"
    env = replica_environment(fake, REDIS_URL=args.redis_url, REDIS_KEY_PREFIX=prefix)
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    replicas: list[Replica] = []
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            replicas = list(
                await asyncio.gather(
                    *(
                        Replica.start(f"replica-{n}", env, http, workers=args.workers)
                        for n in range(count)
                    )
                )
            )
            warm, *_ = await fire(http, replicas, args.warmup, min(args.concurrency, 8))
            await fake.wait_for_calls("chat.postMessage", count=len(warm), within=120)
            fake.calls.clear()
            cpu_before = sum(cpu_seconds(r.pid) for r in replicas)
            own_cpu_before = time.process_time()

            batch, latencies, non_200, ack_wall = await fire(
                http, replicas, args.events, args.concurrency
            )
            answered_from = time.perf_counter() - ack_wall
            await fake.wait_for(
                lambda f: len(replies_by_ts(f)) >= args.events, within=max(120, args.events / 10)
            )
            answered_wall = time.perf_counter() - answered_from
            cpu = sum(cpu_seconds(r.pid) for r in replicas) - cpu_before
            own_cpu = time.process_time() - own_cpu_before
            rss = [round(memory_mib(r.pid, "Rss"), 1) for r in replicas]
            pss = [round(memory_mib(r.pid, "Pss"), 1) for r in replicas]
            # Every delivery decided and every claimed reply sent: no duplicate still to come.
            await wait_until_settled(http, replicas, event_claims=args.warmup + args.events)
    finally:
        for replica in replicas:
            await replica.kill()
        await fake.close()
        await forget_keys(args.redis_url, prefix)

    replies = replies_by_ts(fake)
    ms = [s * 1000 for s in latencies]
    return Run(
        replicas=count,
        workers=args.workers,
        events=args.events,
        acked_per_second=round(args.events / ack_wall, 1),
        answered_per_second=round(args.events / answered_wall, 1),
        ack_ms_p50=round(statistics.median(ms), 2),
        ack_ms_p99=round(percentile(ms, 0.99), 2),
        rss_mib_per_replica=rss,
        pss_mib_per_replica=pss,
        replica_cpu_ms_per_event=round(cpu * 1000 / args.events, 2),
        generator_cpu_ms_per_event=round(own_cpu * 1000 / args.events, 2),
        non_200=non_200,
        missing=sum(1 for e in batch if not replies.get(e.ts)),
        doubled=sum(1 for e in batch if len(replies.get(e.ts, [])) > 1),
    )


async def forget_keys(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


async def main(args: argparse.Namespace) -> int:
    runs = [await measure(args, count) for count in args.replicas]
    first, last = runs[0], runs[-1]
    ratios = {
        f"events_per_second_{last.replicas}_to_{first.replicas}": round(
            last.acked_per_second / first.acked_per_second, 2
        ),
        f"answered_per_second_{last.replicas}_to_{first.replicas}": round(
            last.answered_per_second / first.answered_per_second, 2
        ),
        f"ack_p99_{last.replicas}_to_{first.replicas}": round(
            last.ack_ms_p99 / first.ack_ms_p99, 2
        ),
    }
    failed = any(r.missing or r.doubled or r.non_200 for r in runs)
    if args.json:
        print(
            json.dumps(
                {"runs": [r.__dict__ for r in runs], "ratios": ratios, "cores": os.cpu_count()}
            )
        )
        return 1 if failed else 0
    print(f"{os.cpu_count()} cores; {args.events} events per run, {args.concurrency} in flight")
    header = (
        "replicas",
        "workers",
        "acked/s",
        "answered/s",
        "ack p50 ms",
        "ack p99 ms",
        "RSS MiB per replica",
        "PSS MiB per replica",
        "replica CPU ms/event",
        "load+fake CPU ms/event",
        "exactly once",
    )
    rows = [
        (
            r.replicas,
            r.workers,
            r.acked_per_second,
            r.answered_per_second,
            r.ack_ms_p50,
            r.ack_ms_p99,
            ", ".join(f"{m:.0f}" for m in r.rss_mib_per_replica),
            ", ".join(f"{m:.0f}" for m in r.pss_mib_per_replica),
            r.replica_cpu_ms_per_event,
            r.generator_cpu_ms_per_event,
            "yes"
            if not (r.missing or r.doubled or r.non_200)
            else f"NO ({r.missing} missing, {r.doubled} doubled, {r.non_200} non-200)",
        )
        for r in runs
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
    for name, value in ratios.items():
        print(f"{name}: {value}")
    return 1 if failed else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1500, help="events per run (default 1500)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    parser.add_argument(
        "--replicas",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 3],
        help="replica counts to compare, first to last (default 1,3)",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes per replica")
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured events first")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0",
        help="the Redis the replicas share",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
