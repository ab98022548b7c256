"""The slash commands: ``/ask QUESTION`` and ``/measures [NAME]``.

Both acknowledge at once and answer through the command's ``response_url`` as an ephemeral
message, so only the person who typed the command sees it. ``/ask`` restates the question
(nobody sees their own slash command) and offers to share the answer in the channel.
"""

from __future__ import annotations

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
from bot.slack.services import new_reply_id, services_of


async def handle_ask(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
    services = services_of(context)
    async with services.work.track():
        await ack()
        started = time.perf_counter()
        router = services.router
        question = " ".join(str(command.get("text") or "").split())
        url = str(command["response_url"])
        user = str(command["user_id"])
        if not question:
            await services.responses.ephemeral(url, plain_message(ask_usage(router.kb)))
            return
        reply = router.reply(question)
        ref = ReplyRef(
            reply_id=new_reply_id(), asker=user, origin=Origin.COMMAND, question=question
        )
        message = reply_message(reply, router.kb, ref=ref, restate=True, share_button=True)
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
    async with services.work.track():
        await ack()
        router = services.router
        name = " ".join(str(command.get("text") or "").split())
        if not name:
            message = measures_message(router.kb)
        else:
            measure = router.find_measure(name)
            if measure is None:
                message = measures_message(router.kb, unmatched=name)
            else:
                message = measure_message(measure, router.kb)
        await services.responses.ephemeral(str(command["response_url"]), message)


def register(app: AsyncApp) -> None:
    app.command("/ask")(handle_ask)
    app.command("/measures")(handle_measures)
