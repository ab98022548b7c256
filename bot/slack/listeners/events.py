"""Mentions in channels and direct messages: route the question and reply in the thread.

Bolt acknowledges events before these run. A message is answered once however often it
arrives: Slack's retries share an ``event_id``, and a message that is both an
``app_mention`` and a ``message`` shares its channel and ``ts``; both are claimed through
the deduplicator. The bot ignores its own messages, other bots', and edits or deletions.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.reply import Reply, ReplyKind
from bot.slack.blocks import Origin, ReplyRef, reply_message
from bot.slack.services import (
    Conversation,
    SlackServices,
    is_user_id,
    new_reply_id,
    services_of,
)

log = logging.getLogger(__name__)

# Message subtypes that are someone asking something; edits, deletions, joins and bot
# messages are not.
_ANSWERED_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
# The shapes of Slack's conversation ids and message timestamps; anything else is not a
# message the bot can answer.
_CHANNEL_ID = re.compile(r"[CDGZ][A-Z0-9]{2,30}")
_TS = re.compile(r"\d{1,12}\.\d{1,9}")


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """The text with the bot's own mention (``<@U123>`` or ``<@U123|name>``) removed."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def is_ignored(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """True for events the bot must not answer: bots (itself included), edits, deletions."""
    if event.get("bot_id") or event.get("bot_profile") or event.get("hidden"):
        return True
    if event.get("subtype") not in _ANSWERED_SUBTYPES:
        return True
    user = event.get("user")
    if not is_user_id(user) or user == bot_user_id:
        return True
    channel, ts = event.get("channel"), event.get("ts")
    return not (
        isinstance(channel, str)
        and _CHANNEL_ID.fullmatch(channel) is not None
        and isinstance(ts, str)
        and _TS.fullmatch(ts) is not None
    )


def _event_text(event: dict[str, Any]) -> str:
    text = event.get("text")
    return text if isinstance(text, str) else ""


async def _bot_user_id(services: SlackServices, context: AsyncBoltContext) -> str | None:
    """The bot's own user id; if the token is not verified yet, one verification (after the
    ack, so Slack is not kept waiting)."""
    if context.bot_user_id:
        return context.bot_user_id
    identity = services.identity
    if identity is None:
        return None
    if identity.result is None:
        with contextlib.suppress(Exception):
            await identity.verify(context.client, attempts=1)
    return identity.bot_user_id()


async def claim_delivery(
    services: SlackServices, body: dict[str, Any], event: dict[str, Any]
) -> bool:
    """True for the first delivery of this event and of the message it carries."""
    dedupe = services.deduplicator
    event_id = body.get("event_id")
    usable = isinstance(event_id, str) and event_id.isascii() and 0 < len(event_id) <= 64
    if usable and not await dedupe.claim(f"event:{event_id}"):
        return False
    team = body.get("team_id")
    team = team if isinstance(team, str) and team.isascii() and len(team) <= 32 else ""
    return await dedupe.claim(f"message:{team}:{event['channel']}:{event['ts']}")


async def answer_message(
    services: SlackServices,
    client: AsyncWebClient,
    *,
    team_id: str | None,
    channel: str,
    user: str,
    thread_ts: str | None,
    question: str,
    conversation: Conversation | None = None,
) -> Reply:
    """Reply to a question asked in a conversation; private replies go only to the asker.

    The question may lean on what the conversation's earlier answers were about (a follow-up
    such as "when is it?"); the answer's entry is remembered for the next one.
    """
    started = time.perf_counter()
    router = services.router
    conversation = conversation or Conversation.of(team_id, channel, thread_ts)
    reply = await services.reply_in(question, conversation)
    origin = Origin.of_channel(channel)
    ref = ReplyRef(
        reply_id=new_reply_id(),
        asker=user,
        origin=origin,
        question=question,
        intent=_leaned_on_context(services, question, reply),
    )
    message = reply_message(reply, router.kb, ref=ref, signer=services.signer).to_api()
    # Remembered before it is sent: a follow-up typed after seeing the answer, even on another
    # replica, finds it.
    await services.remember(conversation, reply)
    if reply.is_private and origin is not Origin.IM:
        await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **message)
    else:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    services.record(
        reply, reply_id=ref.reply_id, origin=origin, team_id=team_id, user_id=user, started=started
    )
    return reply


def _leaned_on_context(services: SlackServices, question: str, reply: Reply) -> str | None:
    """The entry of an answer that only the conversation's context gave ("who uses it?"), so
    that a click can rebuild this very answer from its reference; None otherwise."""
    if reply.kind is not ReplyKind.ANSWER or reply.intent is None:
        return None
    if not services.knowledge.has_entry(reply.intent):
        return None
    return None if services.router.reply(question).intent == reply.intent else reply.intent


async def handle_app_mention(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    services = services_of(context)
    async with services.work.guard("app_mention event"):
        bot_user_id = await _bot_user_id(services, context)
        if is_ignored(event, bot_user_id):
            return
        if not await claim_delivery(services, body, event):
            return
        await answer_message(
            services,
            client,
            team_id=context.team_id,
            channel=event["channel"],
            user=event["user"],
            thread_ts=event.get("thread_ts") or event["ts"],
            question=strip_mention(_event_text(event), bot_user_id),
        )


async def handle_message(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    services = services_of(context)
    async with services.work.guard("message event"):
        bot_user_id = await _bot_user_id(services, context)
        if event.get("channel_type") != "im" or is_ignored(event, bot_user_id):
            return
        if not await claim_delivery(services, body, event):
            return
        await answer_message(
            services,
            client,
            team_id=context.team_id,
            channel=event["channel"],
            user=event["user"],
            thread_ts=event.get("thread_ts"),
            question=strip_mention(_event_text(event), bot_user_id),
        )


def register(app: AsyncApp) -> None:
    app.event("app_mention")(handle_app_mention)
    app.event("message")(handle_message)
