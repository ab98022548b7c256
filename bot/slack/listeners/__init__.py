"""The Slack listeners, one module per area, each with a ``register(app)``.

Listeners are plain functions that Bolt calls with the arguments they name. Each one
acknowledges first (Bolt does it for events) and then works, tracked by
:class:`~bot.slack.work.InFlightWork`, so Slack always has its ack within 3 seconds.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, assistant, commands, errors, events, home


def register_listeners(app: AsyncApp) -> None:
    assistant.register(app)  # before the message listener: it takes panel threads first
    events.register(app)
    home.register(app)
    commands.register(app)
    actions.register(app)
    errors.register(app)
