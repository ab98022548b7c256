"""``python -m bot demo``: a throwaway SQLite database of synthetic use, to try the curators'
report and ``suggest`` without Slack, and the commands to look at them."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.commands._core import add_knowledge_option, knowledge_dir
from bot.commands.report import days_argument
from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from bot.settings import Secret, Settings, SettingsError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="the SQLite file to create (default: demo.db in a new temporary directory); "
        "never an existing file",
    )
    parser.add_argument(
        "--replies", type=_count, default=300, metavar="N", help="how many replies (300)"
    )
    parser.add_argument(
        "--days", type=days_argument, default=30, metavar="DAYS", help="spread over (30)"
    )
    add_knowledge_option(parser)


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 100000")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from bot.storage.demo import fill
    from bot.storage.store import SqlReplyStore

    out: Path = args.out or Path(tempfile.mkdtemp(prefix="hackathon-bot-demo-")) / "demo.db"
    out = out.resolve()
    if out.exists():
        raise SettingsError("--out", f"{out} exists; the demo only creates a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    knowledge = knowledge_dir(args)
    router = Router(load_knowledge(knowledge))
    settings = Settings(
        database_url=f"sqlite:///{out}",
        # A key of its own, kept nowhere: the demo's user hashes mean nothing.
        user_hash_secret=Secret(secrets.token_hex(32)),
    )

    async def make() -> tuple[int, int, int]:
        store = SqlReplyStore.open(settings)
        try:
            counts = await fill(
                store, router, now=datetime.now(UTC), replies=args.replies, days=args.days
            )
        finally:
            await store.aclose()
        return counts.replies, counts.votes, counts.choices

    replies, votes, choices = asyncio.run(make())
    url = f"sqlite:///{out}"
    print(
        f"Made a demo database of synthetic use (nobody's data): {replies} replies, "
        f'{votes} votes and {choices} "did you mean" choices over {args.days} days, in\n'
        f"  {out}\n\n"
        "Look at it with:\n"
        f"  DATABASE_URL={url} python -m bot report --out demo-report.html\n"
        f"  DATABASE_URL={url} python -m bot report --format md --out -\n"
        f"  DATABASE_URL={url} python -m bot suggest\n\n"
        f"Delete {out.parent} when done."
    )
    return 0
