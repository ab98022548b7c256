"""The question router: ``Router(kb).reply(question) -> Reply``.

Checks run in a fixed order: safeguarding, refusal, small talk, then matching against the FAQ
and the list of things the source does not state. Matching scores each candidate on three
signals over the analysed question (see ``bot.core.normalise``):

- phrasing: weighted overlap with the candidate's best phrasing (concepts and stems, IDF weights);
- explained: how much of the question the candidate's words explain (unknown words explain nothing);
- fuzzy: rapidfuzz similarity of the whole text to the best phrasing (typos, word order).

A candidate whose answer does not give the type of fact asked (who, when, where, how much, how
many, how long) is penalised, so "how much did the hackathon cost" can never be answered with
the innovation call's £250,000. When the best candidate is an unstated item, gives the wrong
type of fact, or leaves much of the question unexplained, the reply says the source does not say
and offers the closest facts. Two close candidates with different citations get "did you mean".
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge import Entry, KnowledgeBase, Measure, SmalltalkTopic, Unstated
from bot.core.normalise import MAX_QUESTION_CHARS, Analyser, Analysis, fold, stems, words
from bot.core.reply import Citation, Reply, ReplyKind, Suggestion
from bot.core.safety import SafetyCheck, SafetyVerdict

# Score weights and decision thresholds, tuned on tests/core/questions/*.yaml.
PHRASING_WEIGHT = 0.45
EXPLAINED_WEIGHT = 0.40
FUZZY_WEIGHT = 0.15
WRONG_TYPE_FACTOR = 0.55
ENTITY_FACTOR = 0.5  # a named company or country is an argument; the predicate picks the entry
OTHER_SUBJECT_FACTOR = 0.6  # the question names a subject (the taskforce) the candidate lacks
OTHER_FORM_FACTOR = 0.7  # a phrasing asking another type of fact ("when ..." for "how ...")
WEAK_VOCABULARY_CREDIT = 0.6  # a word found only in an answer or quote, not in phrasings
ANSWER_THRESHOLD = 0.50
EXPLAINED_THRESHOLD = 0.62
ON_TOPIC_THRESHOLD = 0.25
CLARIFY_MARGIN = 0.04
CLARIFY_MIN_EXPLAINED = 0.9
CLARIFY_CEILING = 0.8  # a best score this high is answered even with a close rival
CLARIFY_MAX_CHOICES = 3
YES_NO_SCORE = 0.45  # a yes/no question is answered by the fact that settles it from here
YES_NO_EXPLAINED = 0.4
FUZZY_CANDIDATES = 12
POSTINGS_CAP = 500  # phrasings read per question term (see _scores)
UNSTATED_FORM_SIMILARITY = 80
SMALLTALK_MAX_WORDS = 7
FUZZY_ONLY_THRESHOLD = 88  # a question with no content words must match a phrasing this well

Item = Entry | Unstated
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
_PART_BREAK = re.compile(
    r"[?!;\n]+|(?<=[a-z])\.\s+|,?\s+(?:and|also|plus)\s+(?=(?:what|who|when|where|which|how)\b)"
    r"|,\s+(?=(?:what|who|when|where|which|how|is|was|does|did|can|will)\b)",
    re.IGNORECASE,
)


def _occurrence(text: str, citation: Citation) -> int:
    """Where in the source the citation's quote stands (the occurrence on its first line)."""
    start = text.find(citation.quote)
    while start >= 0 and text.count("\n", 0, start) + 1 != citation.first_line:
        start = text.find(citation.quote, start + 1)
    return start


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no: it opens with an auxiliary verb ("was it ...") or
    asks for confirmation at the end ("..., right?")."""
    found = words(fold(question))
    return bool(found) and (found[0] in _AUXILIARIES or bool(_CONFIRMING.search(question)))


_COMPARISON = re.compile(
    r"(?:difference between|differences between|compare|comparing|contrast)\s+(?P<a>.+?)"
    r"\s+(?:and|with|to|against|versus|vs\.?)\s+(?P<b>[^?.!]+)",
    re.IGNORECASE,
)


def question_parts(text: str) -> list[str]:
    """The separate questions and sentences of a message, each of at least two words; a
    comparison ("the difference between X and Y") becomes a question about each side."""
    compared = _COMPARISON.search(text)
    if compared:
        return [f"what is {compared['a']}", f"what is {compared['b']}"]
    return [p.strip() for p in _PART_BREAK.split(text) if len(p.split()) >= 2]


_SENTENCE_END = re.compile(r"[.:!?](?=\s)|\n(?=- )|$")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored candidate for a question."""

    intent: str
    question: str
    score: float
    explained: float
    wrong_type: bool
    unstated: bool
    similarity: float = 0.0  # rapidfuzz similarity to the best phrasing, 0..100
    distinct: bool = True  # for unstated items: asks something its closest entries lack
    other_subject: bool = False  # the question names a subject the candidate is not about


