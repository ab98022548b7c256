"""``python -m bot chat``: talk to the bot in a terminal, without Slack.

Like errbot's text backend: the same router and wording as in Slack, rendered as plain text,
with the same memory of the conversation (a follow-up such as "who uses it?" leans on the
previous answer) and the same way to reach a person (``CONTACT``).
Line editing and history come from readline where the platform has it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from bot.commands._core import add_knowledge_option, load_router
from bot.core.conversation import MAX_CONTEXT_INTENTS, with_contact
from bot.core.messages import MessageKey
from bot.core.render import render_terminal
from bot.core.reply import ReplyKind
from bot.settings import Settings

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
    contact = Settings.from_env().contact
    context: list[str] = []  # the entry ids of this session's answers, most recent last
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
            reply = with_contact(router.reply(line, context=context), kb, contact)
            if reply.kind is ReplyKind.ANSWER and reply.intent and kb.has_entry(reply.intent):
                context = [*context, reply.intent][-MAX_CONTEXT_INTENTS:]
            print(render_terminal(kb, reply), end="\n\n", flush=True)
    finally:
        save_history()
    print(kb.message(MessageKey.TERMINAL_CHAT_BYE))
    return 0
