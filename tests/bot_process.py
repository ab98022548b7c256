"""The environment for the bot run as a real process (``python -m bot serve``) against the
fake Slack: this process's environment without any of the bot's settings, plus the test's."""

from __future__ import annotations

import os
from typing import Any

from bot.settings import Settings
from tests.slack.fake_slack import FakeSlack

# Set by a parent that collects metrics; a bot under test must not write into its files.
_INHERITED_NOT = frozenset({"PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"})


def settings_variables() -> frozenset[str]:
    """Every environment variable :meth:`Settings.from_env` reads."""
    read: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recording())
    return frozenset(read)


def bot_environment(fake: FakeSlack, **settings: str) -> dict[str, str]:
    """No bot setting inherited from this process; the Web API is ``fake``'s; then ``settings``."""
    ignored = settings_variables() | _INHERITED_NOT
    env = {key: value for key, value in os.environ.items() if key not in ignored}
    env.update(SLACK_API_BASE_URL=fake.api_url, LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    env.update(settings)
    return env
