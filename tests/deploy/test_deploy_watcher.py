"""Finding knowledge edits: settled changes only, one log line per rejected edit, and the
symlink swap a Kubernetes ConfigMap volume makes."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from bot.deploy.reload import KnowledgeWatcher, Loaded, Rejected, fingerprint
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from tests.deploy.knowledge_edits import MARK, break_faq, mark_answer

QUESTION = "Who co-hosted the hackathon?"


def touch_later(path: Path) -> None:
    """Change a file's modification time without waiting for the clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_change_is_reported_once_it_has_settled(knowledge_dir: Path) -> None:
    watcher = KnowledgeWatcher(knowledge_dir)
    assert not watcher.settled_change()
    touch_later(knowledge_dir / "measures.yaml")
    assert not watcher.settled_change()  # seen once: maybe still being written
    assert watcher.settled_change()
    touch_later(knowledge_dir / "measures.yaml")
    assert not watcher.settled_change()
    touch_later(knowledge_dir / "measures.yaml")  # moved again: wait once more
    assert not watcher.settled_change()
    assert watcher.settled_change()


def test_training_data_edits_are_not_knowledge_changes(knowledge_dir: Path) -> None:
    watcher = KnowledgeWatcher(knowledge_dir)
    before = fingerprint(knowledge_dir)
    touch_later(next((knowledge_dir / "safety" / "corpus").glob("*.yaml")))
    assert fingerprint(knowledge_dir) == before
    assert not watcher.settled_change()
    assert not watcher.settled_change()


def test_a_valid_edit_loads_and_is_then_the_current_version(knowledge_dir: Path) -> None:
    watcher = KnowledgeWatcher(knowledge_dir)
    faq = (knowledge_dir / "faq.yaml").read_text(encoding="utf-8")
    mark_answer(knowledge_dir, faq, "hackathon-hosts")

    outcome = watcher.try_load("test")

    assert isinstance(outcome, Loaded)
    assert outcome.router.reply(QUESTION).body.startswith(MARK)
    assert outcome.fingerprint == fingerprint(knowledge_dir)
    assert not watcher.settled_change()
    assert not watcher.settled_change()


def test_an_invalid_edit_is_rejected_with_one_line_and_not_retried(
    knowledge_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = KnowledgeWatcher(knowledge_dir)
    break_faq(knowledge_dir)
    assert not watcher.settled_change()
    assert watcher.settled_change()

    with caplog.at_level(logging.INFO, logger="bot.deploy.reload"):
        outcome = watcher.try_load("file change")
        for _ in range(3):
            assert not watcher.settled_change()

    assert isinstance(outcome, Rejected)
    assert "faq.yaml" in outcome.reason
    assert "\n" not in outcome.reason
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "knowledge reload rejected (file change)" in record.getMessage()
    assert "still serving the previous knowledge" in record.getMessage()


def test_a_configmap_style_symlink_swap_is_seen(tmp_path: Path) -> None:
    # The kubelet writes a new timestamped folder and repoints ..data at it.
    volume = tmp_path / "volume"
    volume.mkdir()
    first = volume / "..2024_01_01_00_00_00.000000001"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, first)
    (volume / "..data").symlink_to(first.name)
    for name in ("faq.yaml", "sources"):
        (volume / name).symlink_to(f"..data/{name}")
    for path in DEFAULT_KNOWLEDGE_DIR.glob("*.yaml"):
        if path.name != "faq.yaml":
            (volume / path.name).symlink_to(f"..data/{path.name}")
    watcher = KnowledgeWatcher(volume)
    assert all(not relative.startswith("..") for relative, *_ in fingerprint(volume))
    assert isinstance(watcher.try_load("start"), Loaded)

    second = volume / "..2024_01_01_00_01_00.000000002"
    shutil.copytree(first, second)
    mark_answer(second, (first / "faq.yaml").read_text(encoding="utf-8"), "hackathon-hosts")
    (volume / "..data_tmp").symlink_to(second.name)
    (volume / "..data_tmp").replace(volume / "..data")
    shutil.rmtree(first)

    assert not watcher.settled_change()
    assert watcher.settled_change()
    outcome = watcher.try_load("file change")
    assert isinstance(outcome, Loaded)
    assert outcome.router.reply(QUESTION).body.startswith(MARK)
