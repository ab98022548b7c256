"""The knowledge contract: each broken-knowledge case fails ``python -m bot check`` with one
line naming the file and the key, and a hot reload rejects the same edit with the same reason,
so the previous knowledge keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.deploy.reload import KnowledgeWatcher, Loaded, Rejected
from tests.conftest import KnowledgeCopy

SOURCE_META = "sources/home-office-hackathon-2018.yaml"
STOP_IT_NOW_LINE = 1 + next(
    number
    for number, line in enumerate(
        (Path(__file__).parents[2] / "knowledge" / "safety.yaml").read_text("utf-8").splitlines()
    )
    if line == "  - id: stop-it-now"
)

CASES = [
    pytest.param(
        "messages.yaml",
        '  clarify: "I can answer a few things close to that. Did you mean:"\n',
        "",
        "messages.yaml: missing key 'core.clarify'",
        id="message-missing",
    ),
    pytest.param(
        "messages.yaml",
        "  closest_intro:",
        '  colour: "red"\n  closest_intro:',
        "messages.yaml: unknown key 'core.colour'",
        id="message-unknown",
    ),
    pytest.param(
        "messages.yaml",
        "core:\n",
        "footer:\n  note: a note\ncore:\n",
        "messages.yaml: unknown section 'footer'",
        id="message-section-unknown",
    ),
    pytest.param(
        "messages.yaml",
        '"Source: {title}, line {first}"',
        '"Source: {title}, line {frist}"',
        "messages.yaml: message 'core.source_line_single': unknown placeholder {frist}",
        id="message-placeholder-unknown",
    ),
    pytest.param(
        "safety.yaml",
        "  first_person: [i, me, my, we, our, us, myself]\n",
        "",
        "safety.yaml: vocabulary: list 'first_person' is missing",
        id="safety-list-missing",
    ),
    pytest.param(
        "safety.yaml",
        "  first_person: [",
        "  first_persons: [",
        "safety.yaml: vocabulary: unknown list 'first_persons'",
        id="safety-list-unknown",
    ),
    pytest.param(
        "safety.yaml",
        "    role: self_help\n",
        "",
        f"safety.yaml entry 'stop-it-now' (line {STOP_IT_NOW_LINE}): missing key 'role'",
        id="route-role-missing",
    ),
    pytest.param(
        "safety.yaml",
        "    role: self_help\n",
        "    role: helpline\n",
        f"safety.yaml entry 'stop-it-now' (line {STOP_IT_NOW_LINE}): unknown role 'helpline'",
        id="route-role-unknown",
    ),
    pytest.param(
        "safety.yaml",
        "    role: emergency\n",
        "    role: child_support\n",
        "safety.yaml: routes: no route has the role 'emergency'",
        id="route-emergency-missing",
    ),
    pytest.param(
        "safety.yaml",
        "  - id: iwf\n",
        "  - id: ceop\n",
        "safety.yaml: duplicate route id 'ceop'",
        id="route-id-duplicate",
    ),
    pytest.param(
        SOURCE_META,
        "topic: >-\n",
        "topics: >-\n",
        f"{SOURCE_META} (line 2): unknown key 'topics'",
        id="source-topic-misspelt",
    ),
]


def check_error(directory: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``python -m bot check`` on ``directory``: it must fail with exactly one line."""
    assert main(["check", "--knowledge", str(directory)]) == 2
    err = capsys.readouterr().err
    assert err.endswith("\n"), err
    assert err.count("\n") == 1, err
    return err.removeprefix("python -m bot check: ").strip()


@pytest.mark.parametrize(("file", "old", "new", "message"), CASES)
def test_broken_knowledge_fails_check_and_reload_alike(
    knowledge_dir: Path,
    knowledge_copy: KnowledgeCopy,
    capsys: pytest.CaptureFixture[str],
    file: str,
    old: str,
    new: str,
    message: str,
) -> None:
    watcher = KnowledgeWatcher(knowledge_dir)
    assert isinstance(watcher.try_load("start"), Loaded)

    folder = knowledge_copy(file, old, new)
    reason = check_error(folder, capsys)
    assert reason.startswith(message)
    outcome = watcher.try_load("file change")
    assert isinstance(outcome, Rejected)
    assert outcome.reason == reason


def test_knowledge_without_measures_loads_and_check_passes(
    knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (knowledge_dir / "measures.yaml").unlink()
    assert main(["check", "--knowledge", str(knowledge_dir)]) == 0
    assert "measures: 0" in capsys.readouterr().out


def test_check_gives_exact_line_spans(
    knowledge_copy: KnowledgeCopy, capsys: pytest.CaptureFixture[str]
) -> None:
    """An uncited sentence is reported from its own first line (not the line before it)."""
    folder = knowledge_copy(
        "faq.yaml",
        '    - "The Home Secretary was thanked for his leadership and commitment to the issue'
        ' of CSE."',
        '    - "Home Secretary said:"',
    )
    assert main(["check", "--knowledge", str(folder)]) == 1
    out = capsys.readouterr().out
    assert (
        "home-office-hackathon-2018 lines 35-37: The Home Secretary was thanked for his "
        "leadership and commitment to the issue of CSE." in out
    )


def test_an_ambiguous_quote_fails_check_and_reload_alike(
    knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second source that also holds a quoted sentence: the quote must say which it means."""
    watcher = KnowledgeWatcher(knowledge_dir)
    assert isinstance(watcher.try_load("start"), Loaded)
    sources = knowledge_dir / "sources"
    (sources / "copy.txt").write_text("A prototype tool has been developed\nelsewhere.\n")
    (sources / "copy.yaml").write_text("title: Copy\ntopic: a copy\npublisher: Us\nlicence: CC0\n")

    reason = check_error(knowledge_dir, capsys)
    assert reason.startswith("faq.yaml entry ")
    assert "is in several sources (copy, home-office-hackathon-2018): add 'source:'" in reason
    outcome = watcher.try_load("file change")
    assert isinstance(outcome, Rejected)
    assert outcome.reason == reason
