"""Verifying an agent's Cognito ID token, where API Gateway's Cognito authorizer can't: the live channel.

WebSocket APIs accept only Lambda authorizers, so the live channel's authorizer checks the same ID
token the inbox API's Cognito authorizer checks: an RS256 JWT signed by one of the user pool's keys
(its JWKS), issued by the pool (``iss``), for one of the inbox's app clients (``aud``), an ID token
(``token_use``), not expired. The signature check is RSASSA-PKCS1-v1_5 with SHA-256 done here in
plain Python (a public-key operation and a constant-time comparison of the whole encoded message),
so the Lambda layer carries no cryptography library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpdesk.auth.customer_tokens import CLOCK_SKEW_SECONDS, TokenRejected

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
"""The DER prefix of a SHA-256 DigestInfo (RFC 8017, section 9.2)."""
MIN_KEY_BITS = 2048


@dataclass(frozen=True)
class RsaKey:
    n: int
    e: int

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> RsaKey:
        if jwk.get("kty") != "RSA":
            raise ValueError("not an RSA key")
        return cls(n=int.from_bytes(_unb64(str(jwk["n"])), "big"), e=int.from_bytes(_unb64(str(jwk["e"])), "big"))


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rs256_signature_valid(signing_input: bytes, signature: bytes, key: RsaKey) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017, 8.2.2): the whole encoding is compared."""
    size = (key.n.bit_length() + 7) // 8
    if key.n.bit_length() < MIN_KEY_BITS or key.e < 3 or len(signature) != size:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(size, "big")
    digest = SHA256_DIGEST_INFO + hashlib.sha256(signing_input).digest()
    padding = size - len(digest) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest
    return hmac.compare_digest(encoded, expected)


@dataclass(frozen=True)
class CognitoPool:
    """Where an agent's token must come from."""

    issuer: str
    """``https://cognito-idp.<region>.amazonaws.com/<user pool id>``"""
    client_ids: frozenset[str]


def token_header(token: str) -> dict[str, Any]:
    try:
        header = json.loads(_unb64(token.split(".")[0]))
    except (ValueError, IndexError) as error:
        raise TokenRejected("token is not a well-formed JWT") from error
    if not isinstance(header, dict):
        raise TokenRejected("token is not a well-formed JWT")
    return header


def verify_cognito_id_token(
    token: str, keys: Mapping[str, RsaKey], pool: CognitoPool, *, now: float | None = None
) -> dict[str, Any]:
    """The token's claims, if the user pool signed it for the inbox and it is still valid."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("token is not a well-formed JWT")
    header = token_header(token)
    if header.get("alg") != "RS256":
        raise TokenRejected("agent token must be signed with RS256")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise TokenRejected("agent token is signed with a key this user pool doesn't have")
    try:
        signature = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except ValueError as error:
        raise TokenRejected("token is not a well-formed JWT") from error
    if not rs256_signature_valid(f"{parts[0]}.{parts[1]}".encode(), signature, key):
        raise TokenRejected("agent token signature does not match the user pool's key")
    if not isinstance(claims, dict):
        raise TokenRejected("token is not a well-formed JWT")
    current = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp + CLOCK_SKEW_SECONDS < current:
        raise TokenRejected("agent token has expired")
    if claims.get("iss") != pool.issuer:
        raise TokenRejected("agent token was not issued by this inbox's user pool")
    if claims.get("token_use") != "id":
        raise TokenRejected("send the agent's ID token")
    if claims.get("aud") not in pool.client_ids:
        raise TokenRejected("agent token was issued for another application")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("agent token has no subject")
    return claims
