"""Building the Slack app: a Bolt ``AsyncApp`` over the pure core, with what its listeners need.

:func:`create_app` wires the router, the reply store and the event deduplicator into one
:class:`SlackServices` object that every listener reaches through Bolt's context, and gives
the Web API client slack_sdk's retry handlers (429 with Retry-After, 5xx, dropped
connections). Stores are injected, so the storage and deployment layers plug in durable or
shared ones; with no bot token, an ``installation_store`` / ``oauth_settings`` pair makes it
a multi-workspace app.

Call :func:`create_app` from a running event loop (it opens the HTTP session the Web API
client and ``response_url`` posts share) and :meth:`SlackApp.close` when done.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.router import Router
from bot.ports import ConversationStore, EventDeduplicator, ReplyStore
from bot.settings import Settings, SettingsError
from bot.slack.failures import is_unreachable
from bot.slack.identity import VERIFY_ATTEMPTS, VERIFY_DELAY_SECONDS, BotIdentity
from bot.slack.listeners import register_listeners
from bot.slack.memory import InMemoryConversationStore
from bot.slack.services import (
    SERVICES_KEY,
    ResponseUrlPoster,
    SlackServices,
    response_url_policy,
)
from bot.slack.signing import ValueSigner

log = logging.getLogger(__name__)


class _ClientTokenNotice(logging.Filter):
    """Drops Bolt's start-up warning that SLACK_BOT_TOKEN "will be unused": Bolt reads the
    variable itself, while the token reaches it through the ``authorize`` hook."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_CLIENT_TOKEN_NOTICE = _ClientTokenNotice()


class AnyServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """Retries every 5xx answer, not only 500 and 503 (gateways answer 502 and 504)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599


def button_signer(settings: Settings) -> ValueSigner:
    """The signer of button values, keyed from a secret every replica shares.

    The signing secret (HTTP); in Socket Mode the app-level token; failing both, a random key
    (buttons then verify only in this process).
    """
    for secret in (settings.slack_signing_secret, settings.slack_app_token):
        if secret is not None:
            return ValueSigner(secret.reveal())
    return ValueSigner.ephemeral()


def _noting_unreachable(identity: BotIdentity) -> Callable[[BaseException], None]:
    def note(error: BaseException) -> None:
        if is_unreachable(error):
            identity.mark_unreachable()

    return note


def web_api_retry_handlers() -> list[AsyncRetryHandler]:
    """Retries for Web API calls and ``response_url`` posts."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AnyServerErrorRetryHandler(max_retry_count=3),
    ]


@dataclass(slots=True)
class SlackApp:
    """The Bolt app, its services, and the HTTP session they share."""

    bolt: AsyncApp
    services: SlackServices
    session: aiohttp.ClientSession

    async def verify_token(
        self, *, attempts: int = VERIFY_ATTEMPTS, delay: float = VERIFY_DELAY_SECONDS
    ) -> bool:
        """Verify the bot token once (``auth.test``, retried) before serving.

        True when verified; False when Slack could not be reached (the app serves degraded and
        keeps verifying in the background). Raises SettingsError when Slack refuses the token.
        Nothing to do when installing into many workspaces.
        """
        identity = self.services.identity
        if identity is None:
            return True
        verified = await identity.verify(self.bolt.client, attempts=attempts, delay=delay)
        identity.keep_verifying(self.bolt.client)
        return verified

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Let in-flight replies finish (up to ``grace_seconds``), then close the session."""
        if not await self.services.work.wait_idle(grace_seconds):
            log.warning("closing with %d replies still in flight", self.services.work.running)
        if self.services.identity is not None:
            await self.services.identity.stop()
        await self.session.close()


def create_app(
    settings: Settings,
    router: Router,
    *,
    reply_store: ReplyStore,
    deduplicator: EventDeduplicator,
    conversations: ConversationStore | None = None,
    installation_store: AsyncInstallationStore | None = None,
    oauth_settings: AsyncOAuthSettings | None = None,
    retry_handlers: list[AsyncRetryHandler] | None = None,
) -> SlackApp:
    """The Slack app for ``router``'s knowledge.

    With ``SLACK_BOT_TOKEN`` set it serves that one workspace. Without it, pass an
    ``installation_store`` (and ``oauth_settings`` for the install pages) to serve many.
    """
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
    if token is None and installation_store is None and oauth_settings is None:
        raise SettingsError("SLACK_BOT_TOKEN", "is required (or configure OAuth installs)")
    signing_secret = (
        settings.slack_signing_secret.reveal() if settings.slack_signing_secret else None
    )
    handlers = web_api_retry_handlers() if retry_handlers is None else retry_handlers
    # The client carries no token of its own: Bolt gives each request's copy the token that
    # authorisation found (from BotIdentity's cache, or from the installation store).
    client = AsyncWebClient(base_url=settings.slack_api_base_url, retry_handlers=list(handlers))
    identity = BotIdentity(token) if token is not None else None
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_CLIENT_TOKEN_NOTICE)
    bolt = AsyncApp(
        name="hackathon-bot",
        client=client,
        signing_secret=signing_secret or "",
        # Socket Mode has no signatures to verify; HTTP mode always verifies (see server.py).
        request_verification_enabled=signing_secret is not None,
        installation_store=installation_store,
        oauth_settings=oauth_settings,
        authorize=identity.authorize_hook() if identity is not None else None,
    )
    # Installing into many workspaces: Bolt's installation-store authorisation calls auth.test
    # before acknowledging every request unless it caches; with the cache, once per bot token
    # (a token is only found, so only used, while its installation is stored).
    authorizer = getattr(bolt, "_async_authorize", None)
    if isinstance(authorizer, AsyncInstallationStoreAuthorize):
        authorizer.cache_enabled = True
    responses = ResponseUrlPoster(
        list(handlers), allowed=response_url_policy(settings.slack_api_base_url)
    )
    services = SlackServices(
        router=router,
        reply_store=reply_store,
        deduplicator=deduplicator,
        responses=responses,
        signer=button_signer(settings),
        identity=identity,
        conversations=conversations or InMemoryConversationStore(settings.conversation_ttl_seconds),
        contact=settings.contact,
    )
    if identity is not None:
        services.work.on_failure = _noting_unreachable(identity)

    async def attach_services(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        context[SERVICES_KEY] = services
        await next()

    bolt.use(attach_services)
    register_listeners(bolt)
    # Opened last, so that nothing above can fail and leave it unclosed. Bolt gives each
    # request a copy of the client that shares this session.
    session = aiohttp.ClientSession()
    client.session = session
    responses.session = session
    return SlackApp(bolt=bolt, services=services, session=session)
