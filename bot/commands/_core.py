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


def knowledge_dir(args: argparse.Namespace) -> Path:
    """The knowledge directory: --knowledge, else the settings' (environment or bundled)."""
    directory: Path = args.knowledge or Settings.from_env().knowledge_dir
    return directory


def load_router(args: argparse.Namespace) -> tuple[KnowledgeBase, Router]:
    kb = load_knowledge(knowledge_dir(args))
    return kb, Router(kb)
