"""When the app installs into many workspaces, and what it asks Slack for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from bot.settings import Secret, Settings, SettingsError
from bot.storage.oauth import BOT_SCOPES, oauth_mode

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yaml"
OAUTH_ENV = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret",
    "SLACK_SIGNING_SECRET": "signing-secret",
}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, True),
        ({"SLACK_CLIENT_SECRET": ""}, False),
        ({"SLACK_SIGNING_SECRET": ""}, False),
        ({"SLACK_CLIENT_ID": ""}, False),
    ],
)
def test_oauth_mode_needs_client_credentials_and_no_bot_token(
    extra: dict[str, str], expected: bool
) -> None:
    assert oauth_mode(Settings.from_env({**OAUTH_ENV, **extra})) is expected


def test_a_bot_token_means_one_workspace() -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        Settings.from_env({**OAUTH_ENV, "SLACK_BOT_TOKEN": "xoxb-one-workspace"})
    settings = Settings.from_env({**OAUTH_ENV, "SLACK_CLIENT_SECRET": ""})
    one_workspace = dataclasses.replace(settings, slack_bot_token=Secret("xoxb-one-workspace"))
    assert oauth_mode(one_workspace) is False


def test_the_app_asks_for_the_scopes_of_the_manifest() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
