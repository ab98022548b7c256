"""The ``python -m bot`` command line.

Each sub-command lives in its own module under ``bot.commands`` and is imported only when
it runs, so ``python -m bot ask`` never pays for the Slack or database libraries.
A command module provides ``configure(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from bot import __version__
from bot.settings import SettingsError

# name -> (module, one-line description); order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("bot.commands.ask", "answer a question (or one per line from stdin with -)"),
    "chat": ("bot.commands.chat", "talk to the bot in the terminal"),
    "check": ("bot.commands.check", "validate the knowledge base and print its coverage"),
    "eval": ("bot.commands.eval", "score the router on a question file"),
    "db": ("bot.commands.db", "apply (upgrade) or show (current) the storage schema migrations"),
    "purge": ("bot.commands.purge", "delete stored replies older than RETENTION_DAYS"),
    "report": ("bot.commands.report", "write the curators' report (HTML or Markdown)"),
    "suggest": ("bot.commands.suggest", "print YAML alternates proposed from what people asked"),
    "demo": ("bot.commands.demo", "make a throwaway database of synthetic use to try the report"),
    "serve": ("bot.commands.serve", "run the Slack app (--socket, or --http --port 3000)"),
}


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class UsageError(Exception):
    """A command was called wrongly; the message is shown with exit status 2."""


def _overview() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: python -m bot COMMAND [options]   (version {__version__})",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {about}" for name, (_, about) in COMMANDS.items()]
    lines += ["", "Run 'python -m bot COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_overview())
        return 0 if args else 2
    if args[0] == "--version":
        print(__version__)
        return 0
    name = args[0]
    if name not in COMMANDS:
        print(f"python -m bot: unknown command {name!r}\n\n{_overview()}", file=sys.stderr)
        return 2
    module_name, about = COMMANDS[name]
    module = cast(CommandModule, importlib.import_module(module_name))
    parser = argparse.ArgumentParser(prog=f"python -m bot {name}", description=about)
    module.configure(parser)
    parsed = parser.parse_args(args[1:])
    # Imported here (it loads numpy), so that `--help` and `--version` stay quick.
    from bot.blas import one_thread

    one_thread()  # numpy's BLAS on one thread for the whole process (bot/blas.py)
    # Imported here so that a broken knowledge file is reported the same way by every command.
    from bot.core.knowledge import KnowledgeError

    try:
        return module.run(parsed)
    except (SettingsError, KnowledgeError, UsageError) as error:
        print(f"python -m bot {name}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of standard output closed it (``... | head``): stop quietly, as a Unix tool
    killed by SIGPIPE does, without the traceback or the "Exception ignored" line Python's own
    flush at exit would print."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE
