"""``RouterConfig``: every threshold and weight the router uses, read from knowledge/router.yaml.

The file documents each value; ``python -m bot.training.router`` refits the learned ones (the
``fusion`` weights and the decision thresholds) from the labelled question sets and writes them
back. Nothing else in the router holds a tunable number.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """A logistic model of "this candidate is the right answer" over its signals."""

    bias: float
    lexical: float  # the lexical score (phrasing overlap, explained share, fuzzy similarity)
    explained: float  # share of the question's weighted terms the candidate's words explain
    semantic: float  # cosine of the question to the candidate's closest phrasing
    semantic_answer: float  # cosine of the question to the candidate's answer and quotes
    semantic_gap: float  # semantic minus the best other candidate's semantic
    lexical_gap: float  # lexical minus the best other candidate's lexical
    wrong_type: float  # 1 when the question asks a type of fact the candidate lacks
    other_subject: float  # 1 when the question names a subject the candidate is not about
    intent_probability: float  # the intent model's probability for it (0 without a model)
    intent_not_answered: float  # the model's probability that the source does not answer
    # Products of the signals, so that one signal's weight can depend on another's value (the
    # fit, for one, lets the intent model's probability saturate through its square):
    intent_semantic: float  # intent_probability x semantic
    intent_explained: float  # intent_probability x explained
    intent_squared: float  # intent_probability x intent_probability
    intent_both: float  # intent_probability x intent_not_answered
    not_answered_explained: float  # intent_not_answered x explained
    explained_semantic_answer: float  # explained x semantic_answer

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return _NAMES

    def vector(self) -> tuple[float, ...]:
        """The weights in the order of :meth:`names` (computed once per set of weights)."""
        return _vector(self)


_NAMES = tuple(f.name for f in fields(FusionWeights))


@lru_cache(maxsize=16)
def _vector(weights: FusionWeights) -> tuple[float, ...]:
    return tuple(float(getattr(weights, name)) for name in weights.names())


FUSIONS = ("fusion", "fusion_without_intent")
# The weights of the intent model's signals (zero in ``fusion_without_intent``).
INTENT_FEATURES = (
    "intent_probability",
    "intent_not_answered",
    "intent_semantic",
    "intent_explained",
    "intent_squared",
    "intent_both",
    "not_answered_explained",
)


@dataclass(frozen=True, slots=True)
class RouterConfig:
    # lexical scoring
    phrasing_weight: float
    explained_weight: float
    fuzzy_weight: float
    wrong_type_factor: float
    entity_factor: float
    other_subject_factor: float
    other_form_factor: float
    weak_vocabulary_credit: float
    fuzzy_candidates: int
    postings_cap: int
    lexical_prefilter: int
    fuzzy_only_threshold: float
    # semantic retrieval
    semantic_candidates: int
    semantic_prefilter: int
    # decisions
    on_topic_threshold: float
    answer_probability: float
    answer_gate: float
    unstated_probability: float
    unstated_form_similarity: float
    clarify_probability: float
    clarify_margin: float
    clarify_max_intent: float
    clarify_max_choices: int
    clarify_max_terms: int
    yes_no_probability: float
    yes_no_explained: float
    wrong_type_intent: float
    smalltalk_max_words: int
    # intent model
    intent_candidates: int
    fusion: FusionWeights  # for a source with an intent model
    fusion_without_intent: FusionWeights  # for a source without one (fitted without it)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name not in FUSIONS)

    @classmethod
    def integer_names(cls) -> frozenset[str]:
        return frozenset(
            {
                "fuzzy_candidates",
                "postings_cap",
                "semantic_candidates",
                "semantic_prefilter",
                "lexical_prefilter",
                "clarify_max_choices",
                "clarify_max_terms",
                "smalltalk_max_words",
                "intent_candidates",
            }
        )
