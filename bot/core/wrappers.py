"""Setting apart what wraps a question: greetings, thanks, apologies, who the asker is and why
they ask, and preambles before a colon or a dash; and reading indirect requests ("I need to
brief my boss on X") as "tell me about X".

This is general language, the same for every source; it runs before matching, and the reply
still quotes the person's own message. When nothing is left, the message is kept whole.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day)|"
    r"dear\s+(?:bot|team|sir|madam|all|colleagues)|yo|"
    r"(?:morning|afternoon|evening)(?=\s*[,!.]))"  # a bare time of day, then punctuation
    r"\b(?:\s+(?:there|all|team|bot|everyone|folks|guys|friend))?)[\s,!.:;-]*",
    re.IGNORECASE,
)
# Thanks and sign-offs at the end of a sentence ("Many thanks", "Kind regards").
_THANKS = re.compile(
    r"[\s,;-]*\b(?:(?:many\s+|big\s+)?thanks|thank\s+you|thx|ty|cheers|much\s+appreciated|"
    r"appreciate\s+it|appreciate\s+your\s+help|(?:kind|best|warm)\s+(?:regards|wishes)|"
    r"regards)\b(?:\s+(?:so\s+much|a\s+lot|very\s+much|"
    r"in\s+advance|for\s+(?:your|the|any)\s+(?:help|time|answer|assistance)))*[\s!.,]*$",
    re.IGNORECASE,
)
# A sentence of thanks for something ("Huge thanks for the previous answers."), asking nothing.
_THANKS_FOR = re.compile(
    r"^\s*(?:(?:many|big|huge|massive|special|heartfelt)\s+)?(?:thanks|thank\s+you)"
    r"(?:\s+(?:so\s+much|a\s+lot|very\s+much))?\s+for\b[^?]*$",
    re.IGNORECASE,
)
# A clause hands over to the next at a conjunction: "sorry if this is a silly question, but
# is the tool ready?" apologises up to "but", and asks after it.
_HANDOVER = r"(?:but|so|yet|though|however)\b"
# A question word, contracted with "is" too, as typed in a hurry: "whats", "who's", "wheres".
_WH_WORD = r"(?:who|what|when|where|which|why|how)(?:['’]?s)?\b"


def _apology(ends: str) -> re.Pattern[str]:
    """An apology for the asking, up to where it ``ends`` (or the clause's punctuation)."""
    return re.compile(
        r"\b(?:sorry|apologies|apologise|apologize|excuse|forgive|pardon)\b[^.?!]*?"
        r"(?:english|grammar|spelling|question|bother|disturb|typing|writing|language|mistakes?)"
        rf"[^.?!,]*?(?={ends}|[.?!,]|$)[.!,]?(?:\s*{_HANDOVER})?",
        re.IGNORECASE,
    )


_APOLOGY = _apology(rf"\s+{_HANDOVER}")
# An apology must not swallow the question it runs into with no punctuation between ("sorry,
# second question today what does the taskforce do?"): then it ends where a question begins.
_APOLOGY_TO_QUESTION = _apology(rf"\s+{_HANDOVER}|\s+{_WH_WORD}")
# A sentence about the asker, not the subject: "I'm a teacher preparing a lesson", "As a
# journalist, ...", "We are a small platform".
_ABOUT_ME = re.compile(
    r"^\s*(?:i\s*'?\s*a?m|i\s+am|we\s*'?\s*re|we\s+are|my\s+name\s+is|as\s+an?|i\s+work|"
    r"we\s+work|i\s+run|we\s+run|i\s+teach|i\s+write|i\s+represent|this\s+is)\b",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    rf"^\s*(?:{_WH_WORD}|whom|whose|is|was|were|are|did|does|do|can|"
    r"could|will|would|has|have|should|tell|explain|describe|list|give)\b",
    re.IGNORECASE,
)
# A question inside a sentence: "I need to know where it was held".
_EMBEDDED_QUESTION = re.compile(rf"\b(?:{_WH_WORD}|whether\b)", re.IGNORECASE)
# "Quick question: ...", "For my article - ...": a preamble about the asking, then the question.
_PREAMBLE = re.compile(r"^(?P<lead>[^:?]{2,120}?)\s*(?::|\s[-–—]\s)\s*(?P<rest>\S.*)$", re.DOTALL)
_PREAMBLE_LEAD = re.compile(
    r"\b(?:i|i'm|im|we|we're|my|our|me|us|question|q|quick|query|request|context|background|"
    r"note|fyi|hello|hi|hey|please|sorry|thanks|for)\b",
    re.IGNORECASE,
)
# "I need to brief my boss on X", "I want to mention X in a lesson", "help me understand X".
_INDIRECT = (
    re.compile(
        r"^\s*(?:i|we)\s*(?:'d|would|need|needs|want|have|'m|am|are|'re)?\s*(?:like|going|"
        r"planning|hoping|trying|got)?\s*(?:to\s+)?(?:brief|tell|teach|explain|inform|update|"
        r"present|talk|write|speak|report|cover|prepare|give|do)\b.*?\b(?:on|about|regarding|"
        r"concerning|covering)\s+(?P<subject>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(?:i|we)\s*(?:'d|would|need|want|'m|am|are|'re)?\s*(?:like|going|planning|hoping)?"
        r"\s*(?:to\s+)?(?:mention|cover|include|discuss|feature|use|explain)\s+(?P<subject>.+?)"
        r"\s+(?:in|to|during|for|with)\s+(?:a|an|my|our|the|this|tomorrow's|next)\b.*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(?:can|could|would)\s+you\s+(?:please\s+)?(?:help\s+me\s+)?(?:understand|"
        r"summari[sz]e|brief\s+me\s+on|fill\s+me\s+in\s+on|walk\s+me\s+through)\s+(?P<subject>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(?:i|we)\s*(?:'d|would)?\s*(?:like|love|want)\s+(?:to\s+)?(?:know|learn|hear|"
        r"read|understand)\s+(?:more\s+)?(?:about|on)\s+(?P<subject>.+)$",
        re.IGNORECASE,
    ),
)
# A request for more on a subject: "tell me a bit more about X", "could you give me more
# details on X?", "any info on X". "More" and "details" ask nothing of their own, so this is
# "tell me about X", question mark or not (the subject holds no question of its own).
_MORE_ABOUT = re.compile(
    r"^\s*(?:(?:(?:can|could|would)\s+you\s+(?:please\s+|kindly\s+)?)?(?:please\s+)?"
    r"(?:tell|give|send)\s+(?:me|us)\s+(?:(?:a\s+(?:little|bit)|some)\s+)?|any\s+|some\s+)?"
    r"(?:more\s+(?:(?:details?|info(?:rmation)?)\s+)?|(?:details?|info(?:rmation)?)\s+)"
    r"(?:about|on|regarding)\s+(?P<subject>[^?,;]+?)(?:[\s,]+please)?[\s?.!]*$",
    re.IGNORECASE,
)
# Polite frames around a question: "I would be grateful if you could tell me who ...", "Could
# you kindly confirm whether ...", "I am writing to ask when ...": the question is what follows.
_POLITE_FRAME = re.compile(
    r"^\s*(?:(?:i|we)\s*(?:'d|would|should)\s+be\s+(?:most\s+|very\s+)?(?:grateful|obliged|"
    r"glad|thankful)\s+if\s+you\s+(?:could|would|can)\s+|(?:could|would|can)\s+you\s+"
    r"(?:please\s+|kindly\s+)?(?:be\s+so\s+kind\s+as\s+to\s+)?|(?:i|we)\s*(?:'m|am|are)\s+"
    r"writing\s+to\s+|(?:i|we)\s+(?:was|were)\s+wondering\s+|may\s+i\s+(?:ask|enquire|inquire)\s+"
    r"|(?:please\s+)?(?:kindly\s+)?)"
    r"(?:(?:please\s+)?(?:tell|inform|advise|confirm|clarify|explain|let)\s+(?:me|us)?\s*"
    r"(?:know\s+)?|ask\s+|enquire\s+|inquire\s+)?"
    r"(?:as\s+to\s+|about\s+)?(?P<question>(?:who|what|when|where|which|why|how|whether|if)\b.+)$",
    re.IGNORECASE,
)


def _strip_wrapping(sentence: str) -> str:
    apart = _APOLOGY.sub(" ", sentence)
    left = re.search(r"\w", apart) is not None
    if not (left and asks(apart)):
        # The apology ran on into the question ("sorry typing this one handed where was the
        # hackathon held thanks so much" ends at "so"): end it where a question begins.
        shorter = _APOLOGY_TO_QUESTION.sub(" ", sentence)
        if asks(shorter) or not left:
            apart = shorter
    sentence = apart
    sentence = _THANKS.sub("", sentence)
    sentence = _GREETING.sub("", sentence, count=1)
    sentence = _THANKS_FOR.sub("", sentence)
    return sentence.strip(" ,;-")


def _indirect(sentence: str) -> str | None:
    framed = _POLITE_FRAME.match(sentence)
    if framed and framed.end("question") - framed.start("question") < len(sentence.strip()):
        question = framed["question"]
        return re.sub(r"^(?:whether|if)\b", "is it true that", question, flags=re.IGNORECASE)
    for pattern in _INDIRECT:
        found = pattern.match(sentence)
        if found:
            # "I need to tell my boss which companies worked on the tool": the question inside
            # the request, not what its last "on" leads to.
            inside = _EMBEDDED_QUESTION.search(sentence, 0, found.start("subject"))
            if inside:
                return sentence[inside.start() :].strip()
            subject = found["subject"].strip(" .?!")
            if subject.split():
                return _about(subject)
    return None


def _about(subject: str) -> str:
    """A request for a subject, as the router reads one: "tell me about X"."""
    return f"tell me about {subject}"


def asks(text: str) -> bool:
    """Whether a piece of a message asks something: a question mark, an opening interrogative
    or request ("tell me ..."), or a question inside it ("I need to know where it was"); not a
    statement ("The release says the tool will be free.")."""
    return "?" in text or bool(_QUESTION_START.match(text) or _EMBEDDED_QUESTION.search(text))


def set_apart(message: str) -> str:
    """The question inside a message, its wrappers set apart; the message itself when nothing
    would be left."""
    text = message.strip()
    preamble = _PREAMBLE.match(text)
    if (
        preamble
        and _PREAMBLE_LEAD.search(preamble["lead"])
        and not _QUESTION_START.match(preamble["lead"])
        and asks(preamble["rest"])  # "need a line on X - for a slide": the request comes first
    ):
        text = preamble["rest"]
    sentences = [s for s in (_strip_wrapping(s) for s in _SENTENCE.split(text)) if s]
    if not sentences:
        return message
    asking = [s for s in sentences if not _ABOUT_ME.match(s) or "?" in s or _indirect(s)]
    kept = asking or sentences
    result = []
    for sentence in kept:
        more = _MORE_ABOUT.match(sentence)
        if more:
            result.append(_about(more["subject"].strip()))
            continue
        indirect = _indirect(sentence)
        framed = _POLITE_FRAME.match(sentence)
        if indirect and ("?" not in sentence or framed):
            result.append(indirect)
        else:
            result.append(sentence)
    core = " ".join(result).strip()
    return core if len(core.split()) >= 1 else message
