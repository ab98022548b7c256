"""The decision policy: from scored candidates to a ``Decision`` record.

The record says what the router will do (answer, say the source does not say, ask back, or
fall back), why, and with which candidates and signals; ``ask --explain`` prints it. Every
threshold comes from :class:`bot.core.config.RouterConfig`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.answer_gate import AnswerGate
from bot.core.config import RouterConfig
from bot.core.index import SourceIndex
from bot.core.knowledge import Entry
from bot.core.normalise import Analysis, fold, words
from bot.core.scoring import Candidate

_AUXILIARIES = frozenset(
    [
        "is",
        "was",
        "were",
        "are",
        "am",
        "did",
        "does",
        "do",
        "can",
        "could",
        "will",
        "would",
        "has",
        "have",
        "had",
        "should",
        "shall",
    ]
)
_CONFIRMING = re.compile(r"(?:right|correct|true|yes|isn't it|is it|no)\W*$", re.IGNORECASE)


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no: it opens with an auxiliary verb ("was it ...") or
    asks for confirmation at the end ("..., right?")."""
    found = words(fold(question))
    return bool(found) and (found[0] in _AUXILIARIES or bool(_CONFIRMING.search(question)))


class DecisionKind(StrEnum):
    ANSWER = "answer"
    NOT_IN_SOURCE = "not_in_source"
    CLARIFY = "clarify"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy decided for one question (or one part of it), and why."""

    kind: DecisionKind
    reason: str
    source: str | None = None
    chosen: tuple[str, ...] = ()  # the intent answered, the unstated item, or the choices
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)
    on_topic: bool = False  # the question uses a domain term of the source
    coverage: float = 0.0  # the share of the question's terms the source's items use
    gate: float | None = None  # the answer gate's probability for the likeliest entry

    @property
    def strength(self) -> tuple[int, int, float, float]:
        """How strongly this decision claims the question, to choose between sources. A
        source the question is on topic for comes first, ranked by an answer or a choice over
        "does not say" over a fallback. Off topic, a decision claims the question only with an
        answer, a choice or a named unstated item. Equal claims go to the source whose items
        use more of the question's terms, then to the one with the nearer phrasing by the
        sentence embedding: both compare across sources, as every source is embedded by the
        same model, while fused probabilities do not (each source has its own fusion)."""
        if self.kind in (DecisionKind.ANSWER, DecisionKind.CLARIFY):
            rank = 2
        elif self.kind is DecisionKind.NOT_IN_SOURCE and (self.on_topic or self.chosen):
            rank = 1
        else:
            rank = 0
        closest_phrasing = max((c.semantic for c in self.candidates), default=0.0)
        if not self.on_topic:
            rank = min(rank, 1)
        return (int(self.on_topic), rank, self.coverage, closest_phrasing)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def nearest(self) -> str | None:
        """The entry a question the source does not answer is nearest to, whose fact a "does
        not say" reply offers: the one the intent model finds likeliest, then the most
        probable. (The fused probability says whether an entry answers the question; when none
        does, the intent model still says which the question is about: "Did Amazon take
        part?" is about the companies.)"""
        entries = [c for c in self.candidates if not c.unstated]
        if not entries:
            return None
        return max(entries, key=lambda c: (c.intent_probability, c.probability)).intent

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "reason": self.reason,
            "source": self.source,
            "chosen": list(self.chosen),
            "on_topic": self.on_topic,
            "coverage": round(self.coverage, 4),
            "gate": None if self.gate is None else round(self.gate, 4),
            "candidates": [c.to_json() for c in self.candidates[:5]],
        }


def decide(
    question: str,
    analysis: Analysis,
    candidates: Sequence[Candidate],
    index: SourceIndex,
    *,
    learned: bool = False,
    gate: AnswerGate | None = None,
) -> Decision:
    """The policy's decision for one source (``learned``: scored with an intent model;
    ``gate``: the source's answer gate, read only with one), marked with whether the question
    is on topic and how much of it the source covers."""
    on_topic = is_on_topic(analysis, index)
    coverage = index.coverage(analysis.terms)
    decision = _decide(
        question,
        analysis,
        candidates,
        index,
        learned,
        gate if learned else None,
        on_topic,
        coverage,
    )
    return dataclasses.replace(decision, on_topic=on_topic, coverage=coverage)


