"""The bot's own identity, verified once with ``auth.test`` and then served from memory.

Bolt's single-workspace authorisation calls ``auth.test`` on the first request and on every
request after a failure, *before* the listener acknowledges: with the Web API unreachable,
every request waited for its retries and got a 500. Here the token is verified at start-up
(:meth:`BotIdentity.verify`, retried), the result is cached, and Bolt's ``authorize`` hook
answers from the cache without a network call. A token Slack refuses stops start-up with one
line; a Web API that cannot be reached leaves the bot serving, *degraded*, and verifying again
in the background until it can.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import SettingsError
from bot.slack.failures import describe_error

log = logging.getLogger(__name__)

VERIFY_ATTEMPTS = 3
VERIFY_DELAY_SECONDS = 1.0
REVERIFY_SECONDS = 15.0
VERIFY_TIMEOUT_SECONDS = 5.0  # per attempt: a Slack that does not answer is unreachable

# auth.test errors that mean the token itself is wrong: no retry will help.
_REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class BotIdentity:
    """The verified ``auth.test`` result for one bot token, and whether Slack is reachable."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.result: AuthorizeResult | None = None
        self.reachable = True  # until a verification finds otherwise
        self._background: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"BotIdentity(verified={self.result is not None}, reachable={self.reachable})"

    @property
    def degraded(self) -> bool:
        """True while the Web API could not be reached, or the token is not yet verified."""
        return self.result is None or not self.reachable

    async def verify(
        self,
        client: AsyncWebClient,
        *,
        attempts: int = VERIFY_ATTEMPTS,
        delay: float = VERIFY_DELAY_SECONDS,
    ) -> bool:
        """Call ``auth.test`` (up to ``attempts`` times); True once verified.

        Raises :class:`SettingsError` when Slack refuses the token.
        """
        for attempt in range(1, max(1, attempts) + 1):
            try:
                async with asyncio.timeout(VERIFY_TIMEOUT_SECONDS):
                    response = await client.auth_test(token=self._token)
            except SlackApiError as error:
                data = getattr(error.response, "data", None)
                code = data.get("error") if isinstance(data, dict) else None
                if code in _REFUSED:
                    raise SettingsError(
                        "SLACK_BOT_TOKEN", f"was refused by Slack's auth.test ({code})"
                    ) from None
                reason = describe_error(error)
            except Exception as error:  # unreachable, timed out, an unreadable answer
                reason = describe_error(error)
            else:
                self.result = _authorize_result(response.data, self._token)
                if not self.reachable:
                    log.info("the Slack Web API is reachable again")
                self.reachable = True
                return True
            if attempt < attempts:
                await asyncio.sleep(delay)
        if self.reachable:
            log.warning(
                "the Slack Web API cannot be reached (auth.test: %s); serving degraded, "
                "verifying again every %.0f s",
                reason,
                REVERIFY_SECONDS,
            )
        self.reachable = False
        return False

    def bot_user_id(self) -> str | None:
        return self.result.bot_user_id if self.result is not None else None

    def mark_unreachable(self) -> None:
        """A Web API call could not reach Slack: report degraded until a verification works."""
        if self.reachable:
            log.warning("the Slack Web API cannot be reached; serving degraded")
        self.reachable = False

    def keep_verifying(self, client: AsyncWebClient, every: float = REVERIFY_SECONDS) -> None:
        """Verify again in the background every ``every`` seconds while degraded."""
        if self._background is not None and not self._background.done():
            return

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                if self.degraded:
                    try:
                        await self.verify(client, attempts=1)
                    except SettingsError as error:
                        log.error("%s", error)

        self._background = asyncio.get_running_loop().create_task(loop(), name="auth-test")

    async def stop(self) -> None:
        if self._background is not None:
            self._background.cancel()
            await asyncio.gather(self._background, return_exceptions=True)
            self._background = None

    def authorize_hook(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's ``authorize`` hook: the cached result, never a network call.

        Before the first verification it still hands Bolt the token (the reply will be tried,
        and fails or succeeds on its own), without the bot's user id. (A plain function:
        Bolt passes arguments by the names it finds, and would offer a method's ``self``.)
        """

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            if self.result is not None:
                return self.result
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                bot_token=self._token,
            )

        return authorize


def _authorize_result(data: Any, token: str) -> AuthorizeResult:
    fields = data if isinstance(data, dict) else {}

    def text(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) and value else None

    return AuthorizeResult(
        enterprise_id=text("enterprise_id"),
        team_id=text("team_id"),
        team=text("team"),
        url=text("url"),
        bot_user_id=text("user_id"),
        bot_id=text("bot_id"),
        bot_token=token,
    )
