"""``python -m bot suggest``: YAML alternates to paste, from near misses and "did you mean"."""

from __future__ import annotations

import pytest
import yaml
from rapidfuzz.utils import default_process

from bot.cli import main
from bot.core.knowledge import load_knowledge
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from bot.storage.curation import known_phrasings
from tests.storage.conftest import TEST_SECRET


def _suggest(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[str, dict[str, list[str]]]:
    assert main(["suggest", *options]) == 0
    text = capsys.readouterr().out
    parsed = yaml.safe_load(text) or []
    assert isinstance(parsed, list)
    proposals: dict[str, list[str]] = {}
    for snippet in parsed:
        assert set(snippet) == {"id", "alternates"}
        proposals[snippet["id"]] = snippet["alternates"]
    return text, proposals


async def test_suggestions_are_yaml_for_existing_entries(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    text, proposals = _suggest(capsys)

    # A "did you mean" choice proposes its question for the chosen entry, without the broadcast.
    assert "who was involved in the event" in proposals["hackathon-companies"]
    assert "<!channel>" not in yaml.safe_dump(proposals)
    # A question after which the asker chose "none of these" is not proposed.
    assert all("the tool thing" not in phrasings for phrasings in proposals.values())
    known_ids = {entry.id for entry in kb.entries} | {item.id for item in kb.unstated}
    for intent, phrasings in proposals.items():
        assert intent in known_ids
        assert not {default_process(phrasing) for phrasing in phrasings} & known_phrasings(
            kb, intent
        )
    assert text.startswith("# ")


async def test_a_lower_score_proposes_more(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    _text, default = _suggest(capsys)
    _text, everything = _suggest(capsys, "--min-score", "0")
    assert sum(map(len, everything.values())) > sum(map(len, default.values()))


def test_nothing_to_suggest_says_so(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("USER_HASH_SECRET", TEST_SECRET.reveal())
    assert main(["db", "upgrade"]) == 0  # suggest itself creates and migrates nothing
    capsys.readouterr()
    text, proposals = _suggest(capsys, "--since", "7")
    assert proposals == {}
    assert "No alternates to propose from the last 7 days" in text


@pytest.mark.parametrize("score", ["1.5", "-0.1", "high"])
def test_a_bad_min_score_is_a_usage_error(score: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["suggest", "--min-score", score])
    assert exit_info.value.code == 2
