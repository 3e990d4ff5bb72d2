"""The email secret: the HMAC key behind reply addresses and the links in emails, with rotation.

In AWS it is a Secrets Manager secret the stack generates; locally a clearly-marked local dev value.
Its value is either the key itself, or JSON ``{"current": "<key>", "previous": "<key>"}`` while a
rotation is under way: new tokens are signed with ``current``, and tokens signed with ``previous``
stay valid until they expire. Every token names its key by a one-character id derived from the key,
so verifying never tries keys at random and a token signed with a retired key is plainly refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

MIN_KEY_LENGTH = 32


class EmailKeyError(ValueError):
    """The email secret's value can't be used (too short, malformed JSON)."""


def key_id(key: str) -> str:
    """One lower-case base32 character naming ``key`` (what tokens carry to say which key signed them)."""
    return base64.b32encode(hashlib.sha256(key.encode()).digest()[:1]).decode()[0].lower()


@dataclass(frozen=True)
class EmailKeys:
    current: str
    previous: str | None = None

    def __post_init__(self) -> None:
        for key in (self.current, self.previous):
            if key is not None and len(key) < MIN_KEY_LENGTH:
                raise EmailKeyError(f"every email key must be at least {MIN_KEY_LENGTH} characters")

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def named(self, identifier: str) -> list[str]:
        """Our keys that ``identifier`` names (two only if both ids collide, 1 in 32: each is tried)."""
        return [key for key in (self.current, self.previous) if key is not None and key_id(key) == identifier]

    @classmethod
    def from_secret(cls, value: str) -> EmailKeys:
        text = value.strip()
        if not text.startswith("{"):
            return cls(current=text)
        try:
            data = json.loads(text)
        except ValueError as error:
            raise EmailKeyError("the email secret looks like JSON but isn't valid JSON") from error
        current, previous = data.get("current"), data.get("previous")
        if not isinstance(current, str) or (previous is not None and not isinstance(previous, str)):
            raise EmailKeyError('the email secret\'s JSON must be {"current": "<key>", "previous": "<key>"}')
        return cls(current=current, previous=previous)
