"""Signed button values: what a button carries comes back on a click only as the bot wrote it.

A click's payload is written by Slack from the message, but anyone holding the signing secret
(or a tester replaying a request) can post any value. So every value that carries state the
bot acts on (who asked, which reply, which entry) is signed with an HMAC-SHA256 keyed from
the app's signing secret, and a click whose value does not verify is ignored.

Any new button does the same::

    value = services.signer.sign(json_text)        # when building the button
    text = services.signer.verify(action["value"]) # on the click: the text, or None

The signature is 128 bits of HMAC-SHA256 in URL-safe base64 (22 characters) after a
``~``; :data:`SIGNATURE_OVERHEAD` is what it adds to the value's length.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SEPARATOR = "~"
_MAC_BYTES = 16
_MAC_CHARS = 22  # base64 of 16 bytes, unpadded
SIGNATURE_OVERHEAD = len(SEPARATOR) + _MAC_CHARS
_PURPOSE = b"hackathon-bot button values v1"


class ValueSigner:
    """Signs and verifies button values with a key derived from a deployment secret.

    Replicas sharing the secret verify each other's buttons; a value signed with another key,
    altered in any way, or not signed at all does not verify.
    """

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if not raw:
            raise ValueError("a button-signing secret must not be empty")
        # A key of its own, so that a button MAC can never stand in for a request signature.
        self._key = hmac.new(raw, _PURPOSE, hashlib.sha256).digest()

    @classmethod
    def ephemeral(cls) -> ValueSigner:
        """A random key: buttons verify only in this process (no shared secret available)."""
        return cls(secrets.token_bytes(32))

    def __repr__(self) -> str:
        return "ValueSigner(key='**********')"

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()[:_MAC_BYTES]).decode().rstrip("=")

    def sign(self, text: str) -> str:
        """``text`` with its signature appended."""
        return f"{text}{SEPARATOR}{self._mac(text)}"

    def verify(self, value: object) -> str | None:
        """The signed text of ``value``, or None unless it carries this key's valid signature."""
        if not isinstance(value, str) or len(value) < SIGNATURE_OVERHEAD:
            return None
        text, separator, mac = value.rpartition(SEPARATOR)
        if not separator or len(mac) != _MAC_CHARS:
            return None
        if not hmac.compare_digest(self._mac(text).encode(), mac.encode("utf-8", "replace")):
            return None
        return text
