"""What storing replies costs the bot: the Slack load run with storage off and on, and the store's
own write times on SQLite.

1. The Slack load script (benchmarks/slack_load.py: ``python -m bot serve --http`` as a real
   process, the fake Slack of tests/slack, signed ``app_mention`` events on loopback) runs
   alternately without and with ``--store`` (replies in a fresh SQLite file), ``--rounds``
   times each, in two modes: as fast as it goes (events/s) and at a steady 250 events/s (ack
   latency when not saturated). Medians over rounds, and their ratios on/off. On a small shared
   machine the load generator, the fake Slack and the bot share the CPUs, so ack p99 varies a
   lot from run to run; the bot's CPU time per event is the steadiest measure of the cost.
2. In process: the cost of ``record_reply`` on the reply path (a hash and a queue put), the
   background writer's batch times, a single-row insert's time, and a vote's round trip.

Run: .venv/bin/python benchmarks/storage_overhead.py [--events 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.reply import ReplyKind  # noqa: E402
from bot.ports import ReplyRecord, Vote  # noqa: E402
from bot.settings import Secret, Settings  # noqa: E402
from bot.storage.store import SqlReplyStore  # noqa: E402
from bot.storage.writes import insert_replies  # noqa: E402

SECRET = "benchmark-user-hash-secret-0123456789"
LOAD_SCRIPT = ROOT / "benchmarks" / "slack_load.py"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def slack_load(events: int, *, rate: float, concurrency: int, store: bool) -> dict[str, object]:
    """One run of the Slack load script; its one-line JSON result."""
    command = [sys.executable, str(LOAD_SCRIPT), "--json", "--events", str(events)]
    command += ["--rate", str(rate), "--concurrency", str(concurrency)]
    if store:
        command.append("--store")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"slack_load.py failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _record(number: int, kind: ReplyKind) -> ReplyRecord:
    return ReplyRecord(
        reply_id=f"bench-{number}",
        created_at=datetime.now(UTC),
        team_id="T0BENCH",
        channel_type="channel",
        kind=kind.value,
        intent=None if kind is ReplyKind.NOT_IN_SOURCE else "hackathon-companies",
        confidence=0.8,
        latency_ms=1.5,
        user_id=f"U{number % 50}",
        question="how much did the hackathon cost",
    )


async def store_figures(directory: Path, replies: int, votes: int) -> dict[str, float]:
    settings = Settings(
        database_url=f"sqlite:///{directory / 'store.db'}", user_hash_secret=Secret(SECRET)
    )
    store = SqlReplyStore.open(settings)
    try:
        record_times: list[float] = []
        for number in range(replies):
            kind = ReplyKind.NOT_IN_SOURCE if number % 5 == 0 else ReplyKind.ANSWER
            record = _record(number, kind)
            started = time.perf_counter()
            await store.record_reply(record)
            record_times.append(time.perf_counter() - started)
        await store.flush()
        batches = list(store.writer.stats.batch_seconds)
        vote_times: list[float] = []
        for number in range(votes):
            started = time.perf_counter()
            await store.record_vote(
                reply_id=f"bench-{number}", user_id=f"V{number}", vote=Vote.DOWN
            )
            vote_times.append(time.perf_counter() - started)
        single_times: list[float] = []
        for number in range(votes):
            values = store.policy.reply_values(_record(replies + number, ReplyKind.ANSWER))
            started = time.perf_counter()
            insert_replies(store.database.engine, [values])
            single_times.append(time.perf_counter() - started)
    finally:
        await store.aclose()
    return {
        "record_reply_p50_ms": statistics.median(record_times) * 1000,
        "record_reply_p99_ms": percentile(record_times, 0.99) * 1000,
        "writer_batches": float(len(batches)),
        "writer_batch_p99_ms": percentile(batches, 0.99) * 1000,
        "single_insert_p50_ms": statistics.median(single_times) * 1000,
        "single_insert_p99_ms": percentile(single_times, 0.99) * 1000,
        "vote_round_trip_p50_ms": statistics.median(vote_times) * 1000,
        "vote_round_trip_p99_ms": percentile(vote_times, 0.99) * 1000,
    }


def _median(results: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(str(result[key])) for result in results)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="off/on runs of each mode")
    parser.add_argument("--replies", type=int, default=5000)
    parser.add_argument("--votes", type=int, default=1000)
    args = parser.parse_args()

    modes = {"max": 0.0, "250/s": 250.0}
    runs: dict[tuple[str, bool], list[dict[str, object]]] = {}
    for _round in range(args.rounds):
        for mode, rate in modes.items():
            for store in (False, True):
                result = slack_load(
                    args.events, rate=rate, concurrency=args.concurrency, store=store
                )
                runs.setdefault((mode, store), []).append(result)
    print(
        f"Slack load (benchmarks/slack_load.py): {args.events} app_mention events, "
        f"{args.concurrency} in flight, medians of {args.rounds} alternating runs"
    )
    print(
        f"{'mode':7}{'storage':9}{'answered/s':>11}{'ack p50 ms':>12}{'ack p99 ms':>12}"
        f"{'bot CPU ms/event':>18}"
    )
    for mode in modes:
        for store in (False, True):
            results = runs[(mode, store)]
            print(
                f"{mode:7}{'on' if store else 'off':9}"
                f"{_median(results, 'answered_per_second'):>11.0f}"
                f"{_median(results, 'ack_ms_p50'):>12.1f}{_median(results, 'ack_ms_p99'):>12.1f}"
                f"{_median(results, 'bot_cpu_ms_per_event'):>18.2f}"
            )
        off, on = runs[(mode, False)], runs[(mode, True)]
        rate_ratio = _median(on, "answered_per_second") / _median(off, "answered_per_second")
        p99_ratio = _median(on, "ack_ms_p99") / _median(off, "ack_ms_p99")
        cpu_ratio = _median(on, "bot_cpu_ms_per_event") / _median(off, "bot_cpu_ms_per_event")
        print(
            f"{'':7}ratio on/off: events/s {rate_ratio:.2f}, p99 ack {p99_ratio:.2f}, "
            f"bot CPU per event {cpu_ratio:.2f}"
        )
    exactly_once = all(
        result["missing"] == result["doubled"] == result["strays"] == 0
        for results in runs.values()
        for result in results
    )
    print(f"every event answered exactly once in every run: {exactly_once}")

    with tempfile.TemporaryDirectory() as scratch:
        figures = await store_figures(Path(scratch), args.replies, args.votes)
    print(f"Store on SQLite, in process ({args.replies} replies, {args.votes} votes):")
    for name, value in figures.items():
        print(f"  {name:26}{value:>10.3f}")


if __name__ == "__main__":
    asyncio.run(main())
