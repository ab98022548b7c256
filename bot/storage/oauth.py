"""Installing the bot into many workspaces: Slack's OAuth flow over slack_sdk's SQLAlchemy stores.

When ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and ``SLACK_SIGNING_SECRET`` are set and
``SLACK_BOT_TOKEN`` is not, ``python -m bot serve --http`` serves ``/slack/install`` and
``/slack/oauth_redirect``. Installations and OAuth states live in the bot's own database
(tables made by migration 0002), through slack_sdk's ``SQLAlchemyInstallationStore`` and
``SQLAlchemyOAuthStateStore``. Those are synchronous, so the async app reaches them through
thin adapters that run each call in a worker thread.

- An OAuth state expires after 10 minutes and is consumed by one atomic ``DELETE``: a replayed
  or concurrent second use finds nothing.
- ``tokens_revoked`` (bot tokens) and ``app_uninstalled`` delete the team's installation, so
  later events for that team find no token and make no API calls.
- Token rotation: when the app has it on, Slack returns refresh tokens and Bolt refreshes them
  shortly before they expire (``token_rotation_expiration_minutes``), saving them here.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, delete

from bot.core.knowledge import KnowledgeBase
from bot.core.messages import MessageKey
from bot.settings import Settings
from bot.storage.database import Database

log = logging.getLogger(__name__)

# The bot scopes the app asks for; deploy/slack-app-manifest.yaml asks for the same.
BOT_SCOPES = ("app_mentions:read", "assistant:write", "chat:write", "commands", "im:history")
STATE_EXPIRATION_SECONDS = 600
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def oauth_mode(settings: Settings) -> bool:
    """True when the app installs into many workspaces instead of using one bot token."""
    return (
        settings.slack_bot_token is None
        and settings.slack_client_id is not None
        and settings.slack_client_secret is not None
        and settings.slack_signing_secret is not None
    )


def _naive_utc(moment: datetime) -> datetime:
    # slack_sdk's tables hold naive UTC times.
    return moment.astimezone(UTC).replace(tzinfo=None)


class SingleUseOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store, consuming a state with one atomic ``DELETE``.

    The library selects and then deletes, so two callbacks racing with the same state could
    both succeed; here only the one whose ``DELETE`` removed the row does.
    """

    def consume(self, state: str) -> bool:
        table = self.oauth_states
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(table).where(
                    table.c.state == state, table.c.expire_at > _naive_utc(datetime.now(UTC))
                )
            )
        return result.rowcount == 1


