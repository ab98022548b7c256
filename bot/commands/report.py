"""``python -m bot report``: write the curators' report from the stored replies.

``--format html`` (the default) writes one self-contained page; ``--format md`` writes text.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.core.knowledge import load_knowledge
from bot.core.messages import MessageKey
from bot.core.router import Router
from bot.settings import Settings
from bot.storage.curation import collect
from bot.storage.database import Database
from bot.storage.report import render_html, render_markdown

MAX_DAYS = 3650


def days_argument(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_DAYS} days")
    return days


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=days_argument,
        default=30,
        metavar="DAYS",
        help="cover the last DAYS days (30)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write it (report.html or report.md; '-' for standard output)",
    )
    parser.add_argument(
        "--format", choices=("html", "md"), default=None, help="html (default) or md"
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    out: Path | None = args.out
    form: str = args.format or ("md" if out is not None and out.suffix == ".md" else "html")
    if out is None:
        out = Path(f"report.{form}")
    kb = load_knowledge(settings.knowledge_dir)
    router = Router(kb)
    database = Database.open_existing(settings)  # creates and migrates nothing
    try:
        now = datetime.now(UTC)
        data = collect(database.engine, kb, router, days=args.since, now=now)
        render = render_markdown if form == "md" else render_html
        text = render(data, kb, generated_at=now, database=database.location)
    finally:
        database.close()
    if str(out) == "-":
        sys.stdout.write(text)
        return 0
    out.write_text(text, encoding="utf-8")
    print(kb.message(MessageKey.REPORT_WRITTEN, path=out))
    return 0
