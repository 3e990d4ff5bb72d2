"""Loads the sample API Gateway events in ``events/`` and calls handlers with them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"
_UNSET: Any = object()


@dataclass
class FakeLambdaContext:
    function_name: str = "helpdesk-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:helpdesk-test"
    aws_request_id: str = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def sample_event(name: str) -> dict[str, Any]:
    """``messenger_api/start_conversation`` -> the event in events/messenger_api/start_conversation.json."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def customised(
    name: str,
    *,
    path: str | None = None,
    body: Any = _UNSET,
    raw_body: str | None = None,
    query: dict[str, str] | Any | None = _UNSET,
    authorizer: dict[str, Any] | Any | None = _UNSET,
) -> dict[str, Any]:
    event = copy.deepcopy(sample_event(name))
    if path is not None:
        event["path"] = path
        event["pathParameters"] = {"proxy": path.split("/", 2)[2]}
        event["requestContext"]["path"] = f"/prod{path}"
    if body is not _UNSET:
        event["body"] = json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
    if query is not _UNSET:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if authorizer is not _UNSET:
        event["requestContext"]["authorizer"] = authorizer
    return event


def customer_authorizer(user_id: str, name: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"principalId": user_id, "user_id": user_id, "principal_type": "customer"}
    if name:
        context["name"] = name
    return context


def agent_authorizer(sub: str, groups: str) -> dict[str, Any]:
    return {"claims": {"sub": sub, "name": sub, "email": f"{sub}@example.com", "cognito:groups": groups}}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def invoke(handler: Any, event: dict[str, Any]) -> Reply:
    response = handler(event, FakeLambdaContext())
    raw = response.get("body") or "null"
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), ", ".join(values))
    body = json.loads(raw) if "json" in headers.get("content-type", "application/json") else raw
    return Reply(status=response["statusCode"], body=body, headers=headers)