@dataclass(frozen=True, slots=True)
class _Phrasing:
    terms: frozenset[str]
    text: str
    question_types: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Indexed:
    item: Item
    phrasings: tuple[_Phrasing, ...]
    strong: frozenset[str]  # words of its phrasings and keywords
    weak: frozenset[str]  # words of its answer and quotes only
    asks: frozenset[str]  # question types its phrasings ask (for unstated items)
    closest_vocabulary: frozenset[str]  # for unstated items: words of the closest entries
    closest_answers: frozenset[str]  # for unstated items: question types the closest give

    @property
    def unstated(self) -> bool:
        return isinstance(self.item, Unstated)


def knowledge_vocabulary(kb: KnowledgeBase) -> Counter[str]:
    """Every word the knowledge base uses, with how often: the targets of typo correction."""
    texts: list[str] = []
    for entry in kb.entries:
        texts += [*entry.phrasings, entry.answer, *entry.keywords]
        texts += [c.quote for c in entry.citations]
    for item in kb.unstated:
        texts += [*item.phrasings, item.missing, *item.keywords]
    for measure in kb.measures:
        texts += [measure.name, *measure.aliases, measure.summary]
    for topic in kb.smalltalk:
        texts += topic.phrases
    lexicon = kb.lexicon
    for group in (*lexicon.concepts.values(), *lexicon.question_types.values()):
        texts += group
    texts += [*lexicon.stopwords, *lexicon.domain_terms, *lexicon.typos.values()]
    for group in kb.safety.lists.values():
        texts += group
    return Counter(words(fold("\n".join(texts))))


