"""The question router: ``Router(kb).reply(question) -> Reply``.

Checks run in a fixed order:

1. safety (:mod:`bot.core.safety`): rules and a learned classifier; either routes a message to
   the support routes or a refusal, before anything else;
2. small talk;
3. wrappers set apart (:mod:`bot.core.wrappers`) and quoted Slack lines dropped;
4. a question whose only subject is a pronoun leans on the conversation's previous answer, or
   asks back when there is none;
5. matching, per source (:mod:`bot.core.index`, :mod:`bot.core.scoring`): each source's
   candidates get a lexical and a semantic signal, fused into a probability; the source with
   the most probable candidate is chosen, and the policy (:mod:`bot.core.policy`) decides;
6. a message of several parts that is not answered whole is answered part by part.

``explain`` returns the same reply with its evidence: the safety assessment and each decision.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.answer_gate import AnswerGate, shared_answer_gates
from bot.core.embedding import StaticEmbedder, shared_embedder
from bot.core.index import Item, SourceIndex, general_analyser
from bot.core.intent_model import IntentModel, shared_intent_models
from bot.core.knowledge import KnowledgeBase, Measure, SmalltalkTopic
from bot.core.messages import MessageKey
from bot.core.normalise import MAX_QUESTION_CHARS, Analyser, Analysis, fold, stems, words
from bot.core.policy import Decision, DecisionKind, decide
from bot.core.replies import ReplyBuilder
from bot.core.reply import Reply, ReplyKind
from bot.core.safety import SafetyAssessment, SafetyCheck, SafetyVerdict
from bot.core.safety_model import shared_classifier
from bot.core.scoring import Candidate, score
from bot.core.textmodel import classifier_text, sparse_features
from bot.core.wrappers import asks, set_apart

_PART_BREAK = re.compile(
    r"[?!;\n]+|(?<=[a-z])\.\s+|,?\s+(?:and|also|plus)\s+(?=(?:what|who|when|where|which|how)\b)"
    r"|,\s+(?=(?:what|who|when|where|which|how|is|was|does|did|can|will)\b)",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"(?:difference between|differences between|compare|comparing|contrast)\s+(?P<a>.+?)"
    r"\s+(?:and|with|to|against|versus|vs\.?)\s+(?P<b>[^?.!]+)",
    re.IGNORECASE,
)
# Pronouns that stand for a subject named in an earlier turn. "They" is left out: here it
# almost always means the hackathon's engineers or organisers.
_PRONOUNS = frozenset({"it", "its", "itself"})
FOLLOW_UP_MAX_WORDS = 10
FOLLOW_UP_MAX_TERMS = 1  # "who uses it?": one content word besides the pronoun


def question_parts(text: str) -> list[str]:
    """The separate questions and sentences of a message, each of at least two words; a
    comparison ("the difference between X and Y") becomes a question about each side."""
    compared = _COMPARISON.search(text)
    if compared:
        return [f"what is {compared['a']}", f"what is {compared['b']}"]
    return [p.strip() for p in _PART_BREAK.split(text) if len(p.split()) >= 2]


@dataclass(frozen=True, slots=True)
class Explanation:
    """A reply and the evidence for it."""

    reply: Reply
    safety: SafetyAssessment | None  # None when the message was not classified (empty)
    matched: str | None  # the text matched, after wrappers and follow-up context
    decisions: tuple[Decision, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.reply.kind.value,
            "safety": None if self.safety is None else self.safety.to_json(),
            "matched": self.matched,
            "decisions": [d.to_json() for d in self.decisions],
        }


class Router:
    """Routes questions to replies over one knowledge base. Build once; ``reply`` is cheap."""

    def __init__(
        self,
        kb: KnowledgeBase,
        embedder: StaticEmbedder | None = None,
        intent_models: Mapping[str, IntentModel] | None = None,
        answer_gates: Mapping[str, AnswerGate] | None = None,
    ) -> None:
        """``intent_models`` and ``answer_gates``: each source's intent model and answer gate;
        by default the shipped ones."""
        self.kb = kb
        self.config = kb.router_config
        self.embedder = embedder or shared_embedder()
        self.intent_models = (
            shared_intent_models(self.embedder, tuple(kb.sources))
            if intent_models is None
            else dict(intent_models)
        )
        self.answer_gates = (
            shared_answer_gates(tuple(kb.sources)) if answer_gates is None else dict(answer_gates)
        )
        self.replies = ReplyBuilder(kb)
        self.general = general_analyser(kb)
        self.safety = SafetyCheck(kb.safety, shared_classifier(self.embedder))
        grouped: dict[str, list[Item]] = {source: [] for source in kb.sources}
        items: list[Item] = [*kb.entries, *kb.unstated]
        for item in items:
            grouped[kb.source_of(item)].append(item)
        self.indexes = {
            source: SourceIndex(kb, source, items, self.embedder, self.config)
            for source, items in grouped.items()
            if items
        }
        self._entries = {entry.id: entry for entry in kb.entries}
        self._smalltalk = {
            " ".join(words(fold(phrase))): topic
            for topic in kb.smalltalk
            for phrase in topic.phrases
        }
        self._smalltalk_words = [
            (topic, frozenset(w for p in topic.phrases for w in words(fold(p))))
            for topic in kb.smalltalk
        ]
        self._smalltalk_vocabulary = frozenset().union(*(v for _, v in self._smalltalk_words))
        self._smalltalk_filler = frozenset(w for f in kb.smalltalk_filler for w in words(fold(f)))
        self._measure_names = {
            " ".join(words(fold(name))): measure
            for measure in kb.measures
            for name in (measure.name, *measure.aliases, measure.id)
        }

    def clear_caches(self) -> None:
        """Forget what is memoised per message text (analyses, folded texts, n-gram features,
        embeddings), so that a benchmark times each question cold; what is memoised per word
        stays."""
        self.embedder.clear_cache()
        classifier_text.cache_clear()
        sparse_features.cache_clear()
        self.general.clear_cache()
        for index in self.indexes.values():
            index.analyser.clear_cache()

    @property
    def analyser(self) -> Analyser:
        """The first source's analyser (for tests and curators)."""
        return next(iter(self.indexes.values())).analyser

    # --- the public API -----------------------------------------------------------------

    def reply(self, question: str, *, context: Sequence[str] = ()) -> Reply:
        """The reply to a question; ``context`` holds the intents of the conversation's
        earlier answers, most recent last (ids only, never text)."""
        return self.explain(question, context=context).reply

    def rank(self, question: str, limit: int = 5) -> list[Candidate]:
        """The best candidates for a question, most probable first (for curators and tests)."""
        text = question[:MAX_QUESTION_CHARS]
        _, candidates = self._best_source(text)
        return list(candidates[:limit])

    def answer_intent(self, intent: str, question: str, *, confidence: float = 1.0) -> Reply:
        """The answer of one entry (also used when someone picks a "did you mean" choice)."""
        return self.replies.answer(intent, question, confidence=confidence)

    def explain(self, question: str, *, context: Sequence[str] = ()) -> Explanation:
        text = question[:MAX_QUESTION_CHARS]
        general = self.general.analyse(text)
        if general.is_empty:
            reply = self.replies.fallback(question, MessageKey.CORE_EMPTY_QUESTION)
            return Explanation(reply, None, None, ())
        # A curated small-talk phrase, word for word ("help", "thanks"), is judged by the rules
        # alone: one or two words are too little for the classifier to read.
        assessment = self.safety.assess(
            text,
            general,
            classify=general.text not in self._smalltalk,
            answers=lambda: self.answers(text),
        )
        if assessment.verdict is not SafetyVerdict.SAFE:
            if assessment.verdict is SafetyVerdict.REFUSAL:
                reply = self.replies.refusal(question)
            else:
                self_concern = assessment.verdict is SafetyVerdict.SELF_CONCERN
                reply = self.replies.safeguarding(question, self_concern=self_concern)
            return Explanation(reply, assessment, None, ())
        topic = self._smalltalk_topic(general)
        if topic is not None:
            return self._with_risk(
                Explanation(self.replies.smalltalk(question, topic), assessment, None, ())
            )
        core = set_apart(self.focus(text))
        own_words = core  # what the intent model reads: the asker's words, never the context
        if self._needs_subject(core):
            previous = next((i for i in reversed(context) if i in self._entries), None)
            if previous is None:
                _, candidates = self._best_source(core)
                choices = self._distinct_choices(candidates)
                reply = self.replies.clarify(
                    question, choices, confidence=0.0, key=MessageKey.CORE_CLARIFY_SUBJECT
                )
                return self._with_risk(Explanation(reply, assessment, core, ()))
            core = f"{core} ({self._entries[previous].question})"
        decision = self._decide(core, own_words)
        reply = self._build(question, decision)
        decisions = [decision]
        # A message on topic for no source has no part that is. Of its parts, those that ask
        # something are decided; a statement among them ("The release says it will be free.",
        # "DevRel at a small app here.") is context, read only with a part whose subject is a
        # pronoun. The one part that asks is decided alone when the whole is not answered.
        context = question_parts(core) if decision.source is not None else []
        asking = [i for i, part in enumerate(context) if asks(part)]
        statements_apart = 0 < len(asking) < len(context)
        chosen = asking if statements_apart else list(range(len(context)))
        parts = [context[i] for i in chosen]
        if (len(parts) >= 2 or statements_apart) and decision.source is not None:
            # The parts are about the source the whole message went to.
            part_decisions = self._part_decisions(context, chosen, decision.source)
            if reply.kind is not ReplyKind.ANSWER or self._parts_add(part_decisions):
                combined = self._combine(question, parts, part_decisions)
                if combined is not None:
                    reply = combined
                    decisions += part_decisions
        return self._with_risk(Explanation(reply, assessment, core, tuple(decisions)))

    # --- steps --------------------------------------------------------------------------

    def answers(self, text: str) -> bool:
        """Whether a source answers the message as it stands (its own words, wrappers set
        apart, no earlier turn): what the safety gate asks of a message that only its
        classifier would route."""
        core = set_apart(self.focus(text[:MAX_QUESTION_CHARS]))
        if self._needs_subject(core):
            return False
        return self._decide(core, core).kind is DecisionKind.ANSWER

    def _with_risk(self, explanation: Explanation) -> Explanation:
        """Defence in depth: a message with a risk signal gets where to get help, privately."""
        if explanation.safety is None or not explanation.safety.risk:
            return explanation
        reply = explanation.reply
        body = f"{reply.body} {self.kb.message(MessageKey.CORE_RISK_NOTE)}"
        return dataclasses.replace(
            explanation, reply=dataclasses.replace(reply, body=body, risk=True)
        )

    @staticmethod
    def focus(text: str) -> str:
        """Without the lines a Slack user quoted, when the rest asks something of its own."""
        lines = text.splitlines()
        own = [line for line in lines if not line.lstrip().startswith((">", "&gt;"))]
        if len(own) == len(lines) or not any(words(fold(line)) for line in own):
            return text
        return "\n".join(own)

    def _needs_subject(self, text: str) -> bool:
        """A short question whose only subject is a pronoun ("when is it?", "who uses it?"):
        at most one content word, and no subject, name or domain word of any source."""
        found = words(fold(text))
        if not found or len(found) > FOLLOW_UP_MAX_WORDS or not _PRONOUNS & set(found):
            return False
        if len(self.general.analyse(text).terms) > FOLLOW_UP_MAX_TERMS:
            return False
        for index in self.indexes.values():
            terms = index.analyser.analyse(text).terms
            if terms & (index.subjects | index.entities | index.domain):
                return False
        return True

    def _scored(
        self, text: str, own_words: str | None = None, only: str | None = None
    ) -> list[tuple[SourceIndex, Analysis, list[Candidate]]]:
        """Each source's (or only source ``only``'s) analysis of a text and its candidates,
        most probable first. The intent models read ``own_words`` when given (a follow-up's
        question without the earlier turn appended: they learned from questions as people ask
        them). The question is embedded once, as the models read it (:func:`classifier_text`):
        an intent model reading the same words reuses that vector from the embedder's memo."""
        vector = self.embedder.embed(classifier_text(text))
        found = []
        for source, index in self.indexes.items():
            if only is not None and source != only:
                continue
            analysis = index.analyser.analyse(text)
            model = self.intent_models.get(source)
            if model is None:
                found.append((index, analysis, score(index, analysis, vector)))
                continue
            asked = own_words or text
            nearest = functools.partial(model.nearest, asked)
            found.append(
                (
                    index,
                    analysis,
                    score(index, analysis, vector, model.probabilities(asked), nearest),
                )
            )
        return found

    def _best_source(self, text: str) -> tuple[SourceIndex, list[Candidate]]:
        """The source with the most probable candidate, and its candidates."""
        index, _, candidates = max(
            self._scored(text), key=lambda s: s[2][0].probability if s[2] else -1.0
        )
        return index, candidates

    def _decide(self, text: str, own_words: str | None = None, only: str | None = None) -> Decision:
        """Each source decides; the strongest claim wins. When no source is on topic and
        none answers, the reply is the general fallback, whatever the sources' scores."""
        decisions = [
            decide(
                text,
                analysis,
                candidates,
                index,
                learned=index.source in self.intent_models,
                gate=self.answer_gates.get(index.source),
            )
            for index, analysis, candidates in self._scored(text, own_words, only)
        ]
        best = max(decisions, key=lambda d: d.strength)
        if best.strength[:2] == (0, 0):
            return Decision(
                DecisionKind.FALLBACK, "no source is on topic", None, (), best.candidates
            )
        return best

    def _build(self, question: str, decision: Decision) -> Reply:
        best = decision.best
        confidence = best.probability if best else 0.0
        if decision.kind is DecisionKind.ANSWER:
            return self.replies.answer(decision.chosen[0], question, confidence=confidence)
        if decision.kind is DecisionKind.CLARIFY:
            return self.replies.clarify(question, decision.chosen, confidence=confidence)
        if decision.kind is DecisionKind.NOT_IN_SOURCE:
            unstated = decision.chosen[0] if decision.chosen else None
            nearest = decision.nearest
            return self.replies.not_in_source(
                question, unstated=unstated, nearest=nearest, confidence=confidence
            )
        return self.replies.fallback(question)

    def _part_decisions(
        self, context: Sequence[str], chosen: Sequence[int], source: str
    ) -> list[Decision]:
        """The decisions of the ``chosen`` parts of a message (``context``, all its parts), by
        the source the whole message went to. A part whose only subject is a pronoun ("Do we
        have it?", "who uses it?") is read with the part before it (after it, when it comes
        first), as a follow-up is read with the earlier turn: the intent model reads the
        part's own words, the other signals the two together."""
        found = []
        for position in chosen:
            part = text = context[position]
            if self._needs_subject(part) and len(context) >= 2:
                neighbour = context[position - 1] if position else context[1]
                text = f"{part} ({neighbour})"
            found.append(self._decide(text, part, only=source))
        return found

    @staticmethod
    def _parts_add(decisions: Sequence[Decision]) -> bool:
        """The parts of a message answered whole ask more than its one answer: two parts are
        answered by different entries, or one is answered and another, on topic, is not."""
        answered = {d.chosen[0] for d in decisions if d.kind is DecisionKind.ANSWER}
        missing = any(d.kind is DecisionKind.NOT_IN_SOURCE and d.on_topic for d in decisions)
        return len(answered) >= 2 or (bool(answered) and missing)

    def _combine(
        self, question: str, parts: Sequence[str], decisions: Sequence[Decision]
    ) -> Reply | None:
        """Answer each part that can be answered, in order, and name the parts that cannot."""
        answers: list[Reply] = []
        unanswered: list[str] = []
        for part, decision in zip(parts, decisions, strict=True):
            if decision.kind is DecisionKind.ANSWER:
                reply = self._build(part, decision)
                if all(a.intent != reply.intent for a in answers):
                    answers.append(reply)
            elif decision.kind is DecisionKind.NOT_IN_SOURCE or (
                decision.kind is DecisionKind.FALLBACK and len(part.split()) >= 3
            ):
                unanswered.append(part)
        if not answers:
            return None
        return self.replies.combined(question, answers, unanswered)

    def _distinct_choices(self, candidates: Sequence[Candidate]) -> list[str]:
        chosen: list[str] = []
        for candidate in candidates:
            if candidate.unstated or candidate.intent in chosen:
                continue
            chosen.append(candidate.intent)
            if len(chosen) == self.config.clarify_max_choices:
                break
        return chosen or list(self.kb.example_questions[: self.config.clarify_max_choices])

    # --- small talk ---------------------------------------------------------------------

    def _smalltalk_topic(self, analysis: Analysis) -> SmalltalkTopic | None:
        """A message is small talk when it is one of a topic's phrases, or when every word
        of it, filler aside, is a word of one topic's phrases ("thanks, that's helpful")."""
        topic = self._smalltalk.get(analysis.text)
        if topic is not None or not 0 < len(analysis.words) <= self.config.smalltalk_max_words:
            return topic
        if analysis.question_types:
            return None  # "how much is it?" asks for a fact, whatever its words
        content = {w for w in analysis.words if w not in self._smalltalk_filler}
        if not content:
            return None
        for candidate, vocabulary in self._smalltalk_words:
            if content <= vocabulary:
                return candidate
        # Mixed small talk ("ok thanks bye"): the topic of the last word.
        if content <= self._smalltalk_vocabulary:
            last = next(w for w in reversed(analysis.words) if w in content)
            return next(t for t, vocabulary in self._smalltalk_words if last in vocabulary)
        return None

    # --- measures -----------------------------------------------------------------------

    def find_measure(self, text: str) -> Measure | None:
        """The measure a short name refers to ("caid", "taskforce", "250k"), if any."""
        key = " ".join(words(fold(text)))
        if not key:
            return None
        if key in self._measure_names:
            return self._measure_names[key]
        stemmed = " ".join(stems(text))
        for name, measure in self._measure_names.items():
            if stemmed and stemmed == " ".join(stems(name)):
                return measure
        found = process.extractOne(
            key, list(self._measure_names), scorer=fuzz.ratio, score_cutoff=80
        )
        return self._measure_names[found[0]] if found else None
