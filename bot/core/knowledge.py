"""Loading and validating the curated knowledge in ``knowledge/``.

Everything the bot states comes from here, so loading is strict: a quote that is not verbatim
in its source, an unknown key, a duplicate id or alternate, an empty answer or malformed YAML
stops loading with one message naming the file and the entry (and the YAML line where known).
Line numbers of citations are computed from the quotes, never typed by hand.

Layout of a knowledge directory:

- ``sources/NAME.txt`` and ``sources/NAME.yaml`` (title, publisher, licence): one pair a source.
- ``faq.yaml``: entries that answer questions, each with verbatim quotes.
- ``unstated.yaml``: things people ask that the sources do not state, with the closest entries.
- ``measures.yaml`` (optional): measures the sources announce (``/measures``).
- ``safety.yaml``: support routes and the vocabulary of the safeguarding and refusal checks.
- ``smalltalk.yaml``: greetings, thanks and help.
- ``lexicon.yaml``: the domain's language: concepts, question types, stop words, typos.
- ``messages.yaml``: every other sentence the bot says in its own voice; its keys are
  :class:`~bot.core.messages.MessageKey`.

A Kubernetes ConfigMap cannot hold folders, so ``sources/NAME.txt`` may also be given as the
flattened ``sources__NAME.txt`` beside the other files (see :func:`folder_files`).
"""

from __future__ import annotations

import bisect
import re
import string
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import FUSIONS, INTENT_FEATURES, FusionWeights, RouterConfig
from bot.core.messages import PLACEHOLDERS, SECTIONS, TOPIC, MessageKey
from bot.core.reply import Citation, RouteRole, SupportRoute

QUESTION_TYPES = ("who", "when", "where", "amount", "count", "duration")

# The rules of bot.core.safety, by name (what ``ask --explain`` prints); ``demoted_rules`` in
# safety.yaml may name only these.
SAFETY_RULES = (
    "self_urges",
    "report_request",
    "harm_to_person_at_risk",
    "found_material",
    "harm_first_person",
    "worry",
    "victim_now",
    "actor_harms_child",
    "danger",
    "harm_howto",
    "unauthorised_access",
    "evade_detection",
    "covert_contact",
    "covert_evasion",
    "obtain_material",
)

# The word lists of ``vocabulary`` in safety.yaml, by the role bot.core.safety gives each. The
# loader requires exactly these: a missing or unknown list name stops loading.
SAFETY_LISTS = (
    "neutral_names",
    "report_requests",
    "report_targets",
    "harm_terms",
    "persons_at_risk",
    "not_personal",
    "third_party_actors",
    "child_terms",
    "about_the_tool",
    "worry_phrases",
    "first_person",
    "victim_phrases",
    "found_verbs",
    "found_material",
    "self_urges",
    "danger",
    "evade_phrases",
    "evade_targets",
    "agents",
    "covert_tails",
    "covert_terms",
    "contact_verbs",
    "intrusion_verbs",
    "intrusion_targets",
    "unauthorised",
    "obtain_verbs",
    "material_terms",
    "abuse_terms",
    "harm_howto",
)

# Folders of training data (the safety classifier's corpus, knowledge/safety/), never read when
# loading and left out of the Kubernetes ConfigMap.
NOT_LOADED = ("safety",)

FLAT_SEPARATOR = "__"  # sources__NAME.txt stands for sources/NAME.txt (a ConfigMap has no folders)


def folder_files(directory: Path, folder: str, pattern: str) -> dict[str, Path]:
    """The files of ``directory/folder`` matching ``pattern``, and the flattened files
    ``directory/folder__NAME`` a whole-ConfigMap mount gives, by NAME (sorted).

    A name present both ways is an error: which copy is meant would be a guess.
    """
    found: dict[str, Path] = {}
    nested = directory / folder
    if nested.is_dir():
        found = {path.name: path for path in nested.glob(pattern) if path.is_file()}
    prefix = folder + FLAT_SEPARATOR
    for path in directory.glob(prefix + pattern):
        name = path.name[len(prefix) :]
        if not path.is_file() or not name:
            continue
        if name in found:
            raise KnowledgeError(f"{folder}/{name}: also given as {path.name}; keep one")
        found[name] = path
    return {name: found[name] for name in sorted(found)}


