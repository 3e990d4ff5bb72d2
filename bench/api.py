"""The two API handlers called in this process with API Gateway proxy events, as the handler tests do.

Events are built from the sample events in ``events/`` (same headers and request context) with the
authorizer's context a customer's token or an agent's Cognito claims would give.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.harness import DynamoRecorder

CUSTOMER = "demo-customer-1"
FRONTLINE = ("agent-frontline", "frontline")
RETURNS = ("agent-returns", "returns")


def customer_context(user_id: str = CUSTOMER, *, visitor: bool = False) -> dict[str, Any]:
    """What the messenger authorizer passes on for a verified customer (or an anonymous visitor)."""
    return {
        "principalId": user_id,
        "user_id": user_id,
        "principal_type": "visitor" if visitor else "customer",
        "name": None if visitor else "Alice Demo",
        "email": None if visitor else "alice@example.com",
        "issued_at": str(int(time.time())),
    }


def agent_context(agent: tuple[str, str]) -> dict[str, Any]:
    """The Cognito claims API Gateway passes on for an agent (groups are teams)."""
    sub, groups = agent
    return {"claims": {"sub": sub, "name": sub, "email": f"{sub}@example.com", "cognito:groups": groups}}


def proxy_event(
    method: str, path: str, *, body: Any = None, authorizer: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The REST API proxy event for ``method path`` (a query string may follow the path)."""
    from tests.support.events import sample_event

    surface = path.split("/")[1]
    event = copy.deepcopy(
        sample_event(f"{surface}_api/start_conversation" if surface == "messenger" else "inbox_api/list_tickets")
    )
    parts = urlsplit(path)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if pair) if parts.query else None
    event.update(
        {
            "httpMethod": method,
            "path": parts.path,
            "pathParameters": {"proxy": parts.path.split("/", 2)[2]},
            "body": None if body is None else json.dumps(body),
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        }
    )
    event["requestContext"].update({"httpMethod": method, "path": f"/prod{parts.path}", "authorizer": authorizer})
    return event


@dataclass
class Reply:
    status: int
    body: Any


class InProcessApi:
    """Calls the messenger and inbox handlers; remembers the DynamoDB calls each request made."""

    def __init__(self, recorder: DynamoRecorder) -> None:
        from helpdesk.handlers import inbox_api, messenger_api

        self._handlers = {"messenger": messenger_api.lambda_handler, "inbox": inbox_api.lambda_handler}
        self.recorder = recorder
        self.last_request: tuple[str, str] | None = None
        """(method, path) of the last request, the query string left out."""

    def call(self, event: dict[str, Any]) -> Reply:
        from tests.support.events import FakeLambdaContext

        self.last_request = (event["httpMethod"], event["path"])
        handler = self._handlers[event["path"].split("/")[1]]
        response = handler(event, FakeLambdaContext())
        raw = response.get("body") or "null"
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        return Reply(status=int(response["statusCode"]), body=body)

    def customer(
        self, method: str, path: str, body: Any = None, *, user_id: str = CUSTOMER, visitor: bool = False
    ) -> Reply:
        return self.call(proxy_event(method, path, body=body, authorizer=customer_context(user_id, visitor=visitor)))

    def agent(self, method: str, path: str, body: Any = None, *, agent: tuple[str, str] = FRONTLINE) -> Reply:
        return self.call(proxy_event(method, path, body=body, authorizer=agent_context(agent)))

    def public(self, method: str, path: str, body: Any = None) -> Reply:
        return self.call(proxy_event(method, path, body=body, authorizer=None))
