"""The shape a token must have before a JWT library reads it: a compact HS256 JWS, in one spelling.

PyJWT trusts the shape of what it reads more than a public endpoint can: a ``kid`` that isn't a
string, a ``crit`` it doesn't know or a header that isn't an object raise errors other than the ones
its callers catch, and JSON numbers like ``1e400`` or ``Infinity`` overflow later. Every token check
(the messenger authorizer, ``/messenger/identify``, locally the agent token check) reads the token
here first, so what reaches PyJWT is well-formed and anything else is refused with a reason:

- ASCII, at most ``MAX_TOKEN_LENGTH`` characters, three base64url parts joined by dots;
- each part canonical base64url (no padding, no stray bits): a token has exactly one spelling, so
  re-spelling it can't make it count as a new token (rate limits, the authorizer's cache);
- header: a JSON object with ``alg`` ``HS256`` and at most ``typ`` (``JWT``) and ``kid`` (a short
  string) besides; ``crit`` and any other parameter are refused (RFC 7515 §4.1.11 lets a verifier
  refuse what it doesn't understand, and nothing here needs more);
- payload: a JSON object within ``helpdesk.domain.json_limits``, at most ``MAX_PAYLOAD_DEPTH`` deep.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from helpdesk.domain import json_limits

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 8192
MAX_PAYLOAD_DEPTH = 8
MAX_KID_LENGTH = 128
HEADER_PARAMETERS = frozenset({"alg", "typ", "kid"})
_MALFORMED = "token is not a well-formed JWT"
_SHOWABLE = re.compile(r"[A-Za-z0-9_.:+-]{1,32}")
_COMPACT = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


class MalformedToken(ValueError):
    """Not a token this system issues or accepts; ``reason`` says why, without echoing it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a well-formed token, NOT yet verified: check the signature next."""
    if not isinstance(token, str) or not token:
        raise MalformedToken("token is empty")
    if len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken(f"token is longer than {MAX_TOKEN_LENGTH} characters")
    if not _COMPACT.fullmatch(token):
        raise MalformedToken(f"{_MALFORMED}: three base64url parts joined by dots")
    header_part, payload_part, signature_part = token.split(".")
    header = _json_object(header_part, "header", max_depth=2)
    _check_header(header)
    if not signature_part:
        raise MalformedToken("token is not signed")
    _decode_part(signature_part, "signature")
    claims = _json_object(payload_part, "payload", max_depth=MAX_PAYLOAD_DEPTH)
    return header, claims


def _decode_part(part: str, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as error:
        raise MalformedToken(f"{_MALFORMED}: its {name} is not base64url") from error
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != part:
        raise MalformedToken(f"{_MALFORMED}: its {name} is not canonical base64url (no padding, no stray bits)")
    return raw


def _json_object(part: str, name: str, *, max_depth: int) -> dict[str, Any]:
    raw = _decode_part(part, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedToken(f"{_MALFORMED}: its {name} is not UTF-8") from error
    try:
        value = json_limits.loads(text, max_depth=max_depth)
    except json_limits.JsonRefused as refused:
        where = f" at {refused.path}" if _SHOWABLE.fullmatch(refused.path) else ""
        detail = "is not JSON" if refused.malformed else f"holds a value{where} that {refused.problem}"
        raise MalformedToken(f"{_MALFORMED}: its {name} {detail}") from refused
    if not isinstance(value, dict):
        raise MalformedToken(f"{_MALFORMED}: its {name} must be a JSON object")
    return value


def _check_header(header: dict[str, Any]) -> None:
    unexpected = sorted(set(header) - HEADER_PARAMETERS)
    if unexpected:
        shown = ", ".join(_quoted(name) for name in unexpected[:3])
        raise MalformedToken(f"token header may hold only alg, typ and kid, not {shown}")
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise MalformedToken(f"token must be signed with {ALGORITHM}, not {_quoted(algorithm)}")
    kind = header.get("typ", "JWT")
    if not isinstance(kind, str) or kind.upper() != "JWT":
        raise MalformedToken("token header 'typ' must be 'JWT'")
    key_id = header.get("kid", "")
    if not isinstance(key_id, str) or len(key_id) > MAX_KID_LENGTH or not key_id.isprintable():
        raise MalformedToken(f"token header 'kid' must be a printable string of at most {MAX_KID_LENGTH} characters")


def _quoted(value: Any) -> str:
    """A name from the token, shown in a reason only when it is short and plain (reasons end up in JSON)."""
    if value is None:
        return "none given"
    return f"'{value}'" if isinstance(value, str) and _SHOWABLE.fullmatch(value) else "that"