class KnowledgeError(Exception):
    """The knowledge directory is invalid. The message says which file and entry, and why."""


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    topic: str  # what it is about, as a phrase ("the ... hackathon"): {topic} in messages
    publisher: str
    licence: str
    text: str
    path: Path
    url: str | None = None  # the source's public address, when its metadata gives one

    @property
    def line_count(self) -> int:
        return len(self.text.splitlines())

    def find(self, quote: str, line: int | None = None) -> tuple[int, int] | None:
        """Where ``quote`` stands in the text, as (start, end) offsets, or None: the one quote
        locator. Quotes are compared folded (white-space runs, curly quotes and dashes), so a
        quote typed with straight quotes or rewrapped still matches; with ``line``, only an
        occurrence that starts on that line counts."""
        needle, _ = _fold(quote.strip())
        if not needle:
            return None
        folded, offsets = _folded(self.text)
        position = folded.find(needle)
        while position >= 0:
            start = offsets[position]
            if line is None or self.line_of(start) == line:
                return start, offsets[position + len(needle) - 1] + 1
            position = folded.find(needle, position + 1)
        return None

    def line_of(self, offset: int) -> int:
        """The 1-based line of a character offset."""
        return self.text.count("\n", 0, offset) + 1

    def cite(self, quote: str) -> Citation | None:
        """A citation of ``quote`` (its first occurrence, verbatim from the text), or None."""
        found = self.find(quote)
        if found is None:
            return None
        start, end = found
        return Citation(
            source=self.id,
            title=self.title,
            first_line=self.line_of(start),
            last_line=self.line_of(end - 1),
            quote=self.text[start:end],
        )

    def locate(self, citation: Citation) -> int:
        """Where the citation's quote stands in the text (its occurrence on its first line),
        or -1."""
        found = self.find(citation.quote, citation.first_line)
        return -1 if found is None else found[0]

    def sentences_around(self, citation: Citation) -> str:
        """The whole sentences a quote sits in: their words are context for the entry. An
        item of a list also gets the two sentences that lead into the list ("... a package of
        measures ... This included:")."""
        text = self.text
        start = self.locate(citation)
        if start < 0:
            return citation.quote
        ends = _sentence_ends(text)
        first = bisect.bisect_right(ends, start) - 1  # the boundary before the quote
        last = bisect.bisect_left(ends, start + len(citation.quote))
        context = text[ends[first] : ends[min(last, len(ends) - 1)]]
        if context.lstrip().startswith("- "):
            colon = text.rfind(":\n- ", 0, start + 1)
            if colon >= 0:
                lead_in = bisect.bisect_left(ends, colon) - 2
                context = text[ends[max(lead_in, 0)] : colon + 1] + " " + context
        return context


@lru_cache(maxsize=64)
def _sentence_ends(text: str) -> tuple[int, ...]:
    """Offsets where sentences of a text end (0 and the end included), from the one sentence
    splitter, :func:`sentence_spans`."""
    return tuple(sorted({0, len(text), *(end for _, end in sentence_spans(text))}))


@dataclass(frozen=True, slots=True)
class Askable:
    """Something people ask: an id, a readable question, other phrasings and keywords."""

    id: str
    question: str
    alternates: tuple[str, ...]
    keywords: tuple[str, ...]

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


@dataclass(frozen=True, slots=True)
class Entry(Askable):
    """A curated question with its short answer and citations.

    ``answers`` lists the question types (who, when, ...) the answer gives; a question of a
    type the entry does not give is not answered by it.
    """

    answer: str
    citations: tuple[Citation, ...]
    answers: frozenset[str]
    related: tuple[str, ...] = ()  # curated related entries (ids), offered after the answer


@dataclass(frozen=True, slots=True)
class Unstated(Askable):
    """Something people ask that no source states, with the entries nearest to it."""

    missing: str
    closest: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Measure:
    id: str
    name: str
    aliases: tuple[str, ...]
    summary: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class SmalltalkTopic:
    id: str
    phrases: tuple[str, ...]
    reply: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    concepts: Mapping[str, tuple[str, ...]]
    question_types: Mapping[str, tuple[str, ...]]
    stopwords: frozenset[str]
    known_words: frozenset[str]
    typos: Mapping[str, str]
    domain_terms: tuple[str, ...]
    fillers: tuple[str, ...]
    subjects: frozenset[str]  # concept names an answer must share with the question
    entities: frozenset[str]  # concept names of named companies, countries and places
    # spelled out the first time an answer uses one: {"CAID": "the Child Abuse Image Database"}
    abbreviations: Mapping[str, str] = field(default_factory=dict)

    def extended(self, other: Lexicon) -> Lexicon:
        """This general lexicon with a source's own language added."""
        concepts = {name: tuple(words) for name, words in self.concepts.items()}
        for name, words in other.concepts.items():
            concepts[name] = (*concepts.get(name, ()), *words)
        question_types = {name: tuple(words) for name, words in self.question_types.items()}
        for name, words in other.question_types.items():
            question_types[name] = (*question_types.get(name, ()), *words)
        return Lexicon(
            concepts=concepts,
            question_types=question_types,
            stopwords=self.stopwords | other.stopwords,
            known_words=self.known_words | other.known_words,
            typos={**self.typos, **other.typos},
            domain_terms=tuple(sorted({*self.domain_terms, *other.domain_terms})),
            fillers=tuple(sorted({*self.fillers, *other.fillers})),
            subjects=self.subjects | other.subjects,
            entities=self.entities | other.entities,
            abbreviations={**self.abbreviations, **other.abbreviations},
        )


