"""Reading the messages the bot sent: blocks by id, buttons, every text a human would see."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from tests.slack.fake_slack import FakeSlack

# Markup that pings people: broadcasts, user and group mentions.
PING = re.compile(r"<!(channel|here|everyone)|<@U|<!subteam")


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def visible_text(body: dict[str, Any]) -> str:
    """The text a reader sees: the fallback text and every text in the blocks (not values)."""
    parts = [str(body.get("text", ""))]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("value", "action_id", "block_id", "url"):
                    continue
                if key == "text" and isinstance(item, str):
                    parts.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body.get("blocks", []))
    walk((body.get("view") or {}).get("blocks", []))
    return "\n".join(parts)


def mrkdwn_text(body: dict[str, Any]) -> str:
    """The text Slack parses for markup: the fallback text and every ``mrkdwn`` object.

    (``plain_text`` objects, such as button labels, are shown literally and never ping.)
    """
    parts = [str(body.get("text", ""))]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
                parts.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body.get("blocks", []))
    walk(body.get("view", {}))
    return "\n".join(parts)


def pings_in(fake: FakeSlack, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every ping-capable markup the bot sent, except mentions of ``allowed`` users."""
    found: list[str] = []
    for call in fake.calls:
        text = mrkdwn_text(call.body)
        for user in allowed:
            text = text.replace(f"<@{user}>", "")
        found += [m.group(0) for m in PING.finditer(text)]
    return found


def block(body: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in body.get("blocks", []) if b.get("block_id") == block_id), None)


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a message. Block Kit's native feedback buttons appear as two, named
    ``feedback_up`` and ``feedback_down``; a click on either sends ``click_action_id``."""
    found: list[dict[str, Any]] = []
    for b in body.get("blocks", []):
        for element in b.get("elements", []):
            if element.get("type") == "button":
                found.append({**element, "block_id": b.get("block_id")})
            if element.get("type") == "feedback_buttons":
                for key, name in (("positive_button", "up"), ("negative_button", "down")):
                    found.append(
                        {
                            **element[key],
                            "type": "feedback_buttons",
                            "action_id": f"feedback_{name}",
                            "click_action_id": element["action_id"],
                            "block_id": b.get("block_id"),
                        }
                    )
        accessory = b.get("accessory")
        if accessory and accessory.get("type") == "button":
            found.append({**accessory, "block_id": b.get("block_id")})
    return found


def button(body: dict[str, Any], action_id: str) -> dict[str, Any]:
    matches = [b for b in buttons(body) if b["action_id"] == action_id]
    assert matches, f"no button {action_id!r} in {[b['action_id'] for b in buttons(body)]}"
    return matches[0]


def value_of(element: dict[str, Any]) -> dict[str, Any]:
    """What a button's signed value carries (the signature itself is checked by the bot)."""
    value = element["value"]
    if element.get("type") == "feedback_buttons":
        value = value.partition(":")[2]  # "up:" or "down:", then the reference
    text, separator, _ = value.rpartition("~")
    assert separator, "button values are signed"
    decoded = json.loads(text)
    assert isinstance(decoded, dict)
    return decoded
