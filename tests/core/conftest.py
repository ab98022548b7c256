"""Shared fixtures for the core tests: the real knowledge base and a router over it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.router import Router
from bot.settings import DEFAULT_KNOWLEDGE_DIR


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(DEFAULT_KNOWLEDGE_DIR)


@pytest.fixture(scope="session")
def router(kb: KnowledgeBase) -> Router:
    return Router(kb)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Callable[[str, str, str], Path]:
    """Copy the real knowledge to a temporary folder, replacing one text in one file."""

    def make(file: str, old: str, new: str) -> Path:
        target = tmp_path / "knowledge"
        shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target)
        path = target / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return target

    return make