@dataclass(frozen=True, slots=True)
class ClassifierConfig:
    """When the learned safety classifier routes a message (``classifier`` in safety.yaml)."""

    safeguarding: float  # P(safeguarding) + P(self_concern) at which to route to safeguarding
    harmful: float  # P(harmful) at which to refuse
    harmful_override: float  # P(harmful) at which a refusal outranks a rule's safeguarding...
    override_concern: float  # ...while the classifier's concern stays below this
    risk: float  # concern at which an ordinary reply still ends with where to get help
    # The same two thresholds for a message the rules let through and the router reads as a
    # question its source answers (stricter: the site's own subject uses a disclosure's words).
    question_safeguarding: float
    question_harmful: float
    demoted_rules: frozenset[str] = frozenset()  # rules that only raise the risk signal


@dataclass(frozen=True, slots=True)
class SafetyVocabulary:
    """Word lists for the safeguarding and refusal checks, by role (see ``bot.core.safety``),
    and the thresholds of the learned classifier."""

    lists: Mapping[str, tuple[str, ...]]
    classifier: ClassifierConfig

    def get(self, name: str) -> tuple[str, ...]:
        return self.lists.get(name, ())


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    sources: Mapping[str, Source]
    entries: tuple[Entry, ...]
    unstated: tuple[Unstated, ...]
    measures: tuple[Measure, ...]
    support_routes: tuple[SupportRoute, ...]
    smalltalk: tuple[SmalltalkTopic, ...]
    smalltalk_filler: tuple[str, ...]  # words ignored when recognising small talk
    lexicon: Lexicon  # general language only
    source_lexicons: Mapping[str, Lexicon]  # per source: the general lexicon and its own
    safety: SafetyVocabulary
    messages: Mapping[MessageKey, Wording]
    example_questions: tuple[str, ...]  # entry ids
    router_config: RouterConfig

    def source_of(self, item: Entry | Unstated) -> str:
        """The source an item belongs to: its first citation's, or for an unstated item, that
        of its first closest entry."""
        entry = item if isinstance(item, Entry) else self.entry(item.closest[0])
        return entry.citations[0].source

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def has_entry(self, entry_id: str) -> bool:
        return any(entry.id == entry_id for entry in self.entries)

    @property
    def topic(self) -> str:
        """What the sources are about, from their metadata: "A", "A and B", "A, B and C"."""
        return _topic(self.sources)

    @property
    def abbreviations(self) -> Mapping[str, str]:
        """Abbreviations an answer spells out the first time it uses them (``abbreviations``
        in the lexicons: ``CAID: the Child Abuse Image Database``)."""
        merged: dict[str, str] = dict(self.lexicon.abbreviations)
        for lexicon in self.source_lexicons.values():
            merged.update(lexicon.abbreviations)
        return merged

    def message(self, key: MessageKey, **values: object) -> str:
        """The wording of ``key`` (for one source or several), with ``{topic}`` and ``values``
        filled in. Placeholders not given are left as they are, for callers that escape what
        they insert."""
        try:
            member = MessageKey(key)
        except ValueError:
            raise KeyError(f"no message {key!r}: not a MessageKey") from None
        wording = self.messages[member]
        template = wording.several if len(self.sources) > 1 else wording.one
        return template.format_map(_Values({TOPIC: self.topic, **values}))

    def routes_with_role(self, *roles: RouteRole) -> tuple[SupportRoute, ...]:
        """The support routes with any of ``roles``, in the order of safety.yaml."""
        return tuple(route for route in self.support_routes if route.role in roles)

    def route(self, route_id: str) -> SupportRoute:
        for route in self.support_routes:
            if route.id == route_id:
                return route
        raise KeyError(route_id)


def _topic(sources: Mapping[str, Source]) -> str:
    topics = list(dict.fromkeys(source.topic for source in sources.values()))
    if len(topics) <= 1:
        return "".join(topics)
    return f"{', '.join(topics[:-1])} and {topics[-1]}"


@dataclass(frozen=True, slots=True)
class Wording:
    """A message's wording with one source, and with several."""

    one: str
    several: str


