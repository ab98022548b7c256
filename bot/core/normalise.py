"""Turning a raw question into words the router can compare.

A question arrives with Slack markup, curly quotes, emoji, typos and the domain's own
abbreviations. This module strips the markup, folds the text, expands contractions and numbers,
corrects typos against the knowledge base's vocabulary, stems, and maps words and phrases to the
concepts of ``lexicon.yaml``. The result, an :class:`Analysis`, is what every check works on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

#: Questions are cut to this many characters before matching (documented in the README).
MAX_QUESTION_CHARS = 500
#: Question words that set a question's type only within the first few words.
INTERROGATIVES = frozenset({"who", "whom", "whose", "when", "where", "how", "what", "which", "by"})
INTERROGATIVE_REACH = 3
CLAUSE_SUBJECTS = frozenset({"it", "they", "we", "you", "i", "he", "she", "this", "that"})

_USER_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#[A-Z0-9]+(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]*)(?:\|([^>]*))?>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+'\-]+:")
_US = re.compile(r"\bU\.?S\.?A?\b\.?")
_DIGIT = re.compile(r"\d")
_THOUSANDS = re.compile(r"(?<=\d)[, ](?=\d{3}\b)")
_MULTIPLIER = re.compile(r"\b(\d+(?:\.\d+)?)\s*(k|thousand|m|million)\b")
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(what|who|where|when|how|it|that|there|here|he|she|which)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"s'(?=\s|$)"), "s"),
)
_NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_FOLD = str.maketrans(
    {"‘": "'", "’": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "–": "-", "—": "-", "£": " "}
)
_WORD = re.compile(r"[a-z0-9]+")
_WHITESPACE_CONTROLS = re.compile(r"[\n\r\t\f\v]")


def strip_slack_markup(text: str) -> str:
    """Remove mentions, channel links, broadcasts and emoji codes; keep link labels."""
    if not any(mark in text for mark in "<&:>"):
        return text
    text = _USER_MENTION.sub(" ", text)
    text = _CHANNEL_LINK.sub(" ", text)
    text = _SPECIAL.sub(lambda m: f" {m.group(2) or ''} " if m.group(1) == "date" else " ", text)
    text = _LINK.sub(lambda m: f" {m.group(2) or ''} ", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _EMOJI_CODE.sub(" ", text)
    return re.sub(r"(^|\n)\s*>+", r"\1 ", text)


# ANSI/VT terminal escape sequences: CSI ("ESC [" parameters, a final letter) or ESC and one.
_TERMINAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


def fold(text: str) -> str:
    """Plain lower-case text: markup gone, control characters gone, numbers in one form.

    Questions are cut to MAX_QUESTION_CHARS by the router before they get here."""
    text = strip_slack_markup(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if not text.isprintable():
        text = _WHITESPACE_CONTROLS.sub(" ", text)
        if not text.isprintable():
            # A terminal escape ("\x1b[31m") is not words: it goes whole, not just its ESC.
            text = _TERMINAL_ESCAPE.sub(" ", text)
            text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = text.translate(_FOLD)
    if "U" in text:
        text = _US.sub(" usa ", text)
    text = text.lower()
    if "'" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    if _DIGIT.search(text):  # both patterns need a digit (\d) to match
        text = _THOUSANDS.sub("", text)
        text = _MULTIPLIER.sub(_expand_multiplier, text)
    return text


def _expand_multiplier(match: re.Match[str]) -> str:
    factor = 1000 if match.group(2) in ("k", "thousand") else 1_000_000
    return str(round(float(match.group(1)) * factor))


def words(text: str) -> list[str]:
    """The words of a folded text, with number words as digits."""
    return [_NUMBER_WORDS.get(w, w) for w in _WORD.findall(text)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer: enough to make plurals and -ing/-ed forms meet."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("oes") and len(word) == 4:
        return word[:-2]  # goes, does
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 5:
        word = word.replace("yz", "ys").replace("iz", "is")  # analyze, organize: one form
    return word


def stems(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(fold(text)))


class PhraseMatcher:
    """Finds phrases (runs of stemmed words) in a stemmed word sequence, longest first."""

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
        labels: dict[tuple[str, ...], set[str]] = {}
        for label, variants in phrases.items():
            for variant in variants:
                key = stems(variant)
                if key:
                    labels.setdefault(key, set()).add(label)
        for key, found in labels.items():
            self._by_first.setdefault(key[0], []).append((key, frozenset(found)))
        for options in self._by_first.values():
            options.sort(key=lambda option: -len(option[0]))
        self._firsts = frozenset(self._by_first)

    def scan(self, sequence: tuple[str, ...]) -> list[tuple[int, int, frozenset[str]]]:
        """Non-overlapping matches as (start, end, labels), scanning left to right."""
        found: list[tuple[int, int, frozenset[str]]] = []
        if self._firsts.isdisjoint(sequence):
            return found
        index = 0
        while index < len(sequence):
            for key, labels in self._by_first.get(sequence[index], ()):
                if tuple(sequence[index : index + len(key)]) == key:
                    found.append((index, index + len(key), labels))
                    index += len(key)
                    break
            else:
                index += 1
        return found

    def labels(self, sequence: tuple[str, ...]) -> frozenset[str]:
        return frozenset(label for _, _, labels in self.scan(sequence) for label in labels)

    def contains(self, sequence: tuple[str, ...]) -> bool:
        """Whether any phrase occurs (the first match ends the search)."""
        if self._firsts.isdisjoint(sequence):  # most lists, most messages: no phrase can start
            return False
        by_first = self._by_first
        for index, word in enumerate(sequence):
            for key, _ in by_first.get(word, ()):
                if sequence[index : index + len(key)] == key:
                    return True
        return False


@dataclass(frozen=True, slots=True)
class Analysis:
    """A question as the router sees it."""

    text: str  # folded, corrected words joined by spaces
    words: tuple[str, ...]  # folded, corrected words
    stems: tuple[str, ...]
    terms: frozenset[str]  # concepts ("@name") and content stems: what the question is about
    question_types: frozenset[str]  # who, when, where, amount, count, duration

    @property
    def is_empty(self) -> bool:
        return not self.words


class Analyser:
    """Analyses questions against one knowledge base's vocabulary and lexicon."""

    def __init__(
        self,
        *,
        concepts: Mapping[str, Iterable[str]],
        question_types: Mapping[str, Iterable[str]],
        stopwords: Iterable[str],
        typos: Mapping[str, str],
        vocabulary: Mapping[str, int],
        protected: Iterable[str] = (),
        fillers: Iterable[str] = (),
    ) -> None:
        self._concepts = PhraseMatcher(concepts)
        self._fillers = PhraseMatcher({"filler": fillers})
        self._question_types = PhraseMatcher(question_types)
        self._stopwords = frozenset(stem(w) for s in stopwords for w in words(fold(s)))
        self._typos = {k.lower(): v.lower() for k, v in typos.items()}
        protected_words = {w for p in protected for w in words(fold(p))}
        self._vocabulary = frozenset(vocabulary) | protected_words
        self._known_stems = frozenset(stem(w) for w in self._vocabulary) | self._stopwords
        self._frequency = dict(vocabulary)
        # Only words the knowledge uses (not protected ones) are targets for corrections.
        self._targets = sorted(w for w in vocabulary if len(w) >= 3 and w.isalpha())
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)
        self.analyse = lru_cache(maxsize=1024)(self._analyse)  # type: ignore[method-assign]

    def _correct_uncached(self, word: str) -> str:
        if word in self._vocabulary or not word.isalpha() or stem(word) in self._known_stems:
            return word  # known, or a form of a known word ("putting")
        if word in self._typos:
            return self._typos[word]
        if len(word) < 4:
            return word
        limit = 1 if len(word) < 8 else 2
        matches = process.extract(
            word, self._targets, scorer=OSA.distance, score_cutoff=limit, limit=8
        )
        if len(word) == 4:
            # Short real words sit one edit from domain words (room/groom, book/look): only
            # a swap of two letters (lnog), a dropped last letter (smal) or a final z (dayz).
            matches = [
                m
                for m in matches
                if sorted(m[0]) == sorted(word)
                or (len(m[0]) == 5 and m[0].startswith(word))
                or (word.endswith("z") and m[0] == word[:-1] + "s")
            ]
        if not matches:
            return word
        # Prefer the smallest distance, then the same first letter, then the word the
        # knowledge uses most ("mutch" -> "much", not "match"), then the closest length.
        best = min(
            matches,
            key=lambda m: (
                m[1],
                m[0][0] != word[0],
                -self._frequency.get(m[0], 0),
                abs(len(m[0]) - len(word)),
            ),
        )
        return best[0]

    def correct(self, text_words: Iterable[str]) -> list[str]:
        corrected: list[str] = []
        for word in text_words:
            corrected.extend(words(self._correct(word)))
        return corrected

    def analyse(self, question: str) -> Analysis:
        """The analysis of a question (memoised per analyser: analyses are immutable)."""
        return self._analyse(question)

    def clear_cache(self) -> None:
        """Forget memoised analyses (for benchmarks that must time the real work); the
        corrections of single words stay, as words recur."""
        self.analyse.cache_clear()  # type: ignore[attr-defined]

    def _analyse(self, question: str) -> Analysis:
        corrected = tuple(self.correct(words(fold(question))))
        stemmed = tuple(stem(w) for w in corrected)
        terms: set[str] = set()
        covered: set[int] = set()
        for start, end, _ in self._fillers.scan(stemmed):
            covered.update(range(start, end))
        content = tuple("" if i in covered else s for i, s in enumerate(stemmed))
        for start, end, labels in self._concepts.scan(content):
            terms.update(f"@{label}" for label in labels)
            covered.update(range(start, end))
        for index, word_stem in enumerate(stemmed):
            # A bare number no concept knows (a guessed "48" hours) is the question's own
            # value, not its topic; the words around it say what it asks about.
            if (
                index not in covered
                and word_stem not in self._stopwords
                and not word_stem.isdigit()
            ):
                terms.add(word_stem)
        return Analysis(
            text=" ".join(corrected),
            words=corrected,
            stems=stemmed,
            terms=frozenset(terms),
            question_types=self._types(content),
        )

    def _types(self, content: tuple[str, ...]) -> frozenset[str]:
        """Question types asked. An interrogative ("when", "how much") counts only near the
        start ("how does it flag chats *when* ..." asks no date); a noun ("cost") anywhere."""
        words_before = 0
        found: set[str] = set()
        position = {i: n for n, i in enumerate(i for i, s in enumerate(content) if s)}
        for start, end, labels in self._question_types.scan(content):
            words_before = position.get(start, 0)
            if content[start] not in INTERROGATIVES:
                found |= labels
            elif words_before <= INTERROGATIVE_REACH and not (
                end < len(content) and content[end] in CLAUSE_SUBJECTS
            ):
                # "when it is done, who ..." opens a clause, not a question about a time.
                found |= labels
        return frozenset(found)
