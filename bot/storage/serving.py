"""What ``python -m bot serve`` takes from the storage layer, behind two small calls.

- :func:`open_reply_store`: the SQL reply store when ``STORE_REPLIES`` is on (the default;
  SQLite needs no set-up), else None and the Slack layer keeps replies in memory.
- :func:`open_installs`: the many-workspace OAuth set-up when :func:`oauth_mode` says so.

Both open the database off the event loop (a connection and perhaps a migration).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.core.knowledge import KnowledgeBase
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.storage.oauth import OAuthInstalls
    from bot.storage.store import SqlReplyStore


async def open_reply_store(settings: Settings) -> SqlReplyStore | None:
    if not settings.store_replies:
        return None
    from bot.storage.store import SqlReplyStore

    return await asyncio.to_thread(SqlReplyStore.open, settings)


def installs_into_many_workspaces(settings: Settings) -> bool:
    from bot.storage.oauth import oauth_mode

    return oauth_mode(settings)


async def open_installs(settings: Settings, kb: KnowledgeBase) -> OAuthInstalls | None:
    if not installs_into_many_workspaces(settings):
        return None
    from bot.storage.oauth import open_oauth

    return await asyncio.to_thread(open_oauth, settings, kb)