class _Values(dict[str, object]):
    """Format values that leave a placeholder not given as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# --- quoting -------------------------------------------------------------------------------

_QUOTE_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def _fold(text: str) -> tuple[str, list[int]]:
    """Fold a text for quote matching (whitespace runs to one space, curly quotes and dashes
    to plain ones) and map each folded character back to its offset in the original."""
    folded: list[str] = []
    offsets: list[int] = []
    in_space = False
    for index, char in enumerate(unicodedata.normalize("NFC", text)):
        if char.isspace():
            if not in_space and folded:
                folded.append(" ")
                offsets.append(index)
            in_space = True
            continue
        in_space = False
        folded.append(char.translate(_QUOTE_FOLD))
        offsets.append(index)
    return "".join(folded), offsets


@lru_cache(maxsize=64)
def _folded(text: str) -> tuple[str, tuple[int, ...]]:
    """A source text folded once for quote matching, with the offsets back."""
    folded, offsets = _fold(text)
    return folded, tuple(offsets)


# --- YAML reading --------------------------------------------------------------------------


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that remembers the line each mapping starts on."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        str(key): value for key, value in loader.construct_mapping(node, deep=True).items()
    }
    keys = [loader.construct_object(key_node) for key_node, _ in node.value]
    duplicates = {str(key) for key in keys if keys.count(key) > 1}
    if duplicates:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate key {sorted(duplicates)[0]!r}", node.start_mark
        )
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


class _Reader:
    """Reads one YAML file and produces errors that name the file, entry and line."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = name or path.name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KnowledgeError(f"{self.name}: file is missing") from None
        except UnicodeDecodeError:
            raise KnowledgeError(f"{self.name}: not valid UTF-8") from None
        try:
            self.data: Any = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error)
            raise KnowledgeError(f"{self.name}{where}: malformed YAML: {problem}") from None

    def fail(
        self, problem: str, item: Mapping[str, Any] | None = None, what: str = ""
    ) -> KnowledgeError:
        line = f" (line {item['__line__']})" if item is not None and "__line__" in item else ""
        label = f" {what}" if what else ""
        return KnowledgeError(f"{self.name}{label}{line}: {problem}")

    def mapping(self, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a mapping")
        return value

    def items(self, key: str | None = None) -> list[dict[str, Any]]:
        data = self.data if key is None else self.mapping(self.data, "the file").get(key)
        if not isinstance(data, list):
            raise self.fail(f"{key or 'the file'} must be a list of entries")
        for item in data:
            if not isinstance(item, dict):
                raise self.fail(f"every item of {key or 'the file'} must be a mapping")
        return data

    @staticmethod
    def label(item: Mapping[str, Any]) -> str:
        return f"entry {item['id']!r}" if isinstance(item.get("id"), str) else "an entry"

    def check_keys(
        self,
        item: Mapping[str, Any],
        required: Sequence[str],
        optional: Sequence[str] = (),
        what: str | None = None,
    ) -> None:
        what = self.label(item) if what is None else what
        keys = set(item) - {"__line__"}
        unknown = sorted(keys - set(required) - set(optional))
        if unknown:
            raise self.fail(f"unknown key {unknown[0]!r}", item, what)
        for key in required:
            if key not in item:
                raise self.fail(f"missing key {key!r}", item, what)

    def text(self, item: Mapping[str, Any], key: str, *, required: bool = True) -> str:
        value = item.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key!r} must be a non-empty string", item, self.label(item))
        return " ".join(value.split())

    def texts(
        self, item: Mapping[str, Any], key: str, *, required: bool = False
    ) -> tuple[str, ...]:
        value = item.get(key, [])
        # Plain numbers (2019, 250000) are read as words too.
        if isinstance(value, list):
            value = [
                str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for v in value
            ]
        if not isinstance(value, list):
            raise self.fail(f"{key!r} must be a list of strings", item, self.label(item))
        for v in value:
            if not isinstance(v, str) or not v.strip():
                hint = " (quote yes/no/on/off in YAML)" if isinstance(v, bool) else ""
                raise self.fail(
                    f"{key!r} has {v!r}, not a non-empty string{hint}", item, self.label(item)
                )
        if required and not value:
            raise self.fail(f"{key!r} must not be empty", item, self.label(item))
        return tuple(" ".join(v.split()) for v in value)


# --- loading -------------------------------------------------------------------------------


def _load_sources(directory: Path) -> dict[str, Source]:
    texts = {
        Path(name).stem: path for name, path in folder_files(directory, "sources", "*.txt").items()
    }
    sources: dict[str, Source] = {}
    for name, meta_path in folder_files(directory, "sources", "*.yaml").items():
        source_id = Path(name).stem
        reader = _Reader(meta_path)
        reader.name = f"sources/{name}"
        meta = reader.mapping(reader.data, "the file")
        reader.check_keys(
            meta, ("title", "topic", "publisher", "licence"), ("published", "url", "note"), ""
        )
        text_path = texts.get(source_id)
        if text_path is None:
            raise KnowledgeError(f"{reader.name}: its text {source_id}.txt is missing")
        sources[source_id] = Source(
            id=source_id,
            title=reader.text(meta, "title"),
            topic=reader.text(meta, "topic"),
            publisher=reader.text(meta, "publisher"),
            licence=reader.text(meta, "licence"),
            text=text_path.read_text(encoding="utf-8"),
            path=text_path,
            url=reader.text(meta, "url", required=False) or None,
        )
    for stem in sorted(set(texts) - set(sources)):
        raise KnowledgeError(f"sources/{stem}.txt: has no metadata file {stem}.yaml beside it")
    if not sources:
        raise KnowledgeError(f"sources/: no sources in {directory} (add NAME.txt with NAME.yaml)")
    return sources


