"""What the Slack listeners work with, reached through Bolt's request context.

:class:`SlackServices` holds the router (swappable while serving, for knowledge reloads),
the reply store, the event deduplicator, the ``response_url`` poster and the tracker of work
done after the ack. :func:`services_of` fetches it in a listener.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.conversation import with_contact
from bot.core.knowledge import KnowledgeBase
from bot.core.reply import Reply, ReplyKind
from bot.core.router import Router
from bot.ports import ConversationStore, EventDeduplicator, ReplyRecord, ReplyStore
from bot.slack.blocks import Origin, SlackMessage
from bot.slack.failures import ReportedError
from bot.slack.identity import BotIdentity
from bot.slack.memory import InMemoryConversationStore
from bot.slack.signing import ValueSigner
from bot.slack.work import InFlightWork

log = logging.getLogger(__name__)

SERVICES_KEY = "hackathon_bot_services"


class ResponseUrlError(Exception):
    """Slack did not accept a post to a ``response_url``."""

    def __init__(self, status: int) -> None:
        super().__init__(f"response_url post failed with HTTP {status}")
        self.status = status


class ResponseUrlRefusedError(ReportedError):
    """A ``response_url`` pointed somewhere other than Slack: nothing was posted."""


Origin_ = tuple[str, str, int]  # scheme, host, port
SLACK_HOOKS_ORIGIN: Origin_ = ("https", "hooks.slack.com", 443)


def url_origin(url: str) -> Origin_ | None:
    """The scheme, host and port of an http(s) URL; None for anything else or with userinfo."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default


def response_url_policy(api_base_url: str) -> frozenset[Origin_]:
    """Where ``response_url`` posts may go: Slack's hooks host, and the host and port of a
    ``SLACK_API_BASE_URL`` other than Slack's own (a fake Slack in tests)."""
    allowed = {SLACK_HOOKS_ORIGIN}
    base = url_origin(api_base_url)
    if base is not None and base != ("https", "slack.com", 443):
        allowed.add(base)
    return frozenset(allowed)


class ResponseUrlPoster:
    """Posts to the ``response_url`` of a command or a click, with the Web API's retries.

    Only to the origins in ``allowed``: a request signed with the signing secret could name any
    address, and the bot must not be made to post (and retry) to internal services.
    """

    def __init__(
        self,
        retry_handlers: list[AsyncRetryHandler],
        session: aiohttp.ClientSession | None = None,
        *,
        allowed: frozenset[Origin_] = frozenset({SLACK_HOOKS_ORIGIN}),
    ) -> None:
        self._retry_handlers = retry_handlers
        self.session = session  # None: a session per post
        self.allowed = allowed
        self.refused = 0

    def permits(self, url: object) -> bool:
        return isinstance(url, str) and url_origin(url) in self.allowed

    async def post(self, url: str, payload: dict[str, Any]) -> None:
        if not self.permits(url):
            self.refused += 1
            origin = url_origin(url) if isinstance(url, str) else None
            log.warning(
                "refused a response_url outside Slack (%s)",
                f"{origin[0]}://{origin[1][:64]}:{origin[2]}" if origin else "not an http(s) URL",
            )
            raise ResponseUrlRefusedError("response_url is not Slack's")
        client = AsyncWebhookClient(
            url, session=self.session, retry_handlers=list(self._retry_handlers)
        )
        response = await client.send_dict(payload)
        if response.status_code != 200:
            raise ResponseUrlError(response.status_code)

    async def ephemeral(self, url: str, message: SlackMessage) -> None:
        """A new message only the clicking or commanding user sees."""
        await self.post(
            url, {"response_type": "ephemeral", "replace_original": False, **message.to_api()}
        )

    async def replace(self, url: str, message: SlackMessage) -> None:
        """Replace the message the click came from (works for ephemeral messages too)."""
        await self.post(url, {"replace_original": True, **message.to_api()})


@dataclass(slots=True)
class SlackServices:
    """What the listeners use. ``router`` may be swapped while serving (knowledge reload)."""

    router: Router
    reply_store: ReplyStore
    deduplicator: EventDeduplicator
    responses: ResponseUrlPoster
    signer: ValueSigner = field(default_factory=ValueSigner.ephemeral)
    identity: BotIdentity | None = None  # None when installing into many workspaces
    conversations: ConversationStore = field(default_factory=InMemoryConversationStore)
    contact: str | None = None  # the CONTACT setting: how to reach a person
    work: InFlightWork = field(default_factory=InFlightWork)

    @property
    def degraded(self) -> bool:
        """True while the Slack Web API is unreachable or the bot token is not yet verified."""
        return self.identity is not None and self.identity.degraded

    @property
    def knowledge(self) -> KnowledgeBase:
        return self.router.kb

    async def reply_in(self, question: str, conversation: Conversation) -> Reply:
        """The reply to a question asked in a conversation, leaning on what the
        conversation's earlier answers were about (entry ids only)."""
        context: tuple[str, ...] = ()
        for key in conversation.keys:
            context = await self.conversations.recall(key)
            if context:
                break
        return self.finish(self.router.reply(question, context=context))

    def finish(self, reply: Reply) -> Reply:
        """The reply with the way to reach a person, where it belongs."""
        return with_contact(reply, self.router.kb, self.contact)

    async def remember(self, conversation: Conversation, reply: Reply) -> None:
        """Note what an answer was about, for the conversation's follow-ups."""
        if reply.kind is not ReplyKind.ANSWER or reply.intent is None:
            return
        if not self.router.kb.has_entry(reply.intent):
            return
        for key in conversation.keys:
            await self.conversations.remember(key, reply.intent)

    def record(
        self,
        reply: Reply,
        *,
        reply_id: str,
        origin: Origin,
        team_id: str | None,
        user_id: str | None,
        started: float,
    ) -> None:
        """Record a reply that was sent, in the background: the reply never waits for it."""
        record = ReplyRecord(
            reply_id=reply_id,
            created_at=datetime.now(UTC),
            team_id=team_id,
            channel_type=origin.value,
            kind=reply.kind.value,
            intent=reply.intent,
            confidence=reply.confidence,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            user_id=user_id,
            # A message with a risk signal may be a disclosure: its text is never stored.
            question="" if reply.risk else reply.question,
        )
        self.work.spawn(self.reply_store.record_reply(record), name="record_reply")


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


def is_user_id(value: object) -> bool:
    """Whether ``value`` has the shape of a Slack user id (``U…`` or ``W…``)."""
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where follow-ups find their context: the keys of the conversation, most specific
    first (a thread, then the DM it is in). Keys name a workspace, a channel and a thread,
    never a person or any text."""

    keys: tuple[str, ...]

    @classmethod
    def of(cls, team_id: str | None, channel: str, thread_ts: str | None) -> Conversation:
        """A channel thread, a DM thread, or a DM outside threads."""
        team = team_id or ""
        top = f"{team}:{channel}:"
        if thread_ts is None:
            return cls((top,))
        thread = f"{team}:{channel}:{thread_ts}"
        return cls((thread, top) if channel.startswith("D") else (thread,))


def new_reply_id() -> str:
    return uuid.uuid4().hex


def services_of(context: AsyncBoltContext) -> SlackServices:
    """The services a listener runs with (attached to every request by :func:`create_app`)."""
    services = context.get(SERVICES_KEY)
    if not isinstance(services, SlackServices):
        raise RuntimeError("the Slack services are not attached to this request")
    return services
