"""The App Home tab: published whenever someone opens it, from the current knowledge."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import home_view
from bot.slack.services import is_user_id, services_of


async def publish_home(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    services = services_of(context)
    async with services.work.guard("app_home_opened event"):
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not is_user_id(user):
            return
        await client.views_publish(
            user_id=user, view=home_view(services.knowledge, contact=services.contact)
        )


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(publish_home)