class _Citer:
    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = dict(sources)

    def cite(
        self, reader: _Reader, item: Mapping[str, Any], key: str = "cite"
    ) -> tuple[Citation, ...]:
        what = reader.label(item)
        raw = item.get(key)
        if not isinstance(raw, list) or not raw:
            raise reader.fail(f"{key!r} must be a non-empty list of quotes", item, what)
        citations: list[Citation] = []
        for quote_item in raw:
            if isinstance(quote_item, str):
                quote, source_id = quote_item, None
            elif isinstance(quote_item, dict):
                reader.check_keys(
                    {**quote_item, "id": item.get("id")}, ("quote", "id"), ("source",)
                )
                quote, source_id = quote_item["quote"], quote_item.get("source")
            else:
                raise reader.fail(f"each {key!r} item must be a quote", item, what)
            if not isinstance(quote, str) or not quote.strip():
                raise reader.fail("a quote must be a non-empty string", item, what)
            if source_id is not None and (
                not isinstance(source_id, str) or source_id not in self.sources
            ):
                raise reader.fail(f"unknown source {source_id!r}", item, what)
            candidates = (
                [self.sources[source_id]] if source_id is not None else list(self.sources.values())
            )
            found = [c for c in (f.cite(quote) for f in candidates) if c is not None]
            short = " ".join(quote.split())[:60]
            if not found:
                raise reader.fail(f"quote is not verbatim in any source: {short!r}", item, what)
            if len(found) > 1:
                names = ", ".join(c.source for c in found)
                raise reader.fail(
                    f"quote {short!r} is in several sources ({names}): add 'source:'", item, what
                )
            citations.append(found[0])
        return tuple(citations)


def _load_entries(reader: _Reader, citer: _Citer) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    items = reader.items()
    for item in items:
        reader.check_keys(
            item,
            ("id", "question", "answer", "cite"),
            ("alternates", "answers", "keywords", "related"),
        )
        answers = reader.texts(item, "answers")
        bad = sorted(set(answers) - set(QUESTION_TYPES))
        if bad:
            raise reader.fail(
                f"unknown question type {bad[0]!r} in 'answers' (use {', '.join(QUESTION_TYPES)})",
                item,
                reader.label(item),
            )
        entries.append(
            Entry(
                id=reader.text(item, "id"),
                question=reader.text(item, "question"),
                alternates=reader.texts(item, "alternates"),
                answer=reader.text(item, "answer"),
                citations=citer.cite(reader, item),
                answers=frozenset(answers),
                keywords=reader.texts(item, "keywords"),
                related=reader.texts(item, "related"),
            )
        )
    ids = {entry.id for entry in entries}
    for entry, item in zip(entries, items, strict=True):
        for related in entry.related:
            if related not in ids or related == entry.id:
                problem = "itself" if related == entry.id else f"unknown entry {related!r}"
                raise reader.fail(f"'related' names {problem}", item, reader.label(item))
    return tuple(entries)


def _load_unstated(reader: _Reader, entry_ids: set[str]) -> tuple[Unstated, ...]:
    found: list[Unstated] = []
    for item in reader.items():
        reader.check_keys(
            item, ("id", "question", "missing", "closest"), ("alternates", "keywords")
        )
        closest = reader.texts(item, "closest", required=True)
        for entry_id in closest:
            if entry_id not in entry_ids:
                raise reader.fail(
                    f"'closest' names unknown entry {entry_id!r}", item, reader.label(item)
                )
        found.append(
            Unstated(
                id=reader.text(item, "id"),
                question=reader.text(item, "question"),
                alternates=reader.texts(item, "alternates"),
                missing=reader.text(item, "missing"),
                closest=closest,
                keywords=reader.texts(item, "keywords"),
            )
        )
    return tuple(found)


def _load_measures(reader: _Reader, citer: _Citer) -> tuple[Measure, ...]:
    measures: list[Measure] = []
    for item in reader.items():
        reader.check_keys(item, ("id", "name", "summary", "cite"), ("aliases",))
        measures.append(
            Measure(
                id=reader.text(item, "id"),
                name=reader.text(item, "name"),
                aliases=reader.texts(item, "aliases"),
                summary=reader.text(item, "summary"),
                citations=citer.cite(reader, item),
            )
        )
    return tuple(measures)


