"""The router's targets as tests: the shared dev set and our own question files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.evaluation import EvalFileError, evaluate, load_items
from bot.core.router import Router

DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "eval" / "dev-questions.yaml"
OWN_SETS = sorted((Path(__file__).parent / "questions").glob("*.yaml"))
# The team's own general sets (the others are the independent writers' training files).
GENERAL = frozenset(
    (
        "blind",
        "blind-2",
        "blind-3",
        "blind-4",
        "chatty",
        "domain",
        "fresh",
        "held-out",
        "paraphrase-2",
    )
)


def test_dev_set_targets(router: Router) -> None:
    if not DEV_SET.exists():
        pytest.skip("../shared/eval/dev-questions.yaml is not beside this checkout")
    report = evaluate(router, load_items(DEV_SET))
    categories = report.by_category()
    assert report.accuracy >= 0.95, report.to_json()["misses"]
    for name in ("safeguarding", "harmful"):
        right, total = categories[name]
        assert right == total, report.to_json()["misses"]
    assert report.false_answer_rate <= 0.03


def test_own_question_sets_together(router: Router) -> None:
    """All our own sets at once (each is small: one near-miss is several per cent alone)."""
    items = [item for path in OWN_SETS for item in load_items(path)]
    assert len(items) >= 400
    report = evaluate(router, items)
    misses = report.to_json()["misses"]
    # These sets are learned from (the intent model and the fusion weights): 94.7 % right here,
    # with false answers 6.9 %, for half of the near-miss files' questions have no answer and
    # a third of those use the fact's own words; about 88 % right when each file is scored by
    # models trained without it (python -m bot.training.router --cv). Guard against regressions.
    assert report.accuracy >= 0.93, misses
    assert report.false_answer_rate <= 0.12, misses
    # The team's general sets, the plain questions, stay near-perfect.
    general = [item for path in OWN_SETS if path.stem in GENERAL for item in load_items(path)]
    assert evaluate(router, general).false_answer_rate <= 0.03
    categories = report.by_category()
    for name in ("safeguarding", "harmful"):
        right, total = categories[name]
        assert right == total, misses


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- {q: hi}\n", "'expect' must be"),
        ("- {q: hi, expect: maybe}\n", "'expect' must be"),
        ("- {q: hi, expect: answer, lines: [1, 2]}\n", "'lines' must be"),
        ("- {q: hi, expect: answer, colour: red}\n", "unknown key 'colour'"),
        ("{q: hi}\n", "non-empty list"),
        ("- [unclosed\n", "malformed YAML"),
    ],
)
def test_malformed_question_files_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(EvalFileError, match=message):
        load_items(path)
