"""Scoring one source's candidates for a question: a lexical and a semantic signal, fused.

Lexical (from the analysed question): IDF-weighted overlap with the candidate's best phrasing,
the share of the question the candidate's words explain, rapidfuzz similarity, and penalties
when the candidate gives another type of fact (who, when, how much ...) or is about another
subject. Semantic (from the question's static embedding): cosine to the candidate's closest
phrasing and to its answer and quotes.

Learned (when the source has an intent model, :mod:`bot.core.intent_model`): the model's
probability for an entry, and its probability that the source does not answer the question;
and the closeness of the question to the nearest text the model learned for the entry, and to
the nearest it learned as not answered (read by the answer gate, not fused: so only for the
candidate the gate reads, the likeliest that may answer, :meth:`Candidate.may_answer`).

Candidates are the lexical best, the semantic nearest and the intent model's most probable.
The fusion model of :class:`bot.core.config.FusionWeights` turns each candidate's signals into
the probability that it answers the question (``fusion``, or ``fusion_without_intent`` for an
unstated item and for every candidate of a source without a model).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.core.config import FusionWeights, RouterConfig
from bot.core.index import Indexed, SourceIndex, sorted_words
from bot.core.intent_model import NOT_ANSWERED, Nearest
from bot.core.knowledge import Entry
from bot.core.normalise import Analysis


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored candidate: every signal, and the fused probability."""

    intent: str
    question: str
    unstated: bool
    lexical: float = 0.0  # combined lexical score, penalties applied, 0..1
    explained: float = 0.0
    similarity: float = 0.0  # rapidfuzz similarity to the best phrasing, 0..100
    semantic: float = 0.0  # cosine to the closest phrasing
    semantic_answer: float = 0.0  # cosine to the answer and quotes
    semantic_gap: float = 0.0
    lexical_gap: float = 0.0
    wrong_type: bool = False
    other_subject: bool = False
    distinct: bool = True  # for unstated items: asks something its closest entries lack
    intent_probability: float = 0.0  # the intent model's probability (0 without a model)
    intent_not_answered: float = 0.0  # its probability that the source does not answer
    # Read only for the likeliest candidate that may answer, the one the answer gate reads
    # (None for the others, and without an intent model):
    neighbour: float | None = None  # cosine to the nearest text learned for this entry
    neighbour_not_answered: float | None = None  # ... to the nearest learned as not answered
    ngram_neighbour: float | None = None  # the same two by the hashed n-grams
    ngram_neighbour_not_answered: float | None = None
    probability: float = 0.0

    def may_answer(self, config: RouterConfig) -> bool:
        """An entry that gives the type of fact asked, about the subject named. The question
        types are rules over words ("how big" asks for an amount): when the intent model, which
        learned how such questions are asked, is sure of an entry of another type ("how big was
        the set of conversations they analysed?" -> how the tool was built, whose answer gives
        the number), the learned signal decides."""
        return (
            not self.unstated
            and not self.other_subject
            and (not self.wrong_type or self.intent_probability > config.wrong_type_intent)
        )

    def nearest_values(self) -> tuple[float, float, float, float]:
        """The four readings of the nearest learned texts, 0 where not read."""
        return (
            self.neighbour or 0.0,
            self.neighbour_not_answered or 0.0,
            self.ngram_neighbour or 0.0,
            self.ngram_neighbour_not_answered or 0.0,
        )

    def features(self) -> dict[str, float]:
        """The fusion's inputs by name (the names of :class:`FusionWeights`)."""
        return dict(zip(FusionWeights.names(), self.feature_values(), strict=True))

    def feature_values(self) -> tuple[float, ...]:
        return signal_features(
            self.lexical,
            self.explained,
            self.semantic,
            self.semantic_answer,
            self.semantic_gap,
            self.lexical_gap,
            self.wrong_type,
            self.other_subject,
            self.intent_probability,
            self.intent_not_answered,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "probability": round(self.probability, 4),
            "lexical": round(self.lexical, 4),
            "explained": round(self.explained, 4),
            "fuzzy": round(self.similarity, 1),
            "semantic": round(self.semantic, 4),
            "semantic_answer": round(self.semantic_answer, 4),
            "intent_probability": round(self.intent_probability, 4),
            "neighbour": _rounded(self.neighbour),
            "neighbour_not_answered": _rounded(self.neighbour_not_answered),
            "ngram_neighbour": _rounded(self.ngram_neighbour),
            "ngram_neighbour_not_answered": _rounded(self.ngram_neighbour_not_answered),
            "wrong_type": self.wrong_type,
            "other_subject": self.other_subject,
            "unstated": self.unstated,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class _Lexical(NamedTuple):
    """A candidate's lexical signals, before the semantic and learned ones join them."""

    lexical: float
    explained: float
    similarity: float
    wrong_type: bool
    other_subject: bool
    distinct: bool
    indexed: Indexed


def _best_other(top_two: list[float], own: float) -> float:
    """The best of the other candidates' values, given the two best values overall."""
    if own >= top_two[0]:
        return top_two[1] if len(top_two) > 1 else 0.0
    return top_two[0]


def signal_features(
    lexical: float,
    explained: float,
    semantic: float,
    semantic_answer: float,
    semantic_gap: float,
    lexical_gap: float,
    wrong_type: bool,
    other_subject: bool,
    intent: float,
    not_answered: float,
) -> tuple[float, ...]:
    """The fusion's inputs, in the order of :meth:`FusionWeights.names`: the bias, the
    signals, and their products."""
    return (
        1.0,
        lexical,
        explained,
        semantic,
        semantic_answer,
        semantic_gap,
        lexical_gap,
        float(wrong_type),
        float(other_subject),
        intent,
        not_answered,
        intent * semantic,
        intent * explained,
        intent * intent,
        intent * not_answered,
        not_answered * explained,
        explained * semantic_answer,
    )


def fuse(features: tuple[float, ...], weights: FusionWeights) -> float:
    """The fusion model's probability for a candidate's features (:func:`signal_features`)."""
    return _logistic(features, weights.vector())


def _logistic(features: tuple[float, ...], vector: tuple[float, ...]) -> float:
    z = sum(map(operator.mul, vector, features))
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def _overlaps(
    index: SourceIndex, analysis: Analysis, weights: dict[str, float], total: float
) -> dict[int, float]:
    """Per candidate position, the best weighted overlap with one of its phrasings.

    Accumulates along phrasing postings, so the cost follows the question's terms, not the
    size of the base. Each term's postings are sorted shortest phrasing first (the highest
    possible overlap) and read up to a cap; exact while no term is in more phrasings.
    """
    config = index.config
    shared_by: dict[int, float] = {}
    postings = [index.postings.get(term, ()) for term in weights]
    if all(len(found) <= config.postings_cap for found in postings):
        # Every phrasing that has a term is in its postings: add each term's weight to its
        # phrasings, in the question's term order (the sum below, term by term).
        for weight, found in zip(weights.values(), postings, strict=True):
            for phrasing_id in found:
                shared_by[phrasing_id] = shared_by.get(phrasing_id, 0) + weight
    else:
        for found in postings:
            for phrasing_id in found[: config.postings_cap]:
                if phrasing_id not in shared_by:
                    phrasing_terms = index.phrasings[phrasing_id].terms
                    shared_by[phrasing_id] = sum(
                        w for t, w in weights.items() if t in phrasing_terms
                    )
    best: dict[int, float] = defaultdict(float)
    for phrasing_id, shared in shared_by.items():
        overlap = 2 * shared / (total + index.phrasing_weight[phrasing_id])
        if index.phrasings[phrasing_id].question_types != analysis.question_types:
            overlap *= config.other_form_factor
        owner = index.phrasing_owner[phrasing_id]
        best[owner] = max(best[owner], overlap)
    return best


def _wrong_type(analysis: Analysis, indexed: Indexed) -> bool:
    """The question asks a type of fact (who, when, ...) the candidate is not about."""
    asked = analysis.question_types
    if not asked:
        return False
    if isinstance(indexed.item, Entry):
        return asked.isdisjoint(indexed.item.answers)
    return bool(indexed.asks) and asked.isdisjoint(indexed.asks)


def _lexical(
    index: SourceIndex,
    analysis: Analysis,
    question_sorted: str,
    position: int,
    overlap: float,
    explained: float,
) -> _Lexical:
    config = index.config
    indexed = index.indexed[position]
    best = process.extractOne(
        question_sorted, index.item_phrasings_sorted[position], scorer=fuzz.ratio
    )
    similarity = best[1] if best else 0.0
    score = (
        config.phrasing_weight * overlap
        + config.explained_weight * explained
        + config.fuzzy_weight * similarity / 100
    )
    wrong_type = _wrong_type(analysis, indexed)
    if wrong_type:
        score *= config.wrong_type_factor
    subjects = analysis.terms & index.subjects
    other_subject = (
        bool(subjects) and subjects.isdisjoint(indexed.strong) and subjects.isdisjoint(indexed.weak)
    )
    if other_subject:
        score *= config.other_subject_factor
    asked = analysis.question_types
    # Only an unstated item is judged by it (an entry counts as distinct).
    distinct = (
        not indexed.unstated
        or not analysis.terms <= indexed.closest_vocabulary
        or (not asked.isdisjoint(indexed.asks) and asked.isdisjoint(indexed.closest_answers))
    )
    return _Lexical(
        min(score, 1.0), explained, similarity, wrong_type, other_subject, distinct, indexed
    )


def _intent(by_label: dict[str, float] | None, indexed: Indexed) -> tuple[float, float]:
    """One of the intent model's readings for a candidate (its probabilities, or its
    neighbours): the entry's value, and that of ``NOT_ANSWERED``. An unstated item gets
    neither: the model's "not answered" covers off-topic questions as well as those the source
    leaves open, so it cannot say which unstated item was asked; entries lose what it takes."""
    if by_label is None or indexed.unstated:
        return 0.0, 0.0
    return by_label.get(indexed.item.id, 0.0), by_label.get(NOT_ANSWERED, 0.0)


def _fuzzy_only(index: SourceIndex, analysis: Analysis) -> int | None:
    """For questions made only of stop words ("what's this about?"): a close phrasing."""
    found = process.extractOne(
        analysis.text,
        index.phrasing_texts,
        scorer=fuzz.ratio,
        score_cutoff=index.config.fuzzy_only_threshold,
    )
    return None if found is None else index.phrasing_owner[found[2]]


def score(
    index: SourceIndex,
    analysis: Analysis,
    vector: npt.NDArray[np.float32],
    intent: dict[str, float] | None = None,
    neighbours: Callable[[Iterable[str]], Nearest] | None = None,
) -> list[Candidate]:
    """The source's candidates for a question, most probable first; ``intent`` holds the
    source's intent model's probabilities, and ``neighbours`` gives, for some labels, its
    nearest learned texts (:meth:`bot.core.intent_model.IntentModel.nearest`), when it has
    one: asked once, for the likeliest candidate that may answer and ``NOT_ANSWERED``."""
    config: RouterConfig = index.config
    weights = {term: index.question_weight(term) for term in analysis.terms}
    total = sum(weights.values())
    overlaps = _overlaps(index, analysis, weights, total) if total > 0 else {}
    # Only candidates sharing a term with one of their phrasings (read through the capped
    # postings) are ranked lexically, so this follows the question, not the base's size.
    if len(overlaps) > config.lexical_prefilter:
        kept = heapq.nlargest(config.lexical_prefilter, overlaps, key=lambda p: overlaps[p])
        overlaps = {position: overlaps[position] for position in kept}
    # The share of the question each item's words explain (all items at once; read only for
    # the candidates, so a large base costs one array, not a list of it).
    shares = index.explained(weights) / total if total > 0 else np.zeros(len(index.indexed))
    explained_only = {
        position: config.phrasing_weight * overlap
        + config.explained_weight * float(shares[position])
        for position, overlap in overlaps.items()
    }
    chosen = set(
        heapq.nlargest(config.fuzzy_candidates, explained_only, key=lambda p: explained_only[p])
    )
    semantic, semantic_answer = index.semantic(vector)
    if np.any(vector):
        k = min(config.semantic_candidates, len(semantic))
        chosen |= {int(i) for i in np.argpartition(-semantic, k - 1)[:k]} if k else set()
    if intent:
        likely = heapq.nlargest(
            config.intent_candidates,
            (label for label in intent if label in index.position),
            key=lambda label: intent[label],
        )
        chosen |= {index.position[label] for label in likely}
    if not chosen and not analysis.terms:
        close = _fuzzy_only(index, analysis)
        chosen = {close} if close is not None else set()
    positions = sorted(chosen)
    question_sorted = sorted_words(analysis.text)
    partial = [
        _lexical(index, analysis, question_sorted, p, overlaps.get(p, 0.0), float(shares[p]))
        for p in positions
    ]
    best_semantic = sorted((float(semantic[p]) for p in positions), reverse=True)[:2]
    best_lexical = sorted((c.lexical for c in partial), reverse=True)[:2]
    # An unstated item has no learned signal of its own (see _intent): it is scored by the
    # weights fitted without one, as is every candidate of a source without a model.
    without = config.fusion_without_intent.vector()
    with_intent = config.fusion.vector() if intent is not None else without
    fused = []
    for position, found in zip(positions, partial, strict=True):
        own_semantic = float(semantic[position])
        # The gap to the best other candidate: the best, or the second when this one is it.
        other_semantic = _best_other(best_semantic, own_semantic)
        other_lexical = _best_other(best_lexical, found.lexical)
        learned, not_answered = _intent(intent, found.indexed)
        semantic_gap = own_semantic - other_semantic
        lexical_gap = found.lexical - other_lexical
        own_answer = float(semantic_answer[position])
        features = signal_features(
            found.lexical,
            found.explained,
            own_semantic,
            own_answer,
            semantic_gap,
            lexical_gap,
            found.wrong_type,
            found.other_subject,
            learned,
            not_answered,
        )
        unstated = found.indexed.unstated
        item = found.indexed.item
        fused.append(
            Candidate(
                intent=item.id,
                question=item.question,
                unstated=unstated,
                lexical=found.lexical,
                explained=found.explained,
                similarity=found.similarity,
                semantic=own_semantic,
                semantic_answer=own_answer,
                semantic_gap=semantic_gap,
                lexical_gap=lexical_gap,
                wrong_type=found.wrong_type,
                other_subject=found.other_subject,
                distinct=found.distinct,
                intent_probability=learned,
                intent_not_answered=not_answered,
                probability=_logistic(features, without if unstated else with_intent),
            )
        )
    fused.sort(key=lambda c: (-c.probability, c.intent))
    if neighbours is not None:
        _read_nearest(fused, config, neighbours)
    return fused


def _read_nearest(
    candidates: list[Candidate],
    config: RouterConfig,
    neighbours: Callable[[Iterable[str]], Nearest],
) -> None:
    """Give the likeliest candidate that may answer (the one the answer gate reads) its
    nearest learned texts, and those learned as not answered. The neighbours table is the
    largest thing a question reads; the other candidates' rows are left unread."""
    for place, candidate in enumerate(candidates):
        if candidate.may_answer(config):
            nearest = neighbours([NOT_ANSWERED, candidate.intent])
            candidates[place] = dataclasses.replace(
                candidate,
                neighbour=nearest.sentence.get(candidate.intent, 0.0),
                neighbour_not_answered=nearest.sentence.get(NOT_ANSWERED, 0.0),
                ngram_neighbour=nearest.ngrams.get(candidate.intent, 0.0),
                ngram_neighbour_not_answered=nearest.ngrams.get(NOT_ANSWERED, 0.0),
            )
            return
