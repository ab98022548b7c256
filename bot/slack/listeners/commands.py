"""The slash commands: ``/ask QUESTION`` and ``/measures [NAME]``.

Both acknowledge at once and answer through the command's ``response_url`` as an ephemeral
message, so only the person who typed the command sees it. ``/ask`` restates the question
(nobody sees their own slash command) and offers to share the answer in the channel.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from bot.slack.blocks import (
    Origin,
    ReplyRef,
    ask_usage,
    measure_message,
    measures_message,
    plain_message,
    reply_message,
)
from bot.slack.services import is_user_id, new_reply_id, services_of

log = logging.getLogger(__name__)


def _field(command: dict[str, Any], name: str) -> str:
    value = command.get(name) if isinstance(command, dict) else None
    return value if isinstance(value, str) else ""


async def handle_ask(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
    services = services_of(context)
    await ack()
    async with services.work.guard("/ask command"):
        started = time.perf_counter()
        router = services.router
        question = " ".join(_field(command, "text").split())
        url = _field(command, "response_url")
        user = _field(command, "user_id")
        if not is_user_id(user) or not services.responses.permits(url):
            log.info("ignored a /ask command without a Slack user or response_url")
            return
        if not question:
            await services.responses.ephemeral(url, plain_message(ask_usage(router.kb)))
            return
        reply = services.finish(router.reply(question))
        ref = ReplyRef(
            reply_id=new_reply_id(), asker=user, origin=Origin.COMMAND, question=question
        )
        message = reply_message(
            reply, router.kb, ref=ref, signer=services.signer, restate=True, share_button=True
        )
        await services.responses.ephemeral(url, message)
        services.record(
            reply,
            reply_id=ref.reply_id,
            origin=Origin.COMMAND,
            team_id=context.team_id,
            user_id=user,
            started=started,
        )


async def handle_measures(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext
) -> None:
    services = services_of(context)
    await ack()
    async with services.work.guard("/measures command"):
        router = services.router
        name = " ".join(_field(command, "text").split())
        if not name:
            message = measures_message(router.kb)
        else:
            measure = router.find_measure(name)
            if measure is None:
                message = measures_message(router.kb, unmatched=name)
            else:
                message = measure_message(measure, router.kb)
        url = _field(command, "response_url")
        if not services.responses.permits(url):
            log.info("ignored a /measures command without a Slack response_url")
            return
        await services.responses.ephemeral(url, message)


def register(app: AsyncApp) -> None:
    app.command("/ask")(handle_ask)
    app.command("/measures")(handle_measures)