def _load_safety(reader: _Reader) -> tuple[tuple[SupportRoute, ...], SafetyVocabulary]:
    data = reader.mapping(reader.data, "the file")
    reader.check_keys({**data, "id": "safety"}, ("routes", "vocabulary", "classifier", "id"))
    routes: list[SupportRoute] = []
    roles = ", ".join(RouteRole)
    for item in reader.items("routes"):
        reader.check_keys(item, ("id", "role", "name", "description", "region"), ("url", "phone"))
        what = reader.label(item)
        url = reader.text(item, "url", required=False) or None
        phone = reader.text(item, "phone", required=False) or None
        if url is None and phone is None:
            raise reader.fail("a route needs a url or a phone number", item, what)
        role = reader.text(item, "role")
        if role not in set(RouteRole):
            raise reader.fail(f"unknown role {role!r} (use {roles})", item, what)
        routes.append(
            SupportRoute(
                id=reader.text(item, "id"),
                role=RouteRole(role),
                name=reader.text(item, "name"),
                description=reader.text(item, "description"),
                region=reader.text(item, "region"),
                url=url,
                phone=phone,
            )
        )
    _check_unique(reader, (route.id for route in routes), "route id")
    if not any(route.role is RouteRole.EMERGENCY for route in routes):
        raise reader.fail("routes: no route has the role 'emergency'")
    vocabulary = reader.mapping(data["vocabulary"], "'vocabulary'")
    names = [name for name in vocabulary if name != "__line__"]
    unknown = [name for name in names if name not in SAFETY_LISTS]
    if unknown:
        raise reader.fail(f"vocabulary: unknown list {unknown[0]!r}")
    missing = [name for name in SAFETY_LISTS if name not in vocabulary]
    if missing:
        raise reader.fail(f"vocabulary: list {missing[0]!r} is missing")
    lists: dict[str, tuple[str, ...]] = {}
    for name in names:
        holder = {"id": f"vocabulary.{name}", "words": vocabulary[name]}
        lists[name] = reader.texts(holder, "words", required=True)
    settings = reader.mapping(data["classifier"], "'classifier'")
    names = [f.name for f in fields(ClassifierConfig) if f.name != "demoted_rules"]
    reader.check_keys({**settings, "id": "classifier"}, (*names, "id"), ("demoted_rules",))
    demoted = reader.texts(
        {"id": "classifier", "rules": settings.get("demoted_rules", [])}, "rules"
    )
    values: dict[str, float] = {}
    for name in names:
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise reader.fail(f"{name} must be a number from 0 to 1", settings, "classifier")
        values[name] = float(value)
    unknown_rules = sorted(set(demoted) - set(SAFETY_RULES))
    if unknown_rules:
        raise reader.fail(f"demoted_rules names unknown rule {unknown_rules[0]!r}", settings)
    config = ClassifierConfig(**values, demoted_rules=frozenset(demoted))
    return tuple(routes), SafetyVocabulary(lists, config)


def _load_smalltalk(
    reader: _Reader, topic: str
) -> tuple[tuple[SmalltalkTopic, ...], tuple[str, ...]]:
    """Small talk; a reply may say ``{topic}`` (what the sources are about)."""
    data = reader.mapping(reader.data, "the file")
    reader.check_keys({**data, "id": "smalltalk"}, ("id", "topics"), ("filler",))
    filler = reader.texts({"id": "filler", "words": data.get("filler", [])}, "words")
    topics: list[SmalltalkTopic] = []
    for item in reader.items("topics"):
        reader.check_keys(item, ("id", "phrases", "reply"))
        topics.append(
            SmalltalkTopic(
                id=reader.text(item, "id"),
                phrases=reader.texts(item, "phrases", required=True),
                reply=_fill_topic(reader, item, reader.text(item, "reply"), topic),
            )
        )
    return tuple(topics), filler


def _fill_topic(reader: _Reader, item: Mapping[str, Any], text: str, topic: str) -> str:
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise reader.fail(f"'reply': {error}", item, reader.label(item)) from None
    unknown = sorted(used - {TOPIC})
    if unknown:
        raise reader.fail(
            f"'reply': unknown placeholder {{{unknown[0]}}} (it may use {{topic}})",
            item,
            reader.label(item),
        )
    return text.format(topic=topic)


_LEXICON_KEYS = (
    "concepts",
    "question_types",
    "stopwords",
    "known_words",
    "typos",
    "domain_terms",
    "fillers",
    "subjects",
    "entities",
    "abbreviations",
)


def _load_lexicon(reader: _Reader, general: Lexicon | None = None) -> Lexicon:
    """The general lexicon, or (given the general one) a source's extension merged into it."""
    data = reader.mapping(reader.data, "the file")
    required = ("question_types", "stopwords") if general is None else ()
    reader.check_keys(
        {**data, "id": "lexicon"},
        ("id", *required),
        tuple(k for k in _LEXICON_KEYS if k not in required),
    )

    def word_lists(key: str) -> dict[str, tuple[str, ...]]:
        section = reader.mapping(data.get(key, {}), repr(key))
        return {
            name: reader.texts({"id": f"{key}.{name}", "words": words}, "words", required=True)
            for name, words in section.items()
            if name != "__line__"
        }

    def word_set(key: str) -> frozenset[str]:
        return frozenset(reader.texts({"id": key, "words": data.get(key, [])}, "words"))

    question_types = word_lists("question_types")
    bad = sorted(set(question_types) - set(QUESTION_TYPES))
    if bad:
        raise reader.fail(f"unknown question type {bad[0]!r} in 'question_types'")
    concepts = word_lists("concepts")
    subjects = word_set("subjects")
    entities = word_set("entities")
    known_concepts = set(concepts) | set(general.concepts if general else ())
    unknown_subjects = sorted((subjects | entities) - known_concepts)
    if unknown_subjects:
        raise reader.fail(f"'subjects' names unknown concept {unknown_subjects[0]!r}")
    typos_raw = reader.mapping(data.get("typos", {}), "'typos'")
    typos = {str(k): str(v) for k, v in typos_raw.items() if k != "__line__"}
    abbreviations_raw = reader.mapping(data.get("abbreviations", {}), "'abbreviations'")
    abbreviations: dict[str, str] = {}
    for short, long in abbreviations_raw.items():
        if short == "__line__":
            continue
        if not isinstance(long, str) or not long.strip() or not str(short).strip():
            raise reader.fail(f"abbreviation {short!r} needs what it stands for")
        abbreviations[str(short)] = " ".join(long.split())
    own = Lexicon(
        concepts=concepts,
        question_types=question_types,
        stopwords=word_set("stopwords"),
        known_words=word_set("known_words"),
        typos=typos,
        domain_terms=tuple(sorted(word_set("domain_terms"))),
        fillers=tuple(sorted(word_set("fillers"))),
        subjects=subjects,
        entities=entities,
        abbreviations=abbreviations,
    )
    return own if general is None else general.extended(own)


