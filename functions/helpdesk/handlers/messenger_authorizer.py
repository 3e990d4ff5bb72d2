"""API Gateway Lambda authorizer (REQUEST type) for the messenger API.

Verifies the customer's JWT with the messenger secret from Secrets Manager and passes the
customer's identity to the messenger function as authorizer context. A refused token yields a Deny
whose context carries the reason; the API's ACCESS_DENIED gateway response turns it into a 401
``{"message": <reason>}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from helpdesk.handlers.entry import Handler, LambdaFunction, authorizer_answer, logger

# The 401's body is a template, '{"message": "$context.authorizer.reason"}': a reason must not end its string.
_NOT_IN_TEMPLATE = re.compile(r'["\\\x00-\x1f\x7f]')


def _api_wildcard_arn(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> every route of the stage,
    # so a cached decision is valid for the customer's next call to another route.
    arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{arn}/{stage}/*"


def _authorization(event: dict[str, Any]) -> str | None:
    """The one Authorization header. Sent twice, WAF's rate rule and this check might read different ones."""
    from helpdesk.auth.customer_tokens import TokenRejected

    repeated = [
        value
        for name, values in (event.get("multiValueHeaders") or {}).items()
        if str(name).lower() == "authorization"
        for value in (values or [])
    ]
    if len(repeated) > 1:
        raise TokenRejected("send one Authorization header")
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    value = headers.get("authorization")
    return value if isinstance(value, str) else None


def authorize(event: dict[str, Any], secret: str) -> dict[str, Any]:
    from helpdesk.auth.customer_tokens import EMAIL_LINK_SESSION, TokenRejected, bearer_token, verify_customer_token

    resource = _api_wildcard_arn(str(event.get("methodArn") or "*/*"))
    try:
        identity = verify_customer_token(bearer_token(_authorization(event)), secret)
    except TokenRejected as rejected:
        reason = _NOT_IN_TEMPLATE.sub("'", rejected.reason)
        logger().info("customer token refused", extra={"reason": reason})
        return authorizer_answer("anonymous", "Deny", resource, {"reason": reason})
    # Authorizer context values must be strings, numbers or booleans: attributes travel as JSON.
    context = {"user_id": identity.user_id, "principal_type": "visitor" if identity.is_visitor else "customer"}
    optional = {"email": identity.email, "name": identity.name, "phone": identity.phone}
    context |= {key: value for key, value in optional.items() if value}
    if identity.attributes:
        context["attributes"] = json.dumps(identity.attributes, separators=(",", ":"), sort_keys=True)
    if identity.issued_at is not None:
        context["issued_at"] = str(identity.issued_at)
    if identity.email_session:
        context["session"] = EMAIL_LINK_SESSION
    return authorizer_answer(identity.user_id, "Allow", resource, context)


def build() -> Handler:
    from helpdesk import wiring

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return authorize(event, wiring.messenger_secret())

    return handle


lambda_handler = LambdaFunction(build)
