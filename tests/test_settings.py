"""Settings: parsed once from the environment, secrets masked, bad values named."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.slack_bot_token is None
    assert settings.port == 3000
    assert settings.dedupe_ttl_seconds >= 900
    assert settings == Settings()  # one set of defaults: the fields'


def test_secrets_never_show_in_repr_or_str() -> None:
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_SIGNING_SECRET": "shh-secret"}
    )
    assert "very-secret" not in repr(settings)
    assert "shh-secret" not in repr(settings)
    assert "very-secret" not in str(settings.slack_bot_token)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.reveal() == "xoxb-very-secret"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "SLACK_APP_TOKEN"),
        ({"PORT": "eighty"}, "PORT"),
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"STORE_QUESTION_TEXT": "perhaps"}, "STORE_QUESTION_TEXT"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"DEDUPE_TTL_SECONDS": "60"}, "DEDUPE_TTL_SECONDS"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"},
            "SLACK_BOT_TOKEN",
        ),
    ],
)
def test_bad_values_name_the_variable_not_the_value(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == variable
    for value in env.values():
        if len(value) > 4:
            assert value not in str(caught.value)
