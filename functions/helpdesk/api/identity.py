"""The caller's identity, as API Gateway's authorizers hand it to the function.

- Messenger: the messenger Lambda authorizer puts ``user_id`` (and ``email``, ``name``, and
  ``session`` for a session opened from a link in an email) in ``requestContext.authorizer``.
- Inbox: the Cognito user pool authorizer puts the token's claims in
  ``requestContext.authorizer.claims``; ``cognito:groups`` are the agent's teams.
"""

from __future__ import annotations

import json
from typing import Any

from helpdesk.auth.customer_tokens import EMAIL_LINK_SESSION
from helpdesk.domain.errors import Unauthenticated
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal, reserved_prefix
from helpdesk.domain.roles import Role
from helpdesk.surfaces import ADMIN_GROUP, LEAD_GROUP


def _authorizer(event: dict[str, Any]) -> dict[str, Any]:
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    return context if isinstance(context, dict) else {}


def customer_from_event(event: dict[str, Any]) -> CustomerPrincipal:
    context = _authorizer(event)
    user_id = context.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthenticated("a verified customer token is required")
    if reserved_prefix(user_id) is not None:  # the authorizer refuses these; never trust one that slipped by
        raise Unauthenticated("this customer id is reserved for the system")
    try:
        attributes = json.loads(context.get("attributes") or "{}")
    except ValueError:
        attributes = {}
    issued_at = str(context.get("issued_at") or "")
    return CustomerPrincipal(
        user_id=user_id,
        email=context.get("email") or None,
        name=context.get("name") or None,
        phone=context.get("phone") or None,
        verified_attributes={str(k): str(v) for k, v in attributes.items()} if isinstance(attributes, dict) else {},
        is_visitor=context.get("principal_type") == "visitor",
        token_issued_at=int(issued_at) if issued_at.isdigit() else None,
        email_session=context.get("session") == EMAIL_LINK_SESSION,
    )


def _groups(raw: Any) -> frozenset[str]:
    """Cognito groups arrive as a list, "a,b", "[a b]" or a JSON list, depending on the path taken."""
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw if g)
    if not isinstance(raw, str) or not raw.strip():
        return frozenset()
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text[1:-1].replace(",", " ").split()
        return frozenset(str(g) for g in parsed if g)
    return frozenset(g.strip() for g in text.split(",") if g.strip())


def agent_from_event(event: dict[str, Any]) -> AgentPrincipal:
    claims = _authorizer(event).get("claims") or {}
    if isinstance(claims, str):  # some integrations pass the claims JSON-encoded
        try:
            claims = json.loads(claims)
        except ValueError:
            claims = {}
    return agent_from_claims(claims if isinstance(claims, dict) else {})


def agent_from_claims(claims: dict[str, Any]) -> AgentPrincipal:
    """The agent a Cognito token's claims describe (``cognito:groups``: their teams and role)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("a signed-in agent is required")
    groups = _groups(claims.get("cognito:groups"))
    role = Role.ADMIN if ADMIN_GROUP in groups else Role.LEAD if LEAD_GROUP in groups else Role.AGENT
    return AgentPrincipal(
        id=subject,
        email=claims.get("email") or None,
        name=claims.get("name") or None,
        teams=groups - {ADMIN_GROUP, LEAD_GROUP},
        role=role,
    )
