"""The keyed user hash and where its key comes from."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.settings import Secret, SettingsError
from bot.storage.privacy import UserHasher, resolve_user_hash_key


def test_the_hash_is_an_hmac_of_the_user_id_with_the_secret() -> None:
    hasher = UserHasher(b"k" * 32)
    expected = hmac.new(b"k" * 32, b"U123", hashlib.sha256).hexdigest()
    assert hasher("U123") == expected
    assert hasher("U123") != UserHasher(b"j" * 32)("U123")
    assert hasher("U123") != hashlib.sha256(b"U123").hexdigest()  # keyed, not a plain hash
    assert "k" not in repr(hasher).replace("key", "")


def test_the_secret_setting_is_used_and_must_be_long_enough() -> None:
    url = make_url("postgresql+psycopg://h/db")
    assert resolve_user_hash_key(Secret("s" * 16), url) == b"s" * 16
    with pytest.raises(SettingsError, match="USER_HASH_SECRET: must be at least 16"):
        resolve_user_hash_key(Secret("short"), url)


def test_without_a_secret_a_sqlite_file_gets_a_private_key_file(tmp_path: Path) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'bot.db'}")
    first = resolve_user_hash_key(None, url)
    second = resolve_user_hash_key(None, url)
    assert first == second
    assert len(first) >= 32
    key_file = tmp_path / "bot.db.user-hash-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bot.db.user-hash-key"]


def test_without_a_secret_a_server_database_is_refused() -> None:
    with pytest.raises(SettingsError, match="USER_HASH_SECRET: is required"):
        resolve_user_hash_key(None, make_url("postgresql+psycopg://h/db"))
