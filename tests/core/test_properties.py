"""Properties over arbitrary text: the router never crashes and never echoes a ping."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.knowledge import KnowledgeBase
from bot.core.render import render_mrkdwn
from bot.core.reply import ReplyKind
from bot.core.router import Router

PINGS = re.compile(r"<!(channel|here|everyone)|<@[UW]|<#C|<!subteam")

slack_noise = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U012AB3CD>",
        "<#C1|x>",
        "<!subteam^S1|@t>",
        "*",
        "_",
        "`",
        ">",
        ":smile:",
        "&lt;",
        "\n",
        "£250k",
        "CAID",
        "hackathon",
        "who",
        "?",
    ]
)
questions = st.lists(st.one_of(st.text(max_size=40), slack_noise), max_size=12).map("".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=questions)
def test_no_string_crashes_the_router_or_pings(
    kb: KnowledgeBase, router: Router, question: str
) -> None:
    reply = router.reply(question)
    assert isinstance(reply.kind, ReplyKind)
    assert 0.0 <= reply.confidence <= 1.0
    assert not PINGS.search(render_mrkdwn(kb, reply))
