"""Opaque pagination cursors: a DynamoDB ``LastEvaluatedKey`` as URL-safe base64 JSON.

A cursor is checked when it comes back: it must be well-formed and point into the same list it
came from, so a crafted cursor can neither break a Query nor read another partition.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from helpdesk.domain.errors import InvalidInput

MAX_CURSOR_LENGTH = 2048


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, key_attributes: set[str], expected: dict[str, str]) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` a cursor stands for.

    ``key_attributes``: exactly the key attributes of the table or index queried;
    ``expected``: values some of them must have (the partition of the list).
    """
    invalid = InvalidInput("cursor is not valid for this list", [("cursor", "not a cursor returned by this list")])
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise invalid from error
    if not isinstance(decoded, dict) or not decoded:
        raise invalid
    for name, value in decoded.items():
        if not (isinstance(name, str) and isinstance(value, dict) and set(value) == {"S"}):
            raise invalid
        if not isinstance(value["S"], str):
            raise invalid
    for name, value in expected.items():
        if decoded.get(name, {}).get("S") != value:
            raise invalid
    if set(decoded) != key_attributes:
        raise invalid
    return decoded