class ThreadedInstallationStore(AsyncInstallationStore):
    """The async face Bolt needs, over slack_sdk's synchronous SQLAlchemy installation store."""

    def __init__(self, store: SQLAlchemyInstallationStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found: Bot | None = await asyncio.to_thread(
            self.store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found: Installation | None = await asyncio.to_thread(
            self.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.store.delete_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_all, enterprise_id=enterprise_id, team_id=team_id)


class ThreadedOAuthStateStore(AsyncOAuthStateStore):
    """The async face Bolt needs, over :class:`SingleUseOAuthStateStore`."""

    def __init__(self, store: SingleUseOAuthStateStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state: str = await asyncio.to_thread(self.store.issue)
        return state

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)


def _page(title: str, message: str, link: str | None = None) -> str:
    action = f'<p><a href="{html.escape(link)}">{html.escape(title)}</a></p>' if link else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<p>{html.escape(message)}</p>{action}</body></html>"
    )


def failure_handler(kb: KnowledgeBase) -> Callable[[AsyncFailureArgs], Any]:
    """Installation failures explained in plain words (from the ``storage`` messages)."""
    known = {
        "invalid_state": MessageKey.STORAGE_INSTALL_FAILED_INVALID_STATE,
        "invalid_browser": MessageKey.STORAGE_INSTALL_FAILED_INVALID_BROWSER,
        "access_denied": MessageKey.STORAGE_INSTALL_FAILED_ACCESS_DENIED,
        "invalid_code": MessageKey.STORAGE_INSTALL_FAILED_INVALID_CODE,
        "missing_code": MessageKey.STORAGE_INSTALL_FAILED_MISSING_CODE,
    }

    async def on_failure(args: AsyncFailureArgs) -> BoltResponse:
        key = args.reason if args.reason in known else "other"
        reason = args.reason[:60]
        wording = known.get(args.reason, MessageKey.STORAGE_INSTALL_FAILED_OTHER)
        message = kb.message(wording, reason=reason)
        log.info("an installation failed: %s", key)
        body = _page(
            kb.message(MessageKey.STORAGE_INSTALL_AGAIN), message, args.settings.install_path
        )
        return BoltResponse(
            status=args.suggested_status_code,
            body=body,
            headers={"Content-Type": "text/html; charset=utf-8"},
        )

    return on_failure


async def _on_success(args: AsyncSuccessArgs) -> BoltResponse:
    log.info("installed into a workspace (team %s)", args.installation.team_id)
    response: BoltResponse = await args.default.success(args)
    return response


def register_revocation_listeners(bolt: AsyncApp, store: AsyncInstallationStore) -> None:
    """Forget a workspace whose tokens were revoked or which uninstalled the app."""

    async def on_tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            await store.async_delete_all(
                enterprise_id=context.enterprise_id, team_id=context.team_id
            )
            log.info("bot token revoked: deleted the installation of team %s", context.team_id)
        for user_id in tokens.get("oauth") or []:
            await store.async_delete_installation(
                enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=user_id
            )

    async def on_app_uninstalled(context: AsyncBoltContext) -> None:
        await store.async_delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
        log.info("app uninstalled: deleted the installation of team %s", context.team_id)

    bolt.event("tokens_revoked")(on_tokens_revoked)
    bolt.event("app_uninstalled")(on_app_uninstalled)


@dataclass(slots=True)
class OAuthInstalls:
    """What the Slack app needs to install into many workspaces, over one database."""

    installation_store: ThreadedInstallationStore
    state_store: ThreadedOAuthStateStore
    oauth_settings: AsyncOAuthSettings
    database: Database

    def register(self, bolt: AsyncApp) -> None:
        register_revocation_listeners(bolt, self.installation_store)

    def close(self) -> None:
        self.database.close()


def build_stores(
    engine: Engine, client_id: str
) -> tuple[SQLAlchemyInstallationStore, SingleUseOAuthStateStore]:
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)
    states = SingleUseOAuthStateStore(
        expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine, logger=log
    )
    return installations, states


def open_oauth(
    settings: Settings,
    kb: KnowledgeBase,
    *,
    token_rotation_expiration_minutes: int = 120,
) -> OAuthInstalls:
    """Open the database (upgrading it as the settings say) and build the OAuth settings."""
    settings.require("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET")
    assert settings.slack_client_id is not None
    assert settings.slack_client_secret is not None
    database = Database.open(settings)
    installations, states = build_stores(database.engine, settings.slack_client_id)
    installation_store = ThreadedInstallationStore(installations)
    state_store = ThreadedOAuthStateStore(states)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.reveal(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installation_store,
        state_store=state_store,
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        token_rotation_expiration_minutes=token_rotation_expiration_minutes,
        callback_options=AsyncCallbackOptions(success=_on_success, failure=failure_handler(kb)),
        logger=log,
    )
    # Bolt's installation-store authorisation calls auth.test for every request, before the
    # ack, unless it caches: with the cache, once per bot token (a workspace's token is only
    # found, and so only used, while its installation is stored).
    authorize = oauth_settings.authorize
    if isinstance(authorize, AsyncInstallationStoreAuthorize):
        authorize.cache_enabled = True
    return OAuthInstalls(installation_store, state_store, oauth_settings, database)
