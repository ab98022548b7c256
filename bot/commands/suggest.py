"""``python -m bot suggest``: print YAML alternates for existing entries, for curators to paste.

Nothing is applied: the output only proposes.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.commands.report import days_argument
from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from bot.settings import Settings
from bot.storage.curation import collect
from bot.storage.database import Database
from bot.storage.suggestions import DEFAULT_MIN_SCORE, propose, render_yaml


def score_argument(text: str) -> float:
    try:
        score = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= score <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return score


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=days_argument,
        default=None,
        metavar="DAYS",
        help="use the last DAYS days (default: RETENTION_DAYS)",
    )
    parser.add_argument(
        "--min-score",
        type=score_argument,
        default=DEFAULT_MIN_SCORE,
        metavar="SCORE",
        help=f"nearest-entry score a near miss needs (0..1, default {DEFAULT_MIN_SCORE})",
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    days: int = args.since or settings.retention_days
    kb = load_knowledge(settings.knowledge_dir)
    router = Router(kb)
    database = Database.open_existing(settings)  # creates and migrates nothing
    try:
        data = collect(
            database.engine, kb, router, days=days, now=datetime.now(UTC), max_groups=200
        )
    finally:
        database.close()
    sys.stdout.write(render_yaml(propose(data, kb, min_score=args.min_score), kb, days=days))
    return 0
