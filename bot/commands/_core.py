"""What the core commands share: the --knowledge option and building the router once."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.router import Router
from bot.settings import Settings


def add_knowledge_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=None,
        metavar="DIR",
        help="knowledge directory (default: $BOT_KNOWLEDGE_DIR or the bundled knowledge/)",
    )


def load_router(args: argparse.Namespace) -> tuple[KnowledgeBase, Router]:
    directory = args.knowledge or Settings.from_env().knowledge_dir
    kb = load_knowledge(directory)
    return kb, Router(kb)
