"""Slack's side of OAuth for the fake Slack of tests/slack: ``oauth.v2.access`` (codes and token
rotation) and a token-aware ``auth.test``, plugged into :class:`tests.slack.fake_slack.FakeSlack`.

Like Slack, it checks the app's client credentials (HTTP Basic), accepts each code once, and
on rotation revokes the old bot token: the Web API then refuses it.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, auth_test_answer

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"
APP_ID = "A0TEST01"
INSTALLER = "U0INSTALLER"


@dataclass
class FakeOAuth:
    """Issues codes for one workspace and answers ``oauth.v2.access`` for them."""

    fake: FakeSlack
    rotation_expires_in: int | None = None  # seconds; None: token rotation is off
    codes: set[str] = field(default_factory=set)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> bot token
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.fake.bot_tokens.clear()  # only installed workspaces' tokens are valid
        self.fake.methods["oauth.v2.access"] = self._access
        self.fake.methods["auth.test"] = self._auth_test

    def new_code(self) -> str:
        code = f"code-{next(self._serial)}"
        self.codes.add(code)
        return code

    def _new_bot_token(self) -> str:
        token = f"xoxb-installed-{next(self._serial)}"
        self.fake.bot_tokens.add(token)
        return token

    def _credentials_ok(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def _access(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        if not self._credentials_ok(headers):
            return {"ok": False, "error": "invalid_client_id"}
        if body.get("grant_type") == "refresh_token":
            old = self.refresh_tokens.pop(str(body.get("refresh_token")), None)
            if old is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.fake.bot_tokens.discard(old)
            return self._tokens(self._new_bot_token())
        code = str(body.get("code"))
        if code not in self.codes:
            return {"ok": False, "error": "invalid_code"}
        self.codes.discard(code)
        return {
            **self._tokens(self._new_bot_token()),
            "app_id": APP_ID,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": TEAM_ID, "name": "Test"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": INSTALLER},
        }

    def _tokens(self, token: str) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "app_mentions:read,chat:write,commands,im:history",
        }
        if self.rotation_expires_in is not None:
            refresh = f"xoxe-1-refresh-{next(self._serial)}"
            self.refresh_tokens[refresh] = token
            answer["refresh_token"] = refresh
            answer["expires_in"] = self.rotation_expires_in
        return answer

    def _auth_test(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.fake.bot_tokens:
            return {"ok": False, "error": "invalid_auth"}
        return auth_test_answer()
