"""Fixtures shared by every test folder: the real knowledge and a router over it, copies of the
knowledge to edit, and the fake Slack Web API on a free loopback port.

Each folder's own ``conftest.py`` adds what only its tests use (the bot's HTTP server for
``tests/slack``, databases for ``tests/storage``, replicas and Redis for ``tests/deploy``).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.router import Router
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from tests.slack.fake_slack import FakeSlack

# knowledge_copy(file, old, new): the copy of knowledge_dir with one text replaced in one file.
KnowledgeCopy = Callable[[str, str, str], Path]


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The shipped knowledge, loaded once."""
    return load_knowledge(DEFAULT_KNOWLEDGE_DIR)


@pytest.fixture(scope="session")
def router(kb: KnowledgeBase) -> Router:
    return Router(kb)


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A fresh copy of the shipped knowledge, to edit."""
    copy = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, copy)
    return copy


@pytest.fixture
def knowledge_copy(knowledge_dir: Path) -> KnowledgeCopy:
    """Replace one text in one file of ``knowledge_dir`` (each call edits the same copy)."""

    def edit(file: str, old: str, new: str) -> Path:
        path = knowledge_dir / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return knowledge_dir

    return edit


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API, started on a free loopback port and closed afterwards."""
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
