"""One source's index: its analyser, its items' phrasings (lexical postings with IDF, and
embeddings), built once when the knowledge is loaded.

Each source has its own index and its own lexicon (the general one plus ``lexicon/SOURCE.yaml``),
so adding a source changes nothing in another's: not its vocabulary, its IDF, nor its concepts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.core.config import RouterConfig
from bot.core.embedding import StaticEmbedder
from bot.core.knowledge import Entry, KnowledgeBase, Lexicon, Unstated
from bot.core.normalise import Analyser, fold, words

Item = Entry | Unstated


@dataclass(frozen=True, slots=True)
class Phrasing:
    terms: frozenset[str]
    text: str
    question_types: frozenset[str]


@dataclass(frozen=True, slots=True)
class Indexed:
    item: Item
    phrasings: tuple[Phrasing, ...]
    strong: frozenset[str]  # words of its phrasings and keywords
    weak: frozenset[str]  # words of its answer and quotes only
    asks: frozenset[str]  # question types its phrasings ask (for unstated items)
    closest_vocabulary: frozenset[str]  # for unstated items: words of the closest entries
    closest_answers: frozenset[str]  # for unstated items: question types the closest give

    @property
    def unstated(self) -> bool:
        return isinstance(self.item, Unstated)


def general_vocabulary(kb: KnowledgeBase, lexicon: Lexicon) -> list[str]:
    """Texts every analyser knows: small talk, measures, safety words and a lexicon."""
    texts: list[str] = []
    for measure in kb.measures:
        texts += [measure.name, *measure.aliases, measure.summary]
    for topic in kb.smalltalk:
        texts += topic.phrases
    for group in (*lexicon.concepts.values(), *lexicon.question_types.values()):
        texts += group
    texts += [*lexicon.stopwords, *lexicon.domain_terms, *lexicon.typos.values()]
    for group in kb.safety.lists.values():
        texts += group
    return texts


def make_analyser(lexicon: Lexicon, texts: Sequence[str]) -> Analyser:
    """An analyser over a lexicon whose typo corrections aim at the words of ``texts``."""
    vocabulary = Counter(words(fold("\n".join(texts))))
    return Analyser(
        concepts=lexicon.concepts,
        question_types=lexicon.question_types,
        stopwords=lexicon.stopwords,
        typos=lexicon.typos,
        vocabulary=vocabulary,
        protected=lexicon.known_words,
        fillers=lexicon.fillers,
    )


def general_analyser(kb: KnowledgeBase) -> Analyser:
    """The analyser of the general lexicon (safety and small talk run on it)."""
    return make_analyser(kb.lexicon, general_vocabulary(kb, kb.lexicon))


def sorted_words(text: str) -> str:
    """A text's words in alphabetical order: rapidfuzz's ``token_sort_ratio`` of two texts is
    the plain ``ratio`` of their sorted words."""
    return " ".join(sorted(text.split()))


class SourceIndex:
    """The lexical and semantic index of one source's entries and unstated items."""

    def __init__(
        self,
        kb: KnowledgeBase,
        source: str,
        items: Sequence[Item],
        embedder: StaticEmbedder,
        config: RouterConfig,
    ) -> None:
        self.kb = kb
        self.source = source
        self.config = config
        lexicon = kb.source_lexicons[source]
        texts = general_vocabulary(kb, lexicon)
        for item in items:
            texts += [*item.phrasings, *item.keywords]
            if isinstance(item, Entry):
                texts += [item.answer, *(c.quote for c in item.citations)]
            else:
                texts.append(item.missing)
        self.analyser = make_analyser(lexicon, texts)
        self.subjects = frozenset(f"@{name}" for name in lexicon.subjects)
        self.entities = frozenset(f"@{name}" for name in lexicon.entities)
        self.domain = self.analyser.analyse(" ".join(lexicon.domain_terms)).terms
        self._entries = {entry.id: entry for entry in kb.entries}
        self._term_cache: dict[str, frozenset[str]] = {}
        self.indexed = [self._index(item) for item in items]
        self.items = {item.id: item for item in items}
        self.position = {item.id: position for position, item in enumerate(items)}
        # term -> phrasing ids; term -> the candidates whose words have it, with their credit
        # towards "explained" (1 in a phrasing or keyword, less in the answer or quotes only).
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.phrasing_owner: list[int] = []
        self.phrasings: list[Phrasing] = []
        credit_lists: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        document_frequency: dict[str, int] = defaultdict(int)
        for position, indexed in enumerate(self.indexed):
            credit = dict.fromkeys(indexed.weak, config.weak_vocabulary_credit)
            credit.update(dict.fromkeys(indexed.strong, 1.0))
            for term, value in credit.items():
                document_frequency[term] += 1
                credit_lists[term][0].append(position)
                credit_lists[term][1].append(value)
            for phrasing in indexed.phrasings:
                for term in phrasing.terms:
                    self.postings[term].append(len(self.phrasings))
                self.phrasing_owner.append(position)
                self.phrasings.append(phrasing)
        self.credit = {
            term: (np.asarray(positions, dtype=np.intp), np.asarray(values, dtype=np.float64))
            for term, (positions, values) in credit_lists.items()
        }
        count = max(len(self.indexed), 1)
        self.idf = {t: math.log(1 + count / df) for t, df in document_frequency.items()}
        self.unknown_idf = math.log(1 + count / 0.5)
        self.phrasing_weight = [sum(map(self.weight, p.terms)) for p in self.phrasings]
        self.phrasing_texts = [p.text for p in self.phrasings]
        # Each item's phrasings with their words in order, for rapidfuzz's token-sort ratio
        # (see :func:`sorted_words`), sorted once here rather than at every question.
        self.item_phrasings_sorted = [
            [sorted_words(p.text) for p in i.phrasings] for i in self.indexed
        ]
        for postings in self.postings.values():
            postings.sort(key=lambda phrasing_id: self.phrasing_weight[phrasing_id])
        # Semantic: one row per phrasing (grouped by owner, in order) and one per item's answer.
        semantic_texts: list[str] = []
        self.semantic_starts: list[int] = []
        for item in items:
            self.semantic_starts.append(len(semantic_texts))
            semantic_texts += [*item.phrasings, *item.keywords]
        self.semantic_phrasings: npt.NDArray[np.float32] = embedder.embed_many(semantic_texts)
        ends = [*self.semantic_starts[1:], len(semantic_texts)]
        spans = list(zip(self.semantic_starts, ends, strict=True))
        self.semantic_rows = [np.arange(a, b) for a, b in spans]
        self.semantic_owner = np.repeat(np.arange(len(spans)), [b - a for a, b in spans])
        centroids = (
            np.stack([self.semantic_phrasings[a:b].mean(axis=0) for a, b in spans])
            if items
            else np.zeros((0, embedder.dimensions), dtype=np.float32)
        )
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self.semantic_centroids = (centroids / np.where(norms > 0, norms, 1)).astype(np.float32)
        # An unstated item has no answer of its own: it offers its closest entries' facts, so
        # its answer vector is theirs (its own wording would read like one more phrasing).
        self.semantic_answers: npt.NDArray[np.float32] = embedder.embed_many(
            [self._answer_text(item) for item in items]
        )

    def _answer_text(self, item: Item) -> str:
        entries = [item] if isinstance(item, Entry) else [self._entries[i] for i in item.closest]
        return " ".join(
            part for e in entries for part in (e.answer, *(c.quote for c in e.citations))
        )

    def explained(self, weights: dict[str, float]) -> npt.NDArray[np.float64]:
        """Per item, the weight of a question's terms its words explain (each term's weight
        times the item's credit for it, added in the question's term order)."""
        found = np.zeros(len(self.indexed), dtype=np.float64)
        for term, weight in weights.items():
            postings = self.credit.get(term)
            if postings is not None:
                positions, values = postings
                found[positions] += weight * values
        return found

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unknown_idf)

    def question_weight(self, term: str) -> float:
        """A question word's weight: named entities are arguments and weigh less."""
        weight = self.weight(term)
        return weight * self.config.entity_factor if term in self.entities else weight

    def semantic(
        self, vector: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Per item: the best cosine to its phrasings, and the cosine to its answer."""
        if not self.indexed:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty
        answers = self.semantic_answers @ vector
        limit = self.config.semantic_prefilter
        if len(self.indexed) <= limit:
            phrasing = self.semantic_phrasings @ vector
            return np.maximum.reduceat(phrasing, self.semantic_starts), answers
        # A large base: rank items by their centroid, then take the exact best phrasing of
        # the nearest ``limit`` only (the others keep their centroid's cosine, a lower bound
        # of nothing but a fair rank).
        best = self.semantic_centroids @ vector
        nearest = np.argpartition(-best, limit - 1)[:limit]
        rows = np.concatenate([self.semantic_rows[item] for item in nearest])
        exact = np.full(len(best), -1.0, dtype=np.float32)
        np.maximum.at(exact, self.semantic_owner[rows], self.semantic_phrasings[rows] @ vector)
        best[nearest] = exact[nearest]
        return best, answers

    # --- indexing -----------------------------------------------------------------------

    def coverage(self, terms: frozenset[str]) -> float:
        """The share of a question's terms that this source's items use (in phrasings,
        answers or the sentences they quote): how far the question is in this source's
        language at all."""
        return sum(term in self.idf for term in terms) / len(terms) if terms else 0.0

    def _terms(self, text: str) -> frozenset[str]:
        """Terms of a knowledge text; memoised, as the closest entries of unstated items
        are read again for each of them."""
        if text not in self._term_cache:
            self._term_cache[text] = self.analyser.analyse(text).terms
        return self._term_cache[text]

    def _index(self, item: Item) -> Indexed:
        phrasings = []
        # Keywords are short phrasings too: "250k" alone should find the innovation call.
        for text in (*item.phrasings, *item.keywords):
            analysis = self.analyser.analyse(text)
            self._term_cache[text] = analysis.terms
            phrasings.append(Phrasing(analysis.terms, analysis.text, analysis.question_types))
        strong = set().union(*(p.terms for p in phrasings))
        if isinstance(item, Entry):
            weak = set(self._terms(item.answer))
            for citation in item.citations:
                source = self.kb.sources[citation.source]
                weak |= self._terms(source.sentences_around(citation))
        else:
            weak = set(self._terms(item.missing))
        asks = frozenset().union(*(p.question_types for p in phrasings))
        closest: set[str] = set()
        closest_answers: set[str] = set()
        if isinstance(item, Unstated):
            for entry_id in item.closest:
                entry = self._entries[entry_id]
                closest_answers |= entry.answers
                for text in (*entry.phrasings, *entry.keywords, entry.answer):
                    closest |= self._terms(text)
        return Indexed(
            item,
            tuple(phrasings),
            frozenset(strong),
            frozenset(weak - strong),
            asks,
            frozenset(closest),
            frozenset(closest_answers),
        )
