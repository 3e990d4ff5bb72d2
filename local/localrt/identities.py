"""Local identities: agent tokens standing in for Cognito, and demo tokens for people to try things.

In AWS, agents sign in with Cognito and API Gateway's Cognito authorizer passes their claims to
the inbox function. Locally, an agent token is an HS256 JWT signed with the local agent secret,
and ``agent_claims`` turns it into the same claims the authorizer would pass. Like the messenger's
authorizer, it reads the token's shape first (``helpdesk.auth.compact_jwt``): whatever a token
holds, the answer is a claim set or ``AgentTokenRejected`` (401), never an error.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from helpdesk.auth.compact_jwt import MalformedToken, read_unverified
from helpdesk.auth.customer_tokens import sign_customer_token

DEMO_TOKEN_TTL = 12 * 3600


class AgentTokenRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign_agent_token(
    secret: str, sub: str, groups: list[str], *, name: str | None = None, ttl: int = DEMO_TOKEN_TTL
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "email": f"{sub}@example.com",
        "name": name or sub,
        "cognito:groups": groups,
        "token_use": "id",
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def agent_claims(authorization: str | None, secret: str) -> dict[str, str]:
    """The claims as API Gateway's Cognito authorizer passes them to a REST API: all strings."""
    parts = (authorization or "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise AgentTokenRejected("missing agent token: send 'Authorization: Bearer <agent token>'")
    try:
        read_unverified(parts[1])
        claims = jwt.decode(parts[1], secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except MalformedToken as malformed:
        raise AgentTokenRejected(f"agent token refused: {malformed.reason}") from malformed
    except jwt.ExpiredSignatureError as error:
        raise AgentTokenRejected("agent token has expired") from error
    except jwt.PyJWTError as error:
        raise AgentTokenRejected("agent token is not valid for this inbox") from error
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 256 or not subject.isprintable():
        raise AgentTokenRejected("agent token 'sub' must be a printable string of at most 256 characters")
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) and g.isprintable() for g in groups):
        raise AgentTokenRejected("agent token 'cognito:groups' must be a list of group names")
    result = {k: str(v) for k, v in claims.items() if k != "cognito:groups"}
    result["cognito:groups"] = ",".join(groups)
    return result


DEMO_CUSTOMERS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("demo-customer-1", {"name": "Alice Demo", "email": "alice@example.com", "phone": "+447700900001"}),
    ("demo-customer-2", {"name": "Bob Demo", "email": "bob@example.com"}),
)
DEMO_AGENTS = (
    ("agent-frontline", ["frontline"], "Frank Frontline"),
    ("agent-returns", ["returns"], "Rita Returns"),
    ("agent-logistics", ["logistics"], "Lou Logistics"),
    ("agent-billing", ["billing"], "Bea Billing"),
    ("agent-lead", ["leads", "returns"], "Lee Lead"),
    ("agent-admin", ["admins", "frontline"], "Ada Admin"),
)


def demo_tokens(messenger_secret: str, agent_secret: str) -> dict[str, str]:
    tokens = {
        user_id: sign_customer_token(messenger_secret, user_id, ttl_seconds=DEMO_TOKEN_TTL, **claims)
        for user_id, claims in DEMO_CUSTOMERS
    }
    for sub, groups, name in DEMO_AGENTS:
        tokens[sub] = sign_agent_token(agent_secret, sub, groups, name=name)
    return tokens
