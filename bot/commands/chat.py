"""``python -m bot chat``: talk to the bot in a terminal, without Slack.

Like errbot's text backend: the same router and wording as in Slack, rendered as plain text.
Line editing and history come from readline where the platform has it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from bot.commands._core import add_knowledge_option, load_router
from bot.core.messages import MessageKey
from bot.core.render import render_terminal

QUIT_WORDS = frozenset({"quit", "exit", ":q", "/quit"})
HISTORY_FILE = Path.home() / ".hackathon_bot_history"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-history", action="store_true", help="do not read or save history")
    add_knowledge_option(parser)


def _enable_history() -> Callable[[], None]:
    """Turn on readline history; return a function that saves it."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline
        return lambda: None
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY_FILE)
    readline.set_history_length(500)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY_FILE)

    return save


def run(args: argparse.Namespace) -> int:
    kb, router = load_router(args)
    interactive = sys.stdin.isatty()
    save_history = _enable_history() if interactive and not args.no_history else (lambda: None)
    print(kb.message(MessageKey.TERMINAL_CHAT_INTRO))
    try:
        while True:
            try:
                line = input("you> " if interactive else "")
            except EOFError:
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            if not line.strip():
                continue
            print(render_terminal(kb, router.reply(line)), end="\n\n", flush=True)
    finally:
        save_history()
    print(kb.message(MessageKey.TERMINAL_CHAT_BYE))
    return 0
