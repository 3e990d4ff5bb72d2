"""API Gateway Lambda authorizer (REQUEST type) for the live channel's ``$connect``.

Browsers can't set headers on a WebSocket, so the token comes as the query parameter ``token`` or in
``Sec-WebSocket-Protocol`` beside the ``helpdesk-live`` subprotocol. It is the same token the APIs
take: a customer's messenger JWT (HS256, the messenger secret; anonymous visitors' too) or an agent's
Cognito ID token (RS256, the user pool's keys). The connection's identity travels to every route of
the connection as authorizer context: ``principal_type`` (customer, visitor or agent), ``user_id`` or
``sub``, ``name``, and an agent's ``groups``. A refused token yields a Deny (403); its reason is logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from helpdesk.handlers.entry import Handler, LambdaFunction, authorizer_answer, logger

if TYPE_CHECKING:
    from helpdesk.auth.agent_tokens import CognitoPool, RsaKey

PROTOCOL = "helpdesk-live"


def token_from(event: Mapping[str, Any]) -> str | None:
    """The token: ``?token=`` or the other value offered in ``Sec-WebSocket-Protocol``."""
    query = event.get("queryStringParameters") or {}
    if isinstance(query, Mapping) and query.get("token"):
        return str(query["token"])
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    tokens = [p for p in offered if p != PROTOCOL]
    return tokens[0] if tokens else None


def authorize(
    event: Mapping[str, Any],
    *,
    messenger_secret: Callable[[], str],
    agent_keys: Callable[[str | None], Mapping[str, RsaKey]],
    pool: CognitoPool | None,
) -> dict[str, Any]:
    from helpdesk.auth.agent_tokens import token_header, verify_cognito_id_token
    from helpdesk.auth.customer_tokens import TokenRejected, verify_customer_token

    resource = str(event.get("methodArn") or "*")
    token = token_from(event)
    try:
        if not token:
            raise TokenRejected("missing token: send it as ?token= or in Sec-WebSocket-Protocol")
        header = token_header(token)
        if header.get("alg") == "RS256" and pool is not None:
            claims = verify_cognito_id_token(token, agent_keys(str(header.get("kid"))), pool)
            groups = claims.get("cognito:groups") or []
            context = {
                "principal_type": "agent",
                "sub": str(claims["sub"]),
                "groups": ",".join(str(g) for g in groups) if isinstance(groups, list) else str(groups),
            }
            context |= {k: str(claims[k]) for k in ("name", "email") if claims.get(k)}
            return authorizer_answer(context["sub"], "Allow", resource, context)
        identity = verify_customer_token(token, messenger_secret())
    except TokenRejected as rejected:
        logger().info("live connection refused", extra={"reason": rejected.reason})
        return authorizer_answer("anonymous", "Deny", resource, {"reason": rejected.reason})
    context = {"principal_type": "visitor" if identity.is_visitor else "customer", "user_id": identity.user_id}
    if identity.name:
        context["name"] = identity.name
    return authorizer_answer(identity.user_id, "Allow", resource, context)


def build() -> Handler:
    from helpdesk import wiring

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return authorize(
            event,
            messenger_secret=wiring.messenger_secret,
            agent_keys=wiring.agent_keys,
            pool=wiring.agent_pool(),
        )

    return handle


lambda_handler = LambdaFunction(build)