def _load_source_lexicons(
    directory: Path, general: Lexicon, sources: Mapping[str, Source]
) -> dict[str, Lexicon]:
    """Each source's lexicon: the general one plus ``lexicon/SOURCE.yaml`` (or the flattened
    ``lexicon__SOURCE.yaml`` of a ConfigMap) when there is one."""
    files = folder_files(directory, "lexicon", "*.yaml")
    found = {Path(name).stem: path for name, path in files.items()}
    for name in found:
        if name not in sources:
            raise KnowledgeError(f"lexicon/{name}.yaml: there is no source {name!r}")
    return {
        # Named lexicon/NAME.yaml also when mounted flattened (lexicon__NAME.yaml).
        source: _load_lexicon(_Reader(found[source], f"lexicon/{source}.yaml"), general)
        if source in found
        else general
        for source in sources
    }


def _load_router_config(reader: _Reader) -> RouterConfig:
    data = reader.mapping(reader.data, "the file")
    names = RouterConfig.names()
    reader.check_keys({**data, "id": "router"}, ("id", *names, *FUSIONS))
    integers = RouterConfig.integer_names()

    def number(holder: Mapping[str, Any], name: str, what: str) -> float:
        value = holder[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise reader.fail(f"{name} must be a number", holder, what)
        if name in integers and (not isinstance(value, int) or value < 1):
            raise reader.fail(f"{name} must be a whole number of at least 1", holder, what)
        return value

    def weights(key: str) -> FusionWeights:
        fusion = reader.mapping(data[key], f"'{key}'")
        reader.check_keys({**fusion, "id": key}, ("id", *FusionWeights.names()))
        return FusionWeights(**{n: float(number(fusion, n, key)) for n in FusionWeights.names()})

    values: dict[str, Any] = {
        n: int(number(data, n, "router")) if n in integers else float(number(data, n, "router"))
        for n in names
    }
    without = weights("fusion_without_intent")
    if any(getattr(without, name) != 0 for name in INTENT_FEATURES):
        raise reader.fail(
            f"fusion_without_intent: {', '.join(INTENT_FEATURES)} must be 0", data, "router"
        )
    return RouterConfig(**values, fusion=weights("fusion"), fusion_without_intent=without)


def _load_messages(reader: _Reader) -> tuple[dict[MessageKey, Wording], tuple[str, ...]]:
    """Every :class:`MessageKey` and nothing else, each a string or ``{one:, several:}``."""
    data = reader.mapping(reader.data, "the file")
    unknown = sorted(set(data) - {*SECTIONS, "example_questions", "__line__"})
    if unknown:
        raise reader.fail(f"unknown section {unknown[0]!r}")
    holder = {"id": "messages", "example_questions": data.get("example_questions", [])}
    examples = reader.texts(holder, "example_questions", required=True)
    found: dict[str, Any] = {}
    for section in SECTIONS:
        values = reader.mapping(data.get(section, {}), f"section {section!r}")
        found |= {f"{section}.{key}": value for key, value in values.items() if key != "__line__"}
    unknown = sorted(set(found) - set(MessageKey))
    if unknown:
        raise reader.fail(f"unknown key {unknown[0]!r}")
    messages: dict[MessageKey, Wording] = {}
    for key in MessageKey:
        if key not in found:
            raise reader.fail(f"missing key {key.value!r}")
        messages[key] = _wording(reader, key, found[key])
    return messages, examples


def _wording(reader: _Reader, key: MessageKey, value: Any) -> Wording:
    if isinstance(value, dict):
        reader.check_keys({**value, "id": key.value}, ("id", "one", "several"))
        one, several = value["one"], value["several"]
    else:
        one = several = value
    allowed = {TOPIC, *PLACEHOLDERS.get(key, ())}
    for text in (one, several):
        if not isinstance(text, str) or not text.strip():
            raise reader.fail(f"message {key.value!r} must be a non-empty string")
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as error:
            raise reader.fail(f"message {key.value!r}: {error}") from None
        bad = sorted(used - allowed)
        if bad:
            known = ", ".join("{" + name + "}" for name in sorted(allowed))
            raise reader.fail(
                f"message {key.value!r}: unknown placeholder {{{bad[0]}}} (it may use {known})"
            )
    return Wording(one=one.strip(), several=several.strip())


def _check_unique(reader: _Reader, ids: Iterator[str], what: str) -> None:
    seen: set[str] = set()
    for identifier in ids:
        if identifier in seen:
            raise reader.fail(f"duplicate {what} {identifier!r}")
        seen.add(identifier)


def _check_alternates(reader: _Reader, owners: Sequence[tuple[str, tuple[str, ...]]]) -> None:
    seen: dict[str, str] = {}
    for owner, phrasings in owners:
        for phrasing in phrasings:
            key = " ".join(re.findall(r"[a-z0-9£]+", phrasing.lower()))
            if key in seen:
                raise reader.fail(
                    f"entry {owner!r}: duplicate alternate {phrasing!r} (also in {seen[key]!r})"
                )
            seen[key] = owner


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load and validate a knowledge directory; raise :class:`KnowledgeError` when it is invalid."""
    if not directory.is_dir():
        raise KnowledgeError(f"knowledge directory not found: {directory}")
    sources = _load_sources(directory)
    citer = _Citer(sources)

    faq_reader = _Reader(directory / "faq.yaml")
    entries = _load_entries(faq_reader, citer)
    _check_unique(faq_reader, (e.id for e in entries), "id")
    unstated_reader = _Reader(directory / "unstated.yaml")
    unstated = _load_unstated(unstated_reader, {entry.id for entry in entries})
    all_ids = [e.id for e in entries] + [u.id for u in unstated]
    _check_unique(faq_reader, iter(all_ids), "id")
    _check_alternates(
        faq_reader,
        [(e.id, e.phrasings) for e in entries] + [(u.id, u.phrasings) for u in unstated],
    )

    measures: tuple[Measure, ...] = ()
    if (directory / "measures.yaml").exists():  # optional: not every source announces measures
        measures_reader = _Reader(directory / "measures.yaml")
        measures = _load_measures(measures_reader, citer)
        _check_unique(measures_reader, (m.id for m in measures), "measure id")

    routes, safety = _load_safety(_Reader(directory / "safety.yaml"))
    smalltalk_reader = _Reader(directory / "smalltalk.yaml")
    smalltalk, smalltalk_filler = _load_smalltalk(smalltalk_reader, _topic(sources))
    _check_unique(smalltalk_reader, (t.id for t in smalltalk), "topic id")
    lexicon = _load_lexicon(_Reader(directory / "lexicon.yaml"))
    source_lexicons = _load_source_lexicons(directory, lexicon, sources)
    messages_reader = _Reader(directory / "messages.yaml")
    messages, examples = _load_messages(messages_reader)
    known = {entry.id for entry in entries}
    for example in examples:
        if example not in known:
            raise messages_reader.fail(f"example_questions names unknown entry {example!r}")
    if len(examples) < 3:
        raise messages_reader.fail("example_questions needs at least three entry ids")
    router_config = _load_router_config(_Reader(directory / "router.yaml"))
    return KnowledgeBase(
        sources=sources,
        entries=entries,
        unstated=unstated,
        measures=measures,
        support_routes=routes,
        smalltalk=smalltalk,
        smalltalk_filler=smalltalk_filler,
        lexicon=lexicon,
        source_lexicons=source_lexicons,
        safety=safety,
        messages=messages,
        example_questions=examples,
        router_config=router_config,
    )


def uncited_sentences(kb: KnowledgeBase) -> dict[str, list[tuple[int, int, str]]]:
    """Per source, the sentences (headings and list items included) that no entry or measure
    quotes any part of.

    Each is given as (first line, last line, text), the lines those of its first and last
    characters.
    """
    citations = [c for e in kb.entries for c in e.citations]
    citations += [c for m in kb.measures for c in m.citations]
    result: dict[str, list[tuple[int, int, str]]] = {}
    for sid, source in kb.sources.items():
        text = source.text
        covered = [False] * len(text)
        for citation in (c for c in citations if c.source == sid):
            # Mark the occurrence the citation points at (the one on its first line).
            start = source.locate(citation)
            if start >= 0:
                covered[start : start + len(citation.quote)] = [True] * len(citation.quote)
        missing: list[tuple[int, int, str]] = []
        for start, end in sentence_spans(text):
            if not any(covered[start:end]):
                first = text.count("\n", 0, start) + 1
                last = text.count("\n", 0, end - 1) + 1
                missing.append((first, last, " ".join(text[start:end].split())))
        result[sid] = missing
    return result


# Where a sentence ends: after '.', '!' or '?' before white space; after ':' at the end of a
# line (a heading such as "Library:", or a list's lead-in); at a blank line; before a line that
# starts a list item ("- ", "* ", "• ", "1. ", "1) ").
_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?])(?=\s)|(?<=:)(?=[ \t]*(?:\n|$))|\n[ \t]*\n|\n(?=[ \t]*(?:[-*•]|\d+[.)])[ \t])"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a text as (start, end) offsets, without the white space around them."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in [*_SENTENCE_BREAK.finditer(text), None]:
        end = len(text) if match is None else match.start()
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        if match is not None:
            start = match.end()
    return spans
