"""The Slack app manifest creates an app with everything the code uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.server import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yaml"
BOT_PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "slack"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def source_of_listeners() -> str:
    return "\n".join(p.read_text() for p in sorted((BOT_PACKAGE / "listeners").glob("*.py")))


def test_events_match_the_listeners(manifest: dict[str, Any]) -> None:
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_mention",
        "message.im",
        "app_home_opened",
        "assistant_thread_started",
        "assistant_thread_context_changed",
        "app_uninstalled",
        "tokens_revoked",
    }
    source = source_of_listeners()
    for event in ("app_mention", "message", "app_home_opened"):
        assert f'app.event("{event}")' in source
    # The side panel's events are handled by Bolt's AsyncAssistant (the context change by its
    # default handler, which saves the context).
    assert "assistant.thread_started(" in source
    assert "app.assistant(" in source
    # The many-workspace events are handled by the storage layer's OAuth set-up.
    oauth_source = (BOT_PACKAGE.parent / "storage" / "oauth.py").read_text()
    for event in ("app_uninstalled", "tokens_revoked"):
        assert f'bolt.event("{event}")' in oauth_source


def test_both_slash_commands_have_usage_hints(manifest: dict[str, Any]) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/ask", "/measures"}
    for command in commands.values():
        assert command["usage_hint"]
        assert command["description"]
        assert len(command["description"]) <= 100
    source = source_of_listeners()
    assert 'app.command("/ask")' in source
    assert 'app.command("/measures")' in source


def test_scopes_cover_every_web_api_call_the_bot_makes(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "app_mentions:read",
        "assistant:write",
        "chat:write",
        "commands",
        "im:history",
    }
    source = "\n".join(p.read_text() for p in BOT_PACKAGE.rglob("*.py"))
    calls = set(re.findall(r"client\.(\w+)\(", source)) - {"send_dict"}  # response_url posts
    needs = {
        "chat_postMessage": "chat:write",
        "chat_postEphemeral": "chat:write",
        "chat_update": "chat:write",
    }
    # auth.test (verifying the token at start-up) needs no scope.
    assert calls <= set(needs) | {"views_publish", "auth_test"}, calls
    assert {needs[c] for c in calls if c in needs} <= scopes


def test_interactivity_home_tab_and_socket_mode(manifest: dict[str, Any]) -> None:
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"]
    assert manifest["features"]["assistant_view"]["assistant_description"]


def test_the_http_request_urls_point_at_the_events_path() -> None:
    urls = re.findall(r"#\s*(?:request_url|url):\s*(\S+)", MANIFEST.read_text(encoding="utf-8"))
    assert len(urls) == 4
    assert all(url.startswith("https://") and url.endswith(EVENTS_PATH) for url in urls)
