"""Normalisation: Slack markup, folding, numbers, typos, stems, concepts and question types."""

from __future__ import annotations

import pytest

from bot.core.normalise import MAX_QUESTION_CHARS, fold, stem, strip_slack_markup, words
from bot.core.router import Router


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U012AB3CD> who hosted it", "who hosted it"),
        ("<@U012AB3CD|alice> hi", "hi"),
        ("<!here> what is CAID", "what is CAID"),
        ("<!channel> <!everyone> hello", "hello"),
        ("<!subteam^S123|@team> ping", "ping"),
        ("see <https://example.org|the story>", "see the story"),
        ("see <https://example.org>", "see"),
        ("in <#C024BE91L|general> now", "in now"),
        ("> quoted question", "quoted question"),
        ("what :thinking_face: is it", "what is it"),
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
    ],
)
def test_slack_markup_is_stripped(raw: str, expected: str) -> None:
    assert " ".join(strip_slack_markup(raw).split()) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("*How much* is the _innovation call_?", "how much is the innovation call"),
        ("What’s the “taskforce”?", "what is the taskforce"),
        ("£250k", "250000"),
        ("£250,000", "250000"),
        ("250 000 pounds", "250000 pounds"),
        ("0.25 million", "250000"),
        ("Five Country Ministerial", "5 country ministerial"),
        ("in the US", "in the usa"),
        ("the U.S.A.", "the usa"),
        ("don't can't won't I'm", "do not can not will not i am"),
        ("the Home Secretary's trip", "the home secretary trip"),
        ("what???!!!", "what"),
        ("tab\there\x00\x07bell", "tab here bell"),
        ("\x1b[1;31mred\x1b[0m text, 5m", "red text 5000000"),
    ],
)
def test_folding(raw: str, expected: str) -> None:
    assert " ".join(words(fold(raw))) == expected


def test_questions_are_cut_to_the_documented_length(router: Router) -> None:
    padding = "please " * (MAX_QUESTION_CHARS // 7 + 1)
    assert router.reply(f"{padding} who chairs the taskforce?").intent is None
    assert router.reply("who chairs the taskforce? " + padding).intent == "taskforce-chair"


def test_long_knowledge_texts_are_not_cut() -> None:
    text = "word " * MAX_QUESTION_CHARS + "taskforce"
    assert fold(text).endswith("taskforce")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("companies", "company"),
        ("flagged", "flag"),
        ("flagging", "flag"),
        ("analysed", stem("analyse")),
        ("images", stem("image")),
        ("goes", "go"),
        ("process", "process"),
    ],
)
def test_stemming_makes_forms_meet(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [
        ("hackaton", "hackathon"),
        ("taskfroce", "taskforce"),
        ("whcih", "which"),
        ("ministeral", "ministerial"),
        ("lnog", "long"),
        ("wat", "what"),
    ],
)
def test_typos_are_corrected(router: Router, typo: str, fixed: str) -> None:
    assert fixed in router.analyser.analyse(typo).words


@pytest.mark.parametrize("word", ["room", "book", "founded", "weather", "pizza"])
def test_real_words_are_not_corrected_into_domain_words(router: Router, word: str) -> None:
    assert router.analyser.analyse(word).words == (word,)


@pytest.mark.parametrize(
    ("question", "concept"),
    [
        ("What does the IWF do?", "@iwf"),
        ("internet watch foundation", "@iwf"),
        ("tell me about CAID", "@caid"),
        ("the child abuse image database", "@caid"),
        ("what is CSE", "@cse"),
        ("the 5 country ministerial", "@fcm"),
        ("the £250k call", "@amount_250k"),
        ("250,000", "@amount_250k"),
        ("task force", "@taskforce"),
        ("the NCA", "@nca"),
    ],
)
def test_domain_abbreviations_and_numbers_map_to_concepts(
    router: Router, question: str, concept: str
) -> None:
    assert concept in router.analyser.analyse(question).terms


@pytest.mark.parametrize(
    ("question", "types"),
    [
        ("who hosted it", {"who"}),
        ("when is it", {"when"}),
        ("what month was it", {"when"}),
        ("where was it", {"where"}),
        ("how much did it cost", {"amount"}),
        ("how many countries", {"count"}),
        ("how many days did it last", {"duration"}),
        ("how long was it", {"duration"}),
        ("what is it", set()),
    ],
)
def test_question_types(router: Router, question: str, types: set[str]) -> None:
    assert router.analyser.analyse(question).question_types == types
