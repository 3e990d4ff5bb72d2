"""Verifying the customer's messenger token: an HS256 JWT signed by the business's backend.

The business signs ``{"user_id", "exp", "email"?, "name"?, "phone"?, "attributes"?}`` with the
workspace's messenger secret; anything else (expired, unsigned, another algorithm, another secret,
too long-lived) is refused with a reason the messenger can show to the developer integrating it.
``attributes`` are facts the business vouches for (plan, account id...): they are shown to agents
as verified, unlike attributes the messenger sends unsigned in the context package.

Anonymous visitors get a visitor token from the messenger API itself, signed with the same secret,
with ``user_id`` ``visitor:<id>`` and ``"visitor": true``. A business token can't claim a visitor id,
nor any id the system keeps for what isn't a customer (``internal:``, see ``helpdesk.domain.principals``).

Every refusal is a ``TokenRejected``, whatever the token holds: its shape is checked first
(``helpdesk.auth.compact_jwt``), so no input makes the check itself fail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import jwt

from helpdesk.auth.compact_jwt import ALGORITHM, MalformedToken, read_unverified
from helpdesk.domain.principals import VISITOR_PREFIX, reserved_prefix

MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
CLOCK_SKEW_SECONDS = 30
MAX_USER_ID_LENGTH = 256
MAX_SIGNED_ATTRIBUTES = 30
MAX_ATTRIBUTE_LENGTH = 200


class TokenRejected(Exception):
    """The token can't be trusted; ``reason`` says why, without echoing the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CustomerIdentity:
    user_id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    is_visitor: bool = False
    issued_at: int | None = None


def bearer_token(authorization_header: str | None) -> str:
    """The token from an ``Authorization: Bearer <token>`` header (the scheme in any case, any spacing)."""
    if not authorization_header:
        raise TokenRejected("missing Authorization header: send 'Authorization: Bearer <customer JWT>'")
    parts = authorization_header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise TokenRejected("Authorization header must be 'Bearer <customer JWT>'")
    return parts[1]


def verify_customer_token(token: str, secret: str, now: float | None = None) -> CustomerIdentity:
    """Check shape, signature, algorithm, expiry and lifetime; return who the customer is."""
    current = time.time() if now is None else now
    try:
        read_unverified(token)
    except MalformedToken as malformed:
        raise TokenRejected(malformed.reason) from malformed
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "user_id"], "verify_iat": False},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRejected("token has expired") from error
    except jwt.InvalidSignatureError as error:
        raise TokenRejected("token signature does not match the messenger secret") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenRejected(f"token is missing the '{error.claim}' claim") from error
    except jwt.PyJWTError as error:
        raise TokenRejected("token is not a valid JWT") from error
    exp = claims["exp"]
    if not _is_number(exp) or exp - current > MAX_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise TokenRejected("token lives too long: 'exp' must be at most 24 hours ahead")
    user_id = claims["user_id"]
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_USER_ID_LENGTH:
        raise TokenRejected(f"'user_id' claim must be a non-empty string of at most {MAX_USER_ID_LENGTH} characters")
    if not user_id.isprintable():
        raise TokenRejected("'user_id' claim must be printable text (no control characters)")
    is_visitor = claims.get("visitor") is True
    if user_id.startswith(VISITOR_PREFIX) != is_visitor:
        raise TokenRejected(f"'user_id' may start with '{VISITOR_PREFIX}' only in a visitor token")
    reserved = reserved_prefix(user_id)
    if reserved is not None:
        raise TokenRejected(f"'user_id' may not start with '{reserved}': the system keeps those ids for itself")
    iat = claims.get("iat")
    return CustomerIdentity(
        user_id=user_id,
        email=_optional_string(claims, "email"),
        name=_optional_string(claims, "name"),
        phone=_optional_string(claims, "phone"),
        attributes=_signed_attributes(claims.get("attributes")),
        is_visitor=is_visitor,
        issued_at=int(iat) if _is_number(iat) else None,
    )


def _is_number(value: Any) -> TypeGuard[int | float]:
    # The shape check keeps numbers finite and within 64 bits or 1e100; a bool is not a time.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional_string(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value[:MAX_ATTRIBUTE_LENGTH] if isinstance(value, str) and value.strip() else None


def _signed_attributes(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_SIGNED_ATTRIBUTES:
        raise TokenRejected(f"'attributes' claim must be an object of at most {MAX_SIGNED_ATTRIBUTES} entries")
    attributes: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str | int | float | bool) or len(str(key)) > 64:
            raise TokenRejected("'attributes' claim values must be strings, numbers or booleans")
        attributes[str(key)] = str(value)[:MAX_ATTRIBUTE_LENGTH]
    return attributes


def sign_customer_token(
    secret: str, user_id: str, *, ttl_seconds: int = 3600, now: float | None = None, **claims: Any
) -> str:
    """What the business's backend does: used by the local runtime's demo tokens and the tests."""
    issued = int(time.time() if now is None else now)
    payload: dict[str, object] = {"user_id": user_id, "iat": issued, "exp": issued + ttl_seconds, **claims}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def issue_visitor_token(secret: str, visitor_id: str, *, now: float | None = None) -> str:
    """The messenger's token for an anonymous visitor: lets them chat, and see only their own conversation."""
    return sign_customer_token(
        secret, f"{VISITOR_PREFIX}{visitor_id}", ttl_seconds=MAX_TOKEN_LIFETIME_SECONDS, now=now, visitor=True
    )