def is_on_topic(analysis: Analysis, index: SourceIndex) -> bool:
    """The question uses a domain term of the source."""
    return bool(analysis.terms & index.domain)


def gate_input(
    question: str, analysis: Analysis, candidates: Sequence[Candidate], index: SourceIndex
) -> tuple[Candidate, tuple[float, ...]] | None:
    """The likeliest answerable entry and the answer gate's features for it, as the policy
    computes them (what the gate is fitted on); None when no entry may answer."""
    kept = kept_candidates(candidates, index.config)
    answerable = answerable_entries(kept, index.config)
    if not answerable:
        return None
    coverage = index.coverage(analysis.terms)
    features = gate_features(question, answerable, kept, is_on_topic(analysis, index), coverage)
    return answerable[0], features


def answerable_entries(kept: Sequence[Candidate], config: RouterConfig) -> list[Candidate]:
    """The candidates that may answer (:meth:`Candidate.may_answer`), most probable first."""
    return [c for c in kept if c.may_answer(config)]


def kept_candidates(candidates: Sequence[Candidate], config: RouterConfig) -> tuple[Candidate, ...]:
    """The candidates the policy weighs. An unstated item whose closest entries explain every
    word of the question ("tell me about the Home Secretary") is not what was asked, unless it
    has the same form."""
    return tuple(
        c
        for c in candidates
        if not c.unstated or c.distinct or c.similarity >= config.unstated_form_similarity
    )


GATE_MAX_WORDS = 40  # the gate's length feature counts words up to this many


def gate_features(
    question: str,
    answerable: Sequence[Candidate],
    kept: Sequence[Candidate],
    on_topic: bool,
    coverage: float,
) -> tuple[float, ...]:
    """What the answer gate reads (:data:`bot.core.answer_gate.GATE_FEATURES`, in order): the
    likeliest answerable entry's signals, the runner-up's, the likeliest unstated item's, and
    the question's own."""
    top = answerable[0]
    runner_up = answerable[1] if len(answerable) > 1 else None
    unstated = max((c for c in kept if c.unstated), key=lambda c: c.probability, default=None)
    return (
        top.probability,
        top.intent_probability,
        top.intent_not_answered,
        top.semantic,
        top.semantic_answer,
        top.explained,
        top.lexical,
        top.similarity / 100,
        float(top.wrong_type),
        runner_up.probability if runner_up else 0.0,
        runner_up.intent_probability if runner_up else 0.0,
        unstated.probability if unstated else 0.0,
        unstated.semantic if unstated else 0.0,
        unstated.similarity / 100 if unstated else 0.0,
        float(is_yes_no(question)),
        float(on_topic),
        coverage,
        min(len(question.split()), GATE_MAX_WORDS) / GATE_MAX_WORDS,
        top.probability - (runner_up.probability if runner_up else 0.0),
        *top.nearest_values(),
    )


