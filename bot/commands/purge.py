"""``python -m bot purge``: delete stored replies older than ``RETENTION_DAYS``, saying how many."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.retention import delete_expired_oauth_states, purge_before


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Run it daily (cron, a Kubernetes CronJob) to keep the retention promise."


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    database = Database.open(settings)
    try:
        now = datetime.now(UTC)
        counts = purge_before(database.engine, now - timedelta(days=settings.retention_days))
        expired_states = delete_expired_oauth_states(database.engine, now)
    finally:
        database.close()
    print(
        f"Deleted {_count(counts.replies, 'reply', 'replies')} older than "
        f"{_count(settings.retention_days, 'day', 'days')} "
        f"(with {_count(counts.votes, 'vote', 'votes')} "
        f"and {_count(counts.choices, 'clarify choice', 'clarify choices')})."
    )
    if expired_states:
        print(f"Deleted {_count(expired_states, 'expired install link', 'expired install links')}.")
    return 0
