"""What curators need to know, read from the stored replies: the data behind the report and
the suggestions.

The router's own ``rank`` gives each unanswered question its nearest entry and score (this
module never routes by itself); rapidfuzz groups questions asked in nearly the same words.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process
from sqlalchemy import Engine, func, select

from bot.core.knowledge import KnowledgeBase
from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.storage.models import ChoiceRow, ReplyRow, VoteRow
from bot.storage.privacy import TEXT_KINDS

# Two questions whose words match this well (0..100, word order ignored) share a group.
GROUP_SIMILARITY = 88.0
# Kinds that are an attempt to answer a question about the source (the answer rate's base).
ASKED_KINDS = frozenset({ReplyKind.ANSWER, *TEXT_KINDS})


@dataclass(frozen=True, slots=True)
class Nearest:
    """The closest item of the knowledge base to a question, by the router's ranking."""

    intent: str
    question: str
    score: float
    unstated: bool  # an item of unstated.yaml (things the source does not say), not faq.yaml


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions asked in nearly the same words, most common phrasing first."""

    phrasings: tuple[tuple[str, int], ...]
    nearest: Nearest | None

    @property
    def count(self) -> int:
        return sum(count for _text, count in self.phrasings)

    @property
    def representative(self) -> str:
        return self.phrasings[0][0]


@dataclass(frozen=True, slots=True)
class EntryFeedback:
    intent: str
    question: str
    up: int
    down: int

    @property
    def votes(self) -> int:
        return self.up + self.down

    @property
    def share_down(self) -> float:
        return self.down / self.votes if self.votes else 0.0


@dataclass(frozen=True, slots=True)
class ChoiceOutcome:
    """How often one "did you mean" outcome happened; ``intent`` None is "none of these"."""

    intent: str | None
    question: str | None
    count: int


@dataclass(frozen=True, slots=True)
class ChosenPhrasing:
    """A clarify question whose asker then chose an entry: a phrasing that entry should know."""

    question: str
    intent: str
    count: int


@dataclass(frozen=True, slots=True)
class CurationData:
    start: datetime
    end: datetime
    per_kind: dict[str, int]
    per_day: dict[date, dict[str, int]]
    unanswered: tuple[QuestionGroup, ...]
    unanswered_without_text: int
    feedback: tuple[EntryFeedback, ...]
    choices: tuple[ChoiceOutcome, ...]
    clarify_without_choice: int
    chosen_phrasings: tuple[ChosenPhrasing, ...]
    # Questions (as compared by group_questions) after which someone chose "none of these".
    rejected_phrasings: frozenset[str]
    never_matched: tuple[tuple[str, str], ...]  # (entry id, question)
    days: int = field(default=0)

    @property
    def total(self) -> int:
        return sum(self.per_kind.values())

    @property
    def asked(self) -> int:
        return sum(self.per_kind.get(kind.value, 0) for kind in ASKED_KINDS)

    @property
    def answered(self) -> int:
        return self.per_kind.get(ReplyKind.ANSWER.value, 0)

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


def tidy(text: str) -> str:
    """One line, single spaces: how a stored question is shown and proposed."""
    return " ".join(text.split())


def nearest(router: Router, question: str) -> Nearest | None:
    ranked = router.rank(question, 1)
    if not ranked:
        return None
    best = ranked[0]
    return Nearest(best.intent, best.question, best.probability, best.unstated)


def group_questions(questions: Iterable[str]) -> list[list[tuple[str, int]]]:
    """Group questions by similarity, biggest group first; each group's phrasings by count.

    Exact repeats (ignoring case, spacing and punctuation) count as one phrasing; the most
    common way of writing it is shown.
    """
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for question in questions:
        shown = tidy(question)
        key = default_process(shown)
        if key:
            spellings[key][shown] += 1
    by_frequency = sorted(spellings.items(), key=lambda item: (-item[1].total(), item[0]))
    groups: list[list[tuple[str, int]]] = []
    keys: list[str] = []  # the first (most frequent) key of each group
    for key, counter in by_frequency:
        phrasing = (counter.most_common(1)[0][0], counter.total())
        match = process.extractOne(
            key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=GROUP_SIMILARITY
        )
        if match is None:
            keys.append(key)
            groups.append([phrasing])
        else:
            groups[match[2]].append(phrasing)
    groups.sort(key=lambda group: -sum(count for _text, count in group))
    return groups


def _question_of(kb: KnowledgeBase, intent: str) -> str:
    if kb.has_entry(intent):
        return kb.entry(intent).question
    for item in kb.unstated:
        if item.id == intent:
            return item.question
    return intent  # an entry removed since: show its id


def collect(
    engine: Engine,
    kb: KnowledgeBase,
    router: Router,
    *,
    days: int,
    now: datetime | None = None,
    max_groups: int = 25,
) -> CurationData:
    """Read the last ``days`` days of stored replies and work out what curators should see."""
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    in_period = (ReplyRow.created_at >= start, ReplyRow.created_at <= end)
    with engine.connect() as connection:
        per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        per_kind: Counter[str] = Counter()
        for created_at, kind in connection.execute(
            select(ReplyRow.created_at, ReplyRow.kind).where(*in_period)
        ):
            per_day[created_at.astimezone(UTC).date()][kind] += 1
            per_kind[kind] += 1

        texts: list[str] = []
        without_text = 0
        for (question,) in connection.execute(
            select(ReplyRow.question).where(
                *in_period, ReplyRow.kind.in_([kind.value for kind in TEXT_KINDS])
            )
        ):
            if question:
                texts.append(question)
            else:
                without_text += 1

        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for intent, vote, count in connection.execute(
            select(ReplyRow.intent, VoteRow.vote, func.count())
            .join(VoteRow, VoteRow.reply_pk == ReplyRow.id)
            .where(*in_period, ReplyRow.intent.is_not(None))
            .group_by(ReplyRow.intent, VoteRow.vote)
        ):
            if intent is not None:
                votes[intent][vote] += count

        choice_counts: Counter[str | None] = Counter()
        chosen: Counter[tuple[str, str]] = Counter()
        rejected: set[str] = set()
        for question, intent in connection.execute(
            select(ReplyRow.question, ChoiceRow.chosen_intent)
            .join(ChoiceRow, ChoiceRow.reply_pk == ReplyRow.id)
            .where(*in_period)
        ):
            choice_counts[intent] += 1
            if intent is not None and question:
                chosen[(tidy(question), intent)] += 1
            elif question:
                rejected.add(default_process(tidy(question)))

        clarify_without_choice = connection.execute(
            select(func.count())
            .select_from(ReplyRow)
            .where(
                *in_period,
                ReplyRow.kind == ReplyKind.CLARIFY.value,
                ~select(ChoiceRow.id).where(ChoiceRow.reply_pk == ReplyRow.id).exists(),
            )
        ).scalar_one()

        matched = set(
            connection.execute(
                select(ReplyRow.intent)
                .where(*in_period, ReplyRow.kind == ReplyKind.ANSWER.value)
                .distinct()
            ).scalars()
        )
    matched |= {intent for intent in choice_counts if intent is not None}

    groups = tuple(
        QuestionGroup(tuple(group), nearest(router, group[0][0]))
        for group in group_questions(texts)[:max_groups]
    )
    feedback = sorted(
        (
            EntryFeedback(intent, _question_of(kb, intent), counts["up"], counts["down"])
            for intent, counts in votes.items()
        ),
        key=lambda item: (-item.share_down, -item.down, item.intent),
    )
    choices = sorted(
        (
            ChoiceOutcome(intent, None if intent is None else _question_of(kb, intent), count)
            for intent, count in choice_counts.items()
        ),
        key=lambda item: (-item.count, item.intent or ""),
    )
    chosen_phrasings = tuple(
        ChosenPhrasing(question, intent, count)
        for (question, intent), count in sorted(chosen.items(), key=lambda item: -item[1])
    )
    return CurationData(
        start=start,
        end=end,
        days=days,
        per_kind=dict(per_kind),
        per_day={day: dict(counts) for day, counts in sorted(per_day.items())},
        unanswered=groups,
        unanswered_without_text=without_text,
        feedback=tuple(feedback),
        choices=tuple(choices),
        clarify_without_choice=clarify_without_choice,
        chosen_phrasings=chosen_phrasings,
        rejected_phrasings=frozenset(rejected),
        never_matched=tuple(
            (entry.id, entry.question) for entry in kb.entries if entry.id not in matched
        ),
    )


def known_phrasings(kb: KnowledgeBase, intent: str) -> set[str]:
    """Every phrasing an item already has, in the form :func:`group_questions` compares."""
    phrasings: Sequence[str] = ()
    if kb.has_entry(intent):
        phrasings = kb.entry(intent).phrasings
    else:
        for item in kb.unstated:
            if item.id == intent:
                phrasings = item.phrasings
    return {default_process(text) for text in phrasings}
