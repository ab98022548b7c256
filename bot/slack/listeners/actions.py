"""Button clicks: feedback votes (Block Kit's native feedback buttons, and the custom vote
buttons of older messages), clarify choices, related questions, "Share in channel" and a
measure's "More".

Each acknowledges at once, then acts on what the button's value carries
(:class:`~bot.slack.blocks.ReplyRef`), but only when the bot signed that value; a message is
changed only by rebuilding it from the verified value. Messages posted to a conversation are
changed with ``chat.update``; ephemeral ones (``/ask`` replies) through the click's
``response_url``.
"""

from __future__ import annotations

import asyncio
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
    ACTION_FEEDBACK,
    ACTION_MEASURE_MORE,
    ACTION_RELATED_PREFIX,
    ACTION_SHARE,
    ACTION_VOTE_DOWN,
    ACTION_VOTE_UP,
    FeedbackState,
    Origin,
    ReplyRef,
    SlackMessage,
    clarify_declined_message,
    decode_vote,
    measure_message,
    measures_message,
    plain_message,
    reply_message,
)
from bot.slack.failures import describe_error
from bot.slack.services import (
    Conversation,
    SlackServices,
    is_user_id,
    new_reply_id,
    services_of,
)

log = logging.getLogger(__name__)

# How long a voter waits for the store before hearing that the vote could not be saved yet
# (during an outage the writer keeps it queued and retries).
VOTE_WAIT_SECONDS = 5.0

