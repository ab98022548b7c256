"""The reply model: what the router decides, as data that renderers turn into text or blocks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReplyKind(StrEnum):
    """The kinds of reply, in the order the router checks them."""

    SAFEGUARDING = "safeguarding"
    REFUSAL = "refusal"
    SMALLTALK = "smalltalk"
    ANSWER = "answer"
    NOT_IN_SOURCE = "not_in_source"
    CLARIFY = "clarify"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim passage of a source, with its 1-based inclusive line span."""

    source: str
    title: str
    first_line: int
    last_line: int
    quote: str

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "title": self.title,
            "lines": [self.first_line, self.last_line],
            "quote": self.quote,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A question the bot can answer, offered to the user (clarify choices, examples)."""

    intent: str
    question: str

    def to_json(self) -> dict[str, str]:
        return {"intent": self.intent, "question": self.question}


class RouteRole(StrEnum):
    """What a support route is for (``role`` in safety.yaml). Code picks routes by role,
    never by display name, so a deployment can rename or replace routes for its region."""

    EMERGENCY = "emergency"  # a child in immediate danger: the police
    REPORT_GROOMING = "report_grooming"  # report online abuse, grooming or enticement
    REPORT_IMAGES = "report_images"  # report abuse images or videos seen online
    IMAGE_REMOVAL = "image_removal"  # get one's own images taken down
    CHILD_SUPPORT = "child_support"  # help for children and young people
    ADULT_SUPPORT = "adult_support"  # help for adults worried about a child
    SELF_HELP = "self_help"  # help for anyone worried about their own thoughts or behaviour


@dataclass(frozen=True, slots=True)
class SupportRoute:
    """A place to report a concern or get support."""

    name: str
    description: str
    region: str
    url: str | None = None
    phone: str | None = None
    id: str = ""  # from safety.yaml; empty (and no role) only for routes built in tests
    role: RouteRole | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The router's decision for one question.

    ``body`` is the bot's own plain-text wording (no markup); citations carry the facts.
    """

    question: str
    kind: ReplyKind
    body: str
    intent: str | None = None
    citations: tuple[Citation, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    support_routes: tuple[SupportRoute, ...] = ()
    confidence: float = 0.0
    risk: bool = False  # the message carried a risk signal: the body ends with where to get help
    related: tuple[Suggestion, ...] = ()  # questions to ask next, after an answer

    @property
    def listed_routes(self) -> tuple[SupportRoute, ...]:
        """The support routes to list after the body, each once (by name)."""
        seen: set[str] = set()
        listed: list[SupportRoute] = []
        for route in self.support_routes:
            if route.name.lower() not in seen:
                seen.add(route.name.lower())
                listed.append(route)
        return tuple(listed)

    def route_description(self, route: SupportRoute) -> str:
        """A route's description as listed: empty when the body already leads with it (the
        most urgent line is said once)."""
        description = route.description.rstrip(". ")
        return "" if description and description in self.body else route.description

    @property
    def is_private(self) -> bool:
        """Replies that must never be posted where others can read them: safeguarding,
        refusals, and any reply to a message that carried a risk signal."""
        return self.risk or self.kind in (ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL)
