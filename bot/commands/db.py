"""``python -m bot db upgrade|current``: apply or inspect the storage schema migrations."""

from __future__ import annotations

import argparse

from bot.settings import Settings
from bot.storage.engine import check_connection, describe_location, make_engine
from bot.storage.migrate import current_revision, head_revision, upgrade


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply every migration not yet applied")
    actions.add_parser("current", help="show the schema revision of the database")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        where = describe_location(engine.url)
        if args.action == "upgrade":
            before, after = upgrade(engine)
            if before == after:
                print(f"{where}: schema already at {after}")
            else:
                print(f"{where}: schema upgraded from {before or 'empty'} to {after}")
            return 0
        current, head = current_revision(engine), head_revision()
        state = (
            "up to date" if current == head else f"behind {head}; run 'python -m bot db upgrade'"
        )
        print(f"{where}: schema at {current or 'empty'} ({state})")
        return 0 if current == head else 1
    finally:
        engine.dispose()