def _decide(
    question: str,
    analysis: Analysis,
    candidates: Sequence[Candidate],
    index: SourceIndex,
    learned: bool,
    gate: AnswerGate | None,
    on_topic: bool,
    coverage: float,
) -> Decision:
    config = index.config
    kept = kept_candidates(candidates, config)
    source = index.source
    if not kept:
        if on_topic:
            return Decision(DecisionKind.NOT_IN_SOURCE, "on topic, no candidate", source)
        return Decision(DecisionKind.FALLBACK, "no candidate and off topic", source)
    answerable = answerable_entries(kept, config)
    top = answerable[0] if answerable else None
    # With a gate, it decides from the whole field; without, the fused probability alone.
    gated = None
    if top is not None and gate is not None:
        gated = gate.probability(gate_features(question, answerable, kept, on_topic, coverage))
        likely = gated >= config.answer_gate
    else:
        likely = top is not None and top.probability >= config.answer_probability
    # A vague question ("tell me about the money") asks back when the intent model is unsure
    # which entry is meant and others, citing other passages, are nearly as likely. This comes
    # before the gate's verdict: the gate judges whether one entry answers, and a vague
    # question that several fit is one that no single entry does.
    if top is not None:
        vague = len(analysis.terms) <= config.clarify_max_terms and (
            not learned or top.intent_probability <= config.clarify_max_intent
        )
        rivals = _rivals(index, top, kept[1:]) if vague else []
        if rivals:
            return Decision(
                DecisionKind.CLARIFY,
                f"{len(rivals)} rival(s) within {config.clarify_margin}",
                source,
                (top.intent, *(r.intent for r in rivals)),
                kept,
                gate=gated,
            )
    if top is None or not likely:
        # "Was the hackathon 48 hours long?": the fact that settles a yes/no question is an
        # answer even when the question's own guess is not in the source.
        if (
            top is not None
            and is_yes_no(question)
            and top.probability >= config.yes_no_probability
            and top.explained >= config.yes_no_explained
        ):
            return Decision(
                DecisionKind.ANSWER,
                "settles a yes/no question",
                source,
                (top.intent,),
                kept,
                gate=gated,
            )
        decision = _not_answered(kept, on_topic, index)
        if gated is None:
            return decision
        return dataclasses.replace(
            decision, gate=gated, reason=f"{decision.reason}, gate {gated:.2f}"
        )
    why = f"best entry p={top.probability:.2f}"
    if gated is not None:
        why += f", gate {gated:.2f}"
    return Decision(DecisionKind.ANSWER, why, source, (top.intent,), kept, gate=gated)


def _not_answered(kept: tuple[Candidate, ...], on_topic: bool, index: SourceIndex) -> Decision:
    """No entry is likely enough to answer. The likeliest unstated item, when likely enough,
    says what the source leaves open; otherwise "the source does not say" (with the nearest
    entry's fact), or off topic the fallback. (Unstated items are weighed only here: entries
    alone decide whether to answer, with the intent model's signals, which unstated items
    lack.)"""
    config = index.config
    source = index.source
    best = kept[0]
    unstated = next((c for c in kept if c.unstated), None)
    if unstated is not None and unstated.probability >= config.unstated_probability:
        return Decision(
            DecisionKind.NOT_IN_SOURCE,
            f"unstated item at p={unstated.probability:.2f}",
            source,
            (unstated.intent,),
            kept,
        )
    if best.wrong_type or best.other_subject:
        why = "asks another type of fact" if best.wrong_type else "is about another subject"
        return Decision(DecisionKind.NOT_IN_SOURCE, f"best entry {why}", source, (), kept)
    if on_topic or best.lexical >= config.on_topic_threshold:
        return Decision(
            DecisionKind.NOT_IN_SOURCE,
            f"best entry p={best.probability:.2f}, not likely enough",
            source,
            (),
            kept,
        )
    return Decision(DecisionKind.FALLBACK, "off topic and no likely entry", source, (), kept)


def _rivals(index: SourceIndex, best: Candidate, others: Sequence[Candidate]) -> list[Candidate]:
    """Answerable candidates about as likely as the best, citing other passages."""
    config = index.config
    best_lines = cited_lines(index, best.intent)
    rivals: list[Candidate] = []
    for other in others:
        if best.probability - other.probability > config.clarify_margin:
            break
        if other.unstated or other.wrong_type or other.probability < config.clarify_probability:
            continue
        lines = cited_lines(index, other.intent)
        if lines & best_lines:
            continue
        rivals.append(other)
        best_lines |= lines
        if len(rivals) == config.clarify_max_choices - 1:
            break
    return rivals


def cited_lines(index: SourceIndex, intent: str) -> set[tuple[str, int]]:
    item = index.items[intent]
    if not isinstance(item, Entry):
        return set()
    return {
        (c.source, line) for c in item.citations for line in range(c.first_line, c.last_line + 1)
    }