class Router:
    """Routes questions to replies over one knowledge base. Build once; ``reply`` is cheap."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        lexicon = kb.lexicon
        self.analyser = Analyser(
            concepts=lexicon.concepts,
            question_types=lexicon.question_types,
            stopwords=lexicon.stopwords,
            typos=lexicon.typos,
            vocabulary=knowledge_vocabulary(kb),
            protected=lexicon.known_words,
            fillers=lexicon.fillers,
        )
        self._subjects = frozenset(f"@{name}" for name in lexicon.subjects)
        self._entities = frozenset(f"@{name}" for name in lexicon.entities)
        self.safety = SafetyCheck(kb.safety)
        self._entries = {entry.id: entry for entry in kb.entries}
        self._term_cache: dict[str, frozenset[str]] = {}
        self._ends: dict[str, list[int]] = {}
        items: list[Item] = [*kb.entries, *kb.unstated]
        self._indexed = [self._index(item) for item in items]
        self._items = {item.id: item for item in items}
        # term -> phrasing ids; per candidate, term -> credit towards "explained".
        self._phrasing_postings: dict[str, list[int]] = defaultdict(list)
        self._phrasing_owner: list[int] = []
        self._phrasings: list[_Phrasing] = []
        self._credit: list[dict[str, float]] = []
        document_frequency: dict[str, int] = defaultdict(int)
        for position, indexed in enumerate(self._indexed):
            credit = dict.fromkeys(indexed.weak, WEAK_VOCABULARY_CREDIT)
            credit.update(dict.fromkeys(indexed.strong, 1.0))
            self._credit.append(credit)
            for term in credit:
                document_frequency[term] += 1
            for phrasing in indexed.phrasings:
                for term in phrasing.terms:
                    self._phrasing_postings[term].append(len(self._phrasings))
                self._phrasing_owner.append(position)
                self._phrasings.append(phrasing)
        count = len(self._indexed)
        self._idf = {t: math.log(1 + count / df) for t, df in document_frequency.items()}
        self._unknown_idf = math.log(1 + count / 0.5)
        self._phrasing_weight = [sum(map(self._weight, p.terms)) for p in self._phrasings]
        self._phrasing_texts = [p.text for p in self._phrasings]
        for postings in self._phrasing_postings.values():
            postings.sort(key=lambda phrasing_id: self._phrasing_weight[phrasing_id])
        self._domain = self.analyser.analyse(" ".join(lexicon.domain_terms)).terms
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

    # --- indexing -----------------------------------------------------------------------

    def _terms(self, text: str) -> frozenset[str]:
        """Terms of a knowledge text; memoised, as the closest entries of unstated items
        are read again for each of them."""
        if text not in self._term_cache:
            self._term_cache[text] = self.analyser.analyse(text).terms
        return self._term_cache[text]

    def _index(self, item: Item) -> _Indexed:
        phrasings = []
        # Keywords are short phrasings too: "250k" alone should find the innovation call.
        for text in (*item.phrasings, *item.keywords):
            analysis = self.analyser.analyse(text)
            self._term_cache[text] = analysis.terms
            phrasings.append(_Phrasing(analysis.terms, analysis.text, analysis.question_types))
        strong = set().union(*(p.terms for p in phrasings))
        if isinstance(item, Entry):
            weak = set(self._terms(item.answer))
            for citation in item.citations:
                weak |= self._terms(self._sentences_around(citation))
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
        return _Indexed(
            item,
            tuple(phrasings),
            frozenset(strong),
            frozenset(weak - strong),
            asks,
            frozenset(closest),
            frozenset(closest_answers),
        )

    def _sentences_around(self, citation: Citation) -> str:
        """The whole sentences a quote sits in: their words are context for the entry. An
        item of a list also gets the two sentences that lead into the list ("... a package of
        measures ... This included:")."""
        text = self.kb.sources[citation.source].text
        start = _occurrence(text, citation)
        if start < 0:
            return citation.quote
        ends = self._sentence_ends(citation.source)
        first = bisect.bisect_right(ends, start) - 1  # the boundary before the quote
        last = bisect.bisect_left(ends, start + len(citation.quote))
        context = text[ends[first] : ends[min(last, len(ends) - 1)]]
        if context.lstrip().startswith("- "):
            colon = text.rfind(":\n- ", 0, start + 1)
            if colon >= 0:
                lead_in = bisect.bisect_left(ends, colon) - 2
                context = text[ends[max(lead_in, 0)] : colon + 1] + " " + context
        return context

    def _sentence_ends(self, source: str) -> list[int]:
        """Offsets where sentences of a source end (0 and the end included), computed once."""
        if source not in self._ends:
            text = self.kb.sources[source].text
            found = {0, len(text), *(m.end() for m in _SENTENCE_END.finditer(text))}
            self._ends[source] = sorted(found)
        return self._ends[source]

    # --- scoring ------------------------------------------------------------------------

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def _question_weight(self, term: str) -> float:
        """A question word's weight: named entities are arguments and weigh less."""
        weight = self._weight(term)
        return weight * ENTITY_FACTOR if term in self._entities else weight

    def _scores(self, analysis: Analysis) -> list[Candidate]:
        terms = analysis.terms
        total = sum(self._question_weight(t) for t in terms)
        if not terms or total <= 0:
            return []
        # Accumulate along phrasing postings, so the cost follows the question's terms, not
        # the size of the base. A candidate sharing no word with any of its phrasings cannot
        # reach the answer threshold, so it is not scored.
        weights = {term: self._question_weight(term) for term in terms}
        # Each term's postings are sorted shortest phrasing first (the highest possible
        # overlap) and read up to a cap; the terms of a phrasing found through another term
        # still count. Exact while no term is in more than POSTINGS_CAP phrasings.
        shared_by: dict[int, float] = {}
        for term in terms:
            for phrasing_id in self._phrasing_postings.get(term, ())[:POSTINGS_CAP]:
                if phrasing_id not in shared_by:
                    phrasing_terms = self._phrasings[phrasing_id].terms
                    shared_by[phrasing_id] = sum(
                        w for t, w in weights.items() if t in phrasing_terms
                    )
        best_overlap: dict[int, float] = defaultdict(float)
        for phrasing_id, shared in shared_by.items():
            overlap = 2 * shared / (total + self._phrasing_weight[phrasing_id])
            if self._phrasings[phrasing_id].question_types != analysis.question_types:
                overlap *= OTHER_FORM_FACTOR
            owner = self._phrasing_owner[phrasing_id]
            best_overlap[owner] = max(best_overlap[owner], overlap)
        partial = []
        for position, overlap in best_overlap.items():
            credit = self._credit[position]
            explained = sum(w * credit.get(t, 0.0) for t, w in weights.items()) / total
            base = PHRASING_WEIGHT * overlap + EXPLAINED_WEIGHT * explained
            partial.append((base, -position, explained))
        candidates: list[Candidate] = []
        for base, negative_position, explained in heapq.nlargest(FUZZY_CANDIDATES, partial):
            position = -negative_position
            indexed = self._indexed[position]
            similarity = max(
                fuzz.token_sort_ratio(analysis.text, p.text) for p in indexed.phrasings
            )
            score = base + FUZZY_WEIGHT * similarity / 100
            wrong_type = self._wrong_type(analysis, indexed)
            if wrong_type:
                score *= WRONG_TYPE_FACTOR
            subjects = terms & self._subjects
            other_subject = bool(subjects) and not subjects & (indexed.strong | indexed.weak)
            if other_subject:
                score *= OTHER_SUBJECT_FACTOR
            asked = analysis.question_types
            distinct = bool(terms - indexed.closest_vocabulary) or bool(
                asked & indexed.asks and not asked & indexed.closest_answers
            )
            candidates.append(
                Candidate(
                    intent=indexed.item.id,
                    question=indexed.item.question,
                    score=round(min(score, 1.0), 4),
                    explained=round(explained, 4),
                    wrong_type=wrong_type,
                    unstated=indexed.unstated,
                    similarity=similarity,
                    distinct=distinct,
                    other_subject=other_subject,
                )
            )
        candidates.sort(key=lambda c: (-c.score, c.intent))
        return candidates

    @staticmethod
    def _wrong_type(analysis: Analysis, indexed: _Indexed) -> bool:
        """The question asks a type of fact (who, when, ...) the candidate is not about."""
        asked = analysis.question_types
        if not asked:
            return False
        if isinstance(indexed.item, Entry):
            return not (asked & indexed.item.answers)
        return bool(indexed.asks) and not (asked & indexed.asks)

    def _fuzzy_only(self, analysis: Analysis) -> list[Candidate]:
        """For questions made only of stop words ("what's this about?")."""
        found = process.extractOne(
            analysis.text,
            self._phrasing_texts,
            scorer=fuzz.ratio,
            score_cutoff=FUZZY_ONLY_THRESHOLD,
        )
        if found is None:
            return []
        indexed = self._indexed[self._phrasing_owner[found[2]]]
        return [
            Candidate(
                intent=indexed.item.id,
                question=indexed.item.question,
                score=round(found[1] / 100, 4),
                explained=1.0,
                wrong_type=False,
                unstated=indexed.unstated,
            )
        ]

    def rank(self, question: str, limit: int = 5) -> list[Candidate]:
        """The best candidates for a question, best first (for curators and tests)."""
        analysis = self.analyser.analyse(question[:MAX_QUESTION_CHARS])
        ranked = self._scores(analysis) or self._fuzzy_only(analysis)
        return ranked[:limit]

    # --- replies ------------------------------------------------------------------------

    def reply(self, question: str) -> Reply:
        analysis = self.analyser.analyse(question[:MAX_QUESTION_CHARS])
        if analysis.is_empty:
            return self._fallback(question, self.kb.message("core.empty_question"))
        verdict = self.safety.check(analysis)
        if verdict is SafetyVerdict.SAFEGUARDING:
            return self._safeguarding(question, self_concern=False)
        if verdict is SafetyVerdict.SELF_CONCERN:
            return self._safeguarding(question, self_concern=True)
        if verdict is SafetyVerdict.REFUSAL:
            return self._refusal(question)
        smalltalk = self._smalltalk_reply(question, analysis)
        if smalltalk is not None:
            return smalltalk
        whole = self._match(question, self._focus(question, analysis))
        if whole.kind is ReplyKind.ANSWER:
            return whole
        return self._answer_parts(question) or whole

    def _focus(self, question: str, analysis: Analysis) -> Analysis:
        """Without the lines a Slack user quoted, when the rest asks something of its own."""
        lines = question[:MAX_QUESTION_CHARS].splitlines()
        own = [line for line in lines if not line.lstrip().startswith((">", "&gt;"))]
        if len(own) == len(lines) or not own:
            return analysis
        unquoted = self.analyser.analyse("\n".join(own))
        return unquoted if unquoted.terms else analysis

    def _answer_parts(self, question: str) -> Reply | None:
        """A message asking several things, or a long one with context first: answer each
        part that can be answered, in order, as one reply."""
        parts = question_parts(question[:MAX_QUESTION_CHARS])
        if len(parts) < 2:
            return None
        answers: list[Reply] = []
        for part in parts:
            reply = self._match(part, self.analyser.analyse(part))
            if reply.kind is ReplyKind.ANSWER and all(a.intent != reply.intent for a in answers):
                answers.append(reply)
        if not answers:
            return None
        citations: list[Citation] = []
        for answer in answers:
            citations += [c for c in answer.citations if c not in citations]
        return Reply(
            question=question,
            kind=ReplyKind.ANSWER,
            body=" ".join(answer.body for answer in answers),
            intent=answers[0].intent,
            citations=tuple(citations),
            confidence=min(answer.confidence for answer in answers),
        )

    def _match(self, question: str, analysis: Analysis) -> Reply:
        candidates = self._scores(analysis) or self._fuzzy_only(analysis)
        # An unstated item whose closest entries explain every word of the question ("tell
        # me about the Home Secretary") is not what was asked, unless it has the same form.
        candidates = [
            c
            for c in candidates
            if not c.unstated or c.distinct or c.similarity >= UNSTATED_FORM_SIMILARITY
        ]
        on_topic = bool(analysis.terms & self._domain)
        if not candidates or candidates[0].score < ON_TOPIC_THRESHOLD:
            if on_topic and candidates:
                return self._not_in_source(question, candidates[0], None)
            return self._fallback(question, self.kb.message("core.fallback"))
        best = candidates[0]
        if not on_topic and best.score < ANSWER_THRESHOLD:
            return self._fallback(question, self.kb.message("core.fallback"))
        if best.unstated and not best.wrong_type:
            return self._not_in_source(question, best, self._item(best.intent))
        if best.wrong_type or best.other_subject:
            return self._not_in_source(question, best, None)
        if best.score < ANSWER_THRESHOLD or best.explained < EXPLAINED_THRESHOLD:
            # "Was the hackathon 48 hours long?": the fact that settles a yes/no question is
            # an answer even when the question's own guess is not in the source.
            settles = (
                is_yes_no(question)
                and best.score >= YES_NO_SCORE
                and best.explained >= YES_NO_EXPLAINED
            )
            if not settles:
                return self._not_in_source(question, best, None)
        ambiguous = best.score < CLARIFY_CEILING and best.explained >= CLARIFY_MIN_EXPLAINED
        rivals = self._rivals(best, candidates[1:]) if ambiguous else []
        if rivals:
            return self._clarify(question, [best, *rivals])
        return self.answer_intent(best.intent, question, confidence=best.score)

    def _rivals(self, best: Candidate, others: Sequence[Candidate]) -> list[Candidate]:
        """Answerable candidates about as good as the best, citing different passages."""
        best_lines = self._cited_lines(best.intent)
        rivals: list[Candidate] = []
        for other in others:
            if best.score - other.score > CLARIFY_MARGIN:
                break
            if other.unstated or other.wrong_type:
                continue
            # Only a rival that explains the question as fully as the best one is a real choice.
            if other.explained < max(CLARIFY_MIN_EXPLAINED, best.explained - 0.05):
                continue
            lines = self._cited_lines(other.intent)
            if lines & best_lines:
                continue
            rivals.append(other)
            best_lines |= lines
            if len(rivals) == CLARIFY_MAX_CHOICES - 1:
                break
        return rivals

    def _cited_lines(self, intent: str) -> set[tuple[str, int]]:
        entry = self._entries[intent]
        return {
            (c.source, line)
            for c in entry.citations
            for line in range(c.first_line, c.last_line + 1)
        }

    def _item(self, intent: str) -> Item:
        return self._items[intent]

    def answer_intent(self, intent: str, question: str, *, confidence: float = 1.0) -> Reply:
        """The answer of one entry (also used when someone picks a "did you mean" choice)."""
        entry = self._entries[intent]
        return Reply(
            question=question,
            kind=ReplyKind.ANSWER,
            body=entry.answer,
            intent=entry.id,
            citations=entry.citations,
            confidence=round(confidence, 4),
        )

    def _not_in_source(self, question: str, best: Candidate, item: Item | None) -> Reply:
        if isinstance(item, Unstated):
            missing = self.kb.message("core.not_in_source", missing=item.missing)
            closest = [self._entries[i] for i in item.closest]
            intent: str | None = item.id
        else:
            missing = self.kb.message("core.not_in_source_generic")
            nearest = self._entries.get(best.intent)
            closest = [nearest] if nearest is not None else []
            intent = None
        parts = [missing]
        if closest:
            parts.append(self.kb.message("core.closest_intro"))
            parts += [entry.answer for entry in closest]
        citations: list[Citation] = []
        for entry in closest:
            citations += [c for c in entry.citations if c not in citations]
        return Reply(
            question=question,
            kind=ReplyKind.NOT_IN_SOURCE,
            body=" ".join(parts),
            intent=intent,
            citations=tuple(citations),
            suggestions=tuple(Suggestion(e.id, e.question) for e in closest),
            confidence=round(best.score, 4),
        )

    def _clarify(self, question: str, choices: Sequence[Candidate]) -> Reply:
        return Reply(
            question=question,
            kind=ReplyKind.CLARIFY,
            body=self.kb.message("core.clarify"),
            suggestions=tuple(Suggestion(c.intent, c.question) for c in choices),
            confidence=round(choices[0].score, 4),
        )

    def _fallback(self, question: str, body: str) -> Reply:
        examples = self.kb.example_questions
        start = sum(map(ord, question)) % len(examples) if examples else 0
        chosen = [examples[(start + offset) % len(examples)] for offset in range(3)]
        return Reply(
            question=question,
            kind=ReplyKind.FALLBACK,
            body=body,
            suggestions=tuple(Suggestion(i, self._entries[i].question) for i in chosen),
        )

    def _safeguarding(self, question: str, *, self_concern: bool) -> Reply:
        routes = self.kb.support_routes
        if self_concern:
            body = self.kb.message("core.refusal_support")
            routes = tuple(sorted(routes, key=lambda r: "stop it now" not in r.name.lower()))
        else:
            body = self.kb.message("core.safeguarding")
        return Reply(
            question=question,
            kind=ReplyKind.SAFEGUARDING,
            body=body,
            support_routes=routes,
            confidence=1.0,
        )

    def _refusal(self, question: str) -> Reply:
        support = [r for r in self.kb.support_routes if "stop it now" in r.name.lower()]
        body = self.kb.message("core.refusal")
        if support:
            body = f"{body} {self.kb.message('core.refusal_support')}"
        return Reply(
            question=question,
            kind=ReplyKind.REFUSAL,
            body=body,
            support_routes=tuple(support),
            confidence=1.0,
        )

    def _smalltalk_topic(self, analysis: Analysis) -> SmalltalkTopic | None:
        """A message is small talk when it is one of a topic's phrases, or when every word
        of it, filler aside, is a word of one topic's phrases ("thanks, that's helpful")."""
        topic = self._smalltalk.get(analysis.text)
        if topic is not None or not 0 < len(analysis.words) <= SMALLTALK_MAX_WORDS:
            return topic
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

    def _smalltalk_reply(self, question: str, analysis: Analysis) -> Reply | None:
        topic = self._smalltalk_topic(analysis)
        if topic is None:
            return None
        suggestions: Iterable[str] = self.kb.example_questions[:3] if topic.id == "help" else ()
        return Reply(
            question=question,
            kind=ReplyKind.SMALLTALK,
            body=topic.reply,
            intent=f"smalltalk.{topic.id}",
            suggestions=tuple(Suggestion(i, self._entries[i].question) for i in suggestions),
            confidence=1.0,
        )

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