_VOTE_WORDING = {
    VoteOutcome.RECORDED: MessageKey.SLACK_VOTE_RECORDED,
    VoteOutcome.CHANGED: MessageKey.SLACK_VOTE_CHANGED,
    VoteOutcome.UNCHANGED: MessageKey.SLACK_VOTE_UNCHANGED,
    VoteOutcome.UNKNOWN_REPLY: MessageKey.SLACK_VOTE_UNKNOWN,
}


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class Click:
    """The parts of a ``block_actions`` payload the handlers use, whatever shape it has."""

    def __init__(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        body = _object(body)
        action = _object(action)
        container = _object(body.get("container"))
        message = _object(body.get("message"))
        self.user: str = _text(_object(body.get("user")).get("id")) or ""
        self.team_id: str | None = _text(_object(body.get("team")).get("id"))
        self.action_id: str = _text(action.get("action_id")) or ""
        self.value: Any = action.get("value")
        self.response_url: str | None = _text(body.get("response_url"))
        self.is_ephemeral: bool = container.get("is_ephemeral") is True
        channel = _object(body.get("channel"))
        self.channel: str | None = _text(container.get("channel_id")) or _text(channel.get("id"))
        self.message_ts: str | None = _text(container.get("message_ts")) or _text(message.get("ts"))
        self.thread_ts: str | None = _text(container.get("thread_ts")) or _text(
            message.get("thread_ts")
        )

    @property
    def posted_message(self) -> tuple[str, str] | None:
        """Channel and ts of the message clicked, if it was posted (chat.update can change it)."""
        if self.is_ephemeral or not self.channel or not self.message_ts:
            return None
        return self.channel, self.message_ts


def rebuild_reply(router: Router, ref: ReplyRef) -> Reply:
    """The reply a reference stands for (the router is deterministic for its knowledge).

    Privacy is re-derived from the question, never taken from the reference: a question that
    gets a private reply gets it again, whatever entry the reference names.
    """
    reply = router.reply(ref.question)
    if reply.is_private:
        return reply
    if ref.intent is not None and router.kb.has_entry(ref.intent):
        return router.answer_intent(ref.intent, ref.question)
    return reply


def _verified_ref(services: SlackServices, click: Click) -> ReplyRef | None:
    """The click's reference if the bot signed it and the clicker looks like a Slack user."""
    if not is_user_id(click.user):
        return None
    ref = ReplyRef.decode(click.value, services.signer)
    if ref is None:
        log.info("ignored a %s click whose value the bot did not sign", _action_name(click))
    return ref


def _verified_vote(services: SlackServices, click: Click) -> tuple[bool, ReplyRef] | None:
    """A native feedback click's vote and reference, if the bot signed the reference."""
    if not is_user_id(click.user):
        return None
    vote = decode_vote(click.value, services.signer)
    if vote is None:
        log.info("ignored a feedback click whose value the bot did not sign")
    return vote


def _action_name(click: Click) -> str:
    return click.action_id if re.fullmatch(r"[a-z_0-9]{1,40}", click.action_id) else "unknown"


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
    await ack()
    async with services.work.guard("vote click"):
        click = Click(body, action)
        if click.action_id == ACTION_FEEDBACK:  # native feedback buttons: "up:" / "down:" + ref
            decoded = _verified_vote(services, click)
            up, ref = decoded if decoded is not None else (False, None)
        else:
            up, ref = click.action_id == ACTION_VOTE_UP, _verified_ref(services, click)
        if ref is None:
            return
        if click.user in ref.voters:
            await _tell(services, click, MessageKey.SLACK_VOTE_ALREADY)
            return
        vote = Vote.UP if up else Vote.DOWN
        try:
            async with asyncio.timeout(VOTE_WAIT_SECONDS):
                outcome = await services.reply_store.record_vote(
                    reply_id=ref.reply_id, user_id=click.user, vote=vote
                )
        except Exception as error:  # storage down or slow: the voter still hears back
            log.warning("a vote could not be stored in time: %s", describe_error(error))
            await _tell(services, click, MessageKey.SLACK_VOTE_NOT_SAVED)
            return
        if outcome is not VoteOutcome.UNKNOWN_REPLY:
            await _close_voting_for(services, client, click, ref)
        await _tell(services, click, _VOTE_WORDING[outcome])


async def _close_voting_for(
    services: SlackServices, client: AsyncWebClient, click: Click, ref: ReplyRef
) -> None:
    """Update the message so that this person cannot vote on it again.

    Where only the asker reads it (a DM, an ephemeral reply) the buttons give way to a
    thank-you line; in a shared conversation they stay for others, carrying the voter's id.
    The message is rebuilt from the verified reference, never from the clicked blocks.
    """
    kb = services.knowledge
    reply = rebuild_reply(services.router, ref)
    if reply.is_private:
        return
    posted = click.posted_message
    if posted is not None:
        channel, ts = posted
        if ref.origin is Origin.CHANNEL:
            voted = ref.with_voter(click.user)
            message = reply_message(reply, kb, ref=voted, signer=services.signer)
        else:
            message = reply_message(
                reply, kb, ref=ref, signer=services.signer, feedback=FeedbackState.CLOSED
            )
        await client.chat_update(
            channel=channel, ts=ts, text=message.text, blocks=message.block_dicts()
        )
    elif click.is_ephemeral and click.response_url:
        message = reply_message(
            reply,
            kb,
            ref=ref,
            signer=services.signer,
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
    await ack()
    async with services.work.guard("clarify click"):
        started = time.perf_counter()
        click = Click(body, action)
        ref = _verified_ref(services, click)
        if ref is None:
            return
        if click.user != ref.asker:
            await _tell(services, click, MessageKey.SLACK_CLARIFY_NOT_YOURS)
            return
        router = services.router
        if router.reply(ref.question).is_private:
            return  # never a clarify question: nothing to choose
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
            reply,
            router.kb,
            ref=answer_ref,
            signer=services.signer,
            restate=is_command,
            share_button=is_command,
        )
        if not is_command and click.channel:
            # The chosen entry is what the conversation is now about, for its follow-ups
            # (remembered before the answer is shown, as for a question).
            thread = click.thread_ts
            if thread is None and ref.origin is Origin.CHANNEL:
                thread = click.message_ts
            await services.remember(Conversation.of(click.team_id, click.channel, thread), reply)
        await _replace_message(services, client, click, message)
        services.record(
            reply,
            reply_id=answer_ref.reply_id,
            origin=ref.origin,
            team_id=click.team_id,
            user_id=click.user,
            started=started,
        )


async def handle_related(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    """A related question clicked: answered in the same thread, or privately (through the
    click's ``response_url``) where the answer it follows was private (privacy re-derived from
    the original question, never taken from the reference)."""
    services = services_of(context)
    await ack()
    async with services.work.guard("related click"):
        started = time.perf_counter()
        click = Click(body, action)
        ref = _verified_ref(services, click)
        router = services.router
        if ref is None or ref.choice is None or not router.kb.has_entry(ref.choice):
            return
        question = router.kb.entry(ref.choice).question
        reply = services.finish(router.answer_intent(ref.choice, question))
        private = (
            click.is_ephemeral
            or ref.origin is Origin.COMMAND
            or click.channel is None
            or router.reply(ref.question).is_private
        )
        origin = Origin.COMMAND if private else Origin.of_channel(click.channel or "")
        answer_ref = ReplyRef(
            reply_id=new_reply_id(),
            asker=click.user,
            origin=origin,
            question=question,
            intent=ref.choice,
        )
        message = reply_message(
            reply, router.kb, ref=answer_ref, signer=services.signer, restate=True
        )
        if private:
            if not click.response_url:
                return
            await services.responses.ephemeral(click.response_url, message)
        else:
            assert click.channel is not None
            thread = click.thread_ts
            if thread is None and origin is Origin.CHANNEL:
                thread = click.message_ts  # a channel answer always stays in its thread
            conversation = Conversation.of(click.team_id, click.channel, thread)
            await services.remember(conversation, reply)  # before it is shown, as above
            await client.chat_postMessage(
                channel=click.channel, thread_ts=thread, **message.to_api()
            )
        services.record(
            reply,
            reply_id=answer_ref.reply_id,
            origin=origin,
            team_id=click.team_id,
            user_id=click.user,
            started=started,
        )


async def handle_share(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    services = services_of(context)
    await ack()
    async with services.work.guard("share click"):
        click = Click(body, action)
        ref = _verified_ref(services, click)
        if ref is None or not click.response_url:
            return
        if click.user != ref.asker:
            await _tell(services, click, MessageKey.SLACK_SHARE_NOT_YOURS)
            return
        reply = rebuild_reply(services.router, ref)
        if reply.is_private:
            await _tell(services, click, MessageKey.SLACK_SHARE_UNAVAILABLE)
            return
        origin = Origin.of_channel(click.channel or "")
        shared_ref = replace(ref, origin=origin, voters=(), shared=True)
        message = reply_message(reply, services.knowledge, ref=shared_ref, signer=services.signer)
        await services.responses.post(
            click.response_url,
            {"response_type": "in_channel", "replace_original": False, **message.to_api()},
        )
        await services.responses.post(click.response_url, {"delete_original": True})


async def handle_measure_more(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    services = services_of(context)
    await ack()
    async with services.work.guard("measure click"):
        click = Click(body, action)
        if not click.response_url:
            return
        kb = services.knowledge
        measure = next((m for m in kb.measures if m.id == click.value), None)
        message = measures_message(kb) if measure is None else measure_message(measure, kb)
        await services.responses.ephemeral(click.response_url, message)


def register(app: AsyncApp) -> None:
    app.action(re.compile(f"^({ACTION_VOTE_UP}|{ACTION_VOTE_DOWN}|{ACTION_FEEDBACK})$"))(
        handle_vote
    )
    app.action(re.compile(f"^{re.escape(ACTION_RELATED_PREFIX)}\\d$"))(handle_related)
    app.action(re.compile(f"^({re.escape(ACTION_CLARIFY_PREFIX)}\\d+|{ACTION_CLARIFY_NONE})$"))(
        handle_clarify_choice
    )
    app.action(ACTION_SHARE)(handle_share)
    app.action(ACTION_MEASURE_MORE)(handle_measure_more)
