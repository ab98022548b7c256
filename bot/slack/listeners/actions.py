"""Button clicks: feedback votes, clarify choices, "Share in channel" and a measure's "More".

Each acknowledges at once, then acts on what the button's value carries
(:class:`~bot.slack.blocks.ReplyRef`). Messages posted to a conversation are changed with
``chat.update``; ephemeral ones (``/ask`` replies) through the click's ``response_url``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import MessageKey
from bot.core.reply import Reply
from bot.core.router import Router
from bot.ports import Vote, VoteOutcome
from bot.slack.blocks import (
    ACTION_CLARIFY_NONE,
    ACTION_CLARIFY_PREFIX,
    ACTION_MEASURE_MORE,
    ACTION_SHARE,
    ACTION_VOTE_DOWN,
    ACTION_VOTE_UP,
    FeedbackState,
    Origin,
    ReplyRef,
    SlackMessage,
    clarify_declined_message,
    measure_message,
    measures_message,
    plain_message,
    reply_message,
    with_feedback_closed,
    with_voter,
)
from bot.slack.services import SlackServices, new_reply_id, services_of

log = logging.getLogger(__name__)

_VOTE_WORDING = {
    VoteOutcome.RECORDED: MessageKey.SLACK_VOTE_RECORDED,
    VoteOutcome.CHANGED: MessageKey.SLACK_VOTE_CHANGED,
    VoteOutcome.UNCHANGED: MessageKey.SLACK_VOTE_UNCHANGED,
    VoteOutcome.UNKNOWN_REPLY: MessageKey.SLACK_VOTE_UNKNOWN,
}


class Click:
    """The parts of a ``block_actions`` payload the handlers use."""

    def __init__(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        user = body.get("user") or {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        self.user: str = str(user.get("id") or "")
        self.team_id: str | None = (body.get("team") or {}).get("id")
        self.action_id: str = str(action.get("action_id") or "")
        self.value: Any = action.get("value")
        self.response_url: str | None = body.get("response_url")
        self.is_ephemeral: bool = bool(container.get("is_ephemeral"))
        channel = body.get("channel") or {}
        self.channel: str | None = container.get("channel_id") or channel.get("id")
        self.message_ts: str | None = container.get("message_ts") or message.get("ts")
        self.message_text: str = str(message.get("text") or "")
        blocks = message.get("blocks")
        self.message_blocks: list[dict[str, Any]] | None = (
            blocks if isinstance(blocks, list) else None
        )

    @property
    def posted_message(self) -> tuple[str, str] | None:
        """Channel and ts of the message clicked, if it was posted (chat.update can change it)."""
        if self.is_ephemeral or not self.channel or not self.message_ts:
            return None
        return self.channel, self.message_ts


def rebuild_reply(router: Router, ref: ReplyRef) -> Reply:
    """The reply a reference stands for (the router is deterministic for its knowledge)."""
    if ref.intent is not None and router.kb.has_entry(ref.intent):
        return router.answer_intent(ref.intent, ref.question)
    return router.reply(ref.question)


async def _tell(services: SlackServices, click: Click, key: MessageKey) -> None:
    """A private note to the person who clicked."""
    if click.response_url:
        message = plain_message(services.knowledge.message(key))
        await services.responses.ephemeral(click.response_url, message)


async def _replace_message(
    services: SlackServices, client: AsyncWebClient, click: Click, message: SlackMessage
) -> None:
    posted = click.posted_message
    if posted is not None:
        channel, ts = posted
        await client.chat_update(
            channel=channel, ts=ts, text=message.text, blocks=message.block_dicts()
        )
    elif click.response_url:
        await services.responses.replace(click.response_url, message)


async def handle_vote(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    services = services_of(context)
    async with services.work.track():
        await ack()
        click = Click(body, action)
        ref = ReplyRef.decode(click.value)
        if ref is None or not click.user:
            return
        if click.user in ref.voters:
            await _tell(services, click, MessageKey.SLACK_VOTE_ALREADY)
            return
        vote = Vote.UP if click.action_id == ACTION_VOTE_UP else Vote.DOWN
        outcome = await services.reply_store.record_vote(
            reply_id=ref.reply_id, user_id=click.user, vote=vote
        )
        if outcome is not VoteOutcome.UNKNOWN_REPLY:
            await _close_voting_for(services, client, click, ref)
        await _tell(services, click, _VOTE_WORDING[outcome])


async def _close_voting_for(
    services: SlackServices, client: AsyncWebClient, click: Click, ref: ReplyRef
) -> None:
    """Update the message so that this person cannot vote on it again.

    Where only the asker reads it (a DM, an ephemeral reply) the buttons give way to a
    thank-you line; in a shared conversation they stay for others, carrying the voter's id.
    """
    kb = services.knowledge
    posted = click.posted_message
    if posted is not None and click.message_blocks is not None:
        channel, ts = posted
        if ref.origin is Origin.CHANNEL:
            blocks = with_voter(click.message_blocks, click.user)
        else:
            blocks = with_feedback_closed(click.message_blocks, kb)
        await client.chat_update(channel=channel, ts=ts, text=click.message_text, blocks=blocks)
    elif click.is_ephemeral and click.response_url:
        reply = rebuild_reply(services.router, ref)
        message = reply_message(
            reply,
            kb,
            ref=ref,
            restate=True,
            share_button=True,
            feedback=FeedbackState.CLOSED,
        )
        await services.responses.replace(click.response_url, message)


async def handle_clarify_choice(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    services = services_of(context)
    async with services.work.track():
        await ack()
        started = time.perf_counter()
        click = Click(body, action)
        ref = ReplyRef.decode(click.value)
        if ref is None or not click.user:
            return
        if click.user != ref.asker:
            await _tell(services, click, MessageKey.SLACK_CLARIFY_NOT_YOURS)
            return
        router = services.router
        chosen = ref.choice if click.action_id != ACTION_CLARIFY_NONE else None
        if chosen is not None and not router.kb.has_entry(chosen):
            chosen = None
        services.work.spawn(
            services.reply_store.record_choice(
                reply_id=ref.reply_id, user_id=click.user, chosen_intent=chosen
            ),
            name="record_choice",
        )
        if chosen is None:
            await _replace_message(
                services, client, click, clarify_declined_message(router.kb, ref.question)
            )
            return
        reply = router.answer_intent(chosen, ref.question)
        answer_ref = ReplyRef(
            reply_id=new_reply_id(),
            asker=ref.asker,
            origin=ref.origin,
            question=ref.question,
            intent=chosen,
        )
        is_command = ref.origin is Origin.COMMAND
        message = reply_message(
            reply, router.kb, ref=answer_ref, restate=is_command, share_button=is_command
        )
        await _replace_message(services, client, click, message)
        services.record(
            reply,
            reply_id=answer_ref.reply_id,
            origin=ref.origin,
            team_id=click.team_id,
            user_id=click.user,
            started=started,
        )


async def handle_share(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    services = services_of(context)
    async with services.work.track():
        await ack()
        click = Click(body, action)
        ref = ReplyRef.decode(click.value)
        if ref is None or not click.response_url:
            return
        reply = rebuild_reply(services.router, ref)
        if reply.is_private:
            await _tell(services, click, MessageKey.SLACK_SHARE_UNAVAILABLE)
            return
        origin = Origin.of_channel(click.channel or "")
        shared_ref = replace(ref, origin=origin, voters=())
        message = reply_message(reply, services.knowledge, ref=shared_ref, shared_by=ref.asker)
        await services.responses.post(
            click.response_url,
            {"response_type": "in_channel", "replace_original": False, **message.to_api()},
        )
        await services.responses.post(click.response_url, {"delete_original": True})


async def handle_measure_more(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    services = services_of(context)
    async with services.work.track():
        await ack()
        click = Click(body, action)
        if not click.response_url:
            return
        kb = services.knowledge
        measure = next((m for m in kb.measures if m.id == click.value), None)
        message = measures_message(kb) if measure is None else measure_message(measure, kb)
        await services.responses.ephemeral(click.response_url, message)


def register(app: AsyncApp) -> None:
    app.action(re.compile(f"^({ACTION_VOTE_UP}|{ACTION_VOTE_DOWN})$"))(handle_vote)
    app.action(re.compile(f"^({re.escape(ACTION_CLARIFY_PREFIX)}\\d+|{ACTION_CLARIFY_NONE})$"))(
        handle_clarify_choice
    )
    app.action(ACTION_SHARE)(handle_share)
    app.action(ACTION_MEASURE_MORE)(handle_measure_more)
