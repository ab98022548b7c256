"""The Agents & AI Apps side panel, with Bolt's ``AsyncAssistant``.

- ``assistant_thread_started``: a short greeting in the thread and suggested prompts taken
  from the knowledge's example questions (``assistant.threads.setSuggestedPrompts``); the
  thread is remembered as a panel thread (in the conversation store, shared by replicas).
- A message in a panel thread: a status while the bot looks the answer up
  (``assistant.threads.setStatus``), then the answer in the thread, built exactly as a DM's
  (same blocks, citations, follow-up context and safety routing), and the thread titled with
  the question it answered (an entry's readable question, never the text typed).
- ``assistant_thread_context_changed``: the channel the user is looking at is saved (Bolt's
  default handler, into :class:`PanelContextStore`); answers do not depend on it.

Messages in DM threads that are not panel threads fall through to the ordinary ``message``
listener (:mod:`bot.slack.listeners.events`) and are answered as before.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.async_store import (
    AsyncAssistantThreadContextStore,
)
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.listener_matcher.async_listener_matcher import AsyncListenerMatcher
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import MessageKey
from bot.slack.blocks import MAX_BUTTON_TEXT, cut
from bot.slack.listeners.events import answer_message, claim_delivery, is_ignored
from bot.slack.services import Conversation, services_of

log = logging.getLogger(__name__)

MAX_PROMPTS = 4  # Slack shows at most four suggested prompts
MAX_TITLE = 100


class PanelContextStore(AsyncAssistantThreadContextStore):
    """The channel each panel thread was opened from, in this process's memory (bounded).
    Slack's default store keeps it in message metadata, at the cost of two Web API calls a
    message; nothing here depends on it, so memory is enough."""

    def __init__(self, max_threads: int = 10_000) -> None:
        self._max = max_threads
        self._contexts: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()

    async def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        key = (channel_id, thread_ts)
        self._contexts.pop(key, None)
        self._contexts[key] = dict(context)
        while len(self._contexts) > self._max:
            self._contexts.popitem(last=False)

    async def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        found = self._contexts.get((channel_id, thread_ts))
        return AssistantThreadContext(found) if found is not None else None


@asynccontextmanager
async def _best_effort(method: str) -> AsyncIterator[None]:
    """The panel's extras (prompts, status, title) never stop the answer: a refusal is
    logged, by its error code only."""
    try:
        yield
    except SlackApiError as error:
        log.warning("%s was refused: %s", method, error.response.get("error", "unknown"))


def _thread_key(context: AsyncBoltContext, channel: str, thread_ts: str) -> str:
    return Conversation.of(context.team_id, channel, thread_ts).keys[0]


async def handle_thread_started(
    body: dict[str, Any],
    event: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    set_suggested_prompts: AsyncSetSuggestedPrompts,
) -> None:
    services = services_of(context)
    async with services.work.track():
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)):
            return
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not await services.deduplicator.claim(f"event:{event_id}"):
            return
        kb = services.knowledge
        await services.conversations.mark_assistant_thread(_thread_key(context, channel, thread_ts))
        greeting = kb.message(MessageKey.SLACK_ASSISTANT_GREETING)
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=greeting)
        prompts = [
            {"title": cut(question, MAX_BUTTON_TEXT), "message": question}
            for question in (kb.entry(i).question for i in kb.example_questions[:MAX_PROMPTS])
        ]
        async with _best_effort("assistant.threads.setSuggestedPrompts"):
            await set_suggested_prompts(
                prompts=prompts, title=kb.message(MessageKey.SLACK_ASSISTANT_PROMPTS)
            )


async def in_panel_thread(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    """Whether a DM thread message is in a panel thread (else the ordinary listener answers)."""
    channel, thread_ts = event.get("channel"), event.get("thread_ts")
    if not (isinstance(channel, str) and isinstance(thread_ts, str)):
        return False
    services = services_of(context)
    return await services.conversations.is_assistant_thread(
        _thread_key(context, channel, thread_ts)
    )


async def handle_panel_message(
    body: dict[str, Any],
    event: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    set_status: AsyncSetStatus,
    set_title: AsyncSetTitle,
) -> None:
    services = services_of(context)
    async with services.work.track():
        if is_ignored(event, context.bot_user_id):
            return
        if not await claim_delivery(services, body, event):
            return
        kb = services.knowledge
        async with _best_effort("assistant.threads.setStatus"):
            await set_status(kb.message(MessageKey.SLACK_ASSISTANT_STATUS))
        channel, thread_ts = event["channel"], event["thread_ts"]
        reply = await answer_message(
            services,
            client,
            team_id=context.team_id,
            channel=channel,
            user=event["user"],
            thread_ts=thread_ts,
            question=str(event.get("text") or ""),
            conversation=Conversation(keys=(_thread_key(context, channel, thread_ts),)),
        )
        if reply.intent is not None and kb.has_entry(reply.intent) and not reply.is_private:
            async with _best_effort("assistant.threads.setTitle"):
                await set_title(cut(kb.entry(reply.intent).question, MAX_TITLE))


class InPanelThread(AsyncListenerMatcher):
    """Matches a DM thread message in a panel thread (Bolt's own custom matchers are sync)."""

    async def async_matches(self, req: AsyncBoltRequest, resp: BoltResponse) -> bool:
        event = req.body.get("event")
        return isinstance(event, dict) and await in_panel_thread(event, req.context)


def register(app: AsyncApp) -> None:
    assistant = AsyncAssistant(thread_context_store=PanelContextStore())
    assistant.thread_started(handle_thread_started)
    # Bolt takes a list of matchers here; its annotation names a single one.
    assistant.user_message(matchers=[InPanelThread()])(handle_panel_message)  # type: ignore[arg-type]
    app.assistant(assistant)
