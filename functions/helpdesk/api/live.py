"""The live channel's routes on the API Gateway WebSocket API (``helpdesk.surfaces.LIVE``).

- ``$connect``: after the live authorizer let the token in, record the connection and what it listens to;
  answers the ``helpdesk-live`` subprotocol when the page asked for it (the token rode beside it);
- ``$disconnect``: forget the connection;
- ``watch`` ``{"conversation_id" | "ticket_id", "previous"?}``: listen to what is on screen (and stop
  listening to ``previous``);
- ``unwatch`` ``{"topic"}``; ``typing`` ``{"conversation_id", "internal"?}``; ``ping`` (answers ``pong``);
- anything else (``$default``): an ``error`` frame.

Client messages are JSON ``{"action": <route>, ...}``. A refused or malformed one gets an ``error``
frame ``{"error", "message", "details": [{"field", "message"}]}`` like the APIs' error bodies; the
connection stays open.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpdesk import wiring
from helpdesk.api.identity import agent_from_claims
from helpdesk.domain.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from helpdesk.domain.live import PROTOCOL, Frame, FrameType, Subscriber
from helpdesk.surfaces import LIVE

ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
ROUTES = LIVE.routes
RESPONDING_ROUTES = LIVE.responding_routes
"""Routes whose Lambda answer goes back to the client as a message (a route response)."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(max_length=32)


class WatchBody(_Body):
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    ticket_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    previous: str | None = Field(default=None, max_length=100, description="The topic watched until now.")


class UnwatchBody(_Body):
    topic: str = Field(min_length=1, max_length=100)


class TypingBody(_Body):
    conversation_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    internal: bool = False


class PingBody(_Body):
    pass


def subscriber_from_event(event: dict[str, Any]) -> Subscriber:
    """Who holds the connection, as ``$connect``'s authorizer described them."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    connection_id = context.get("connectionId")
    if not isinstance(connection_id, str) or not connection_id or not isinstance(authorizer, dict):
        raise Unauthenticated("a live connection needs the authorizer's identity")
    kind = authorizer.get("principal_type")
    if kind == "agent":
        agent = agent_from_claims(
            {
                "sub": authorizer.get("sub"),
                "name": authorizer.get("name"),
                "email": authorizer.get("email"),
                "cognito:groups": authorizer.get("groups") or "",
            }
        )
        return Subscriber(connection_id, "agent", agent.id, agent.name, agent.teams, agent.role)
    user_id = authorizer.get("user_id")
    if kind not in ("customer", "visitor") or not isinstance(user_id, str) or not user_id:
        raise Unauthenticated("a verified customer or agent token is required")
    return Subscriber(connection_id, kind, user_id, authorizer.get("name") or None)


def _details(invalid: InvalidInput) -> list[dict[str, str]]:
    return [{"field": f, "message": m} for f, m in invalid.problems]


def _error(error: str, message: str, details: list[tuple[str, str]] | None = None) -> Frame:
    data = {"error": error, "message": message, "details": [{"field": f, "message": m} for f, m in details or []]}
    return Frame.of(str(uuid.uuid4()), FrameType.ERROR, data)


def _refusal(failure: DomainError) -> Frame:
    if isinstance(failure, InvalidInput):
        return _error("validation_error", failure.message, failure.problems)
    if isinstance(failure, Forbidden):
        return _error("forbidden", failure.message)
    if isinstance(failure, NotFound):
        return _error("not_found", failure.message)
    if isinstance(failure, Unauthenticated):
        return _error("unauthorized", failure.message)
    return _error("conflict", failure.message)


def _parse[B: BaseModel](model: type[B], raw: Any) -> B:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = [
            (".".join(str(p) for p in e["loc"]) or "body", e["msg"])
            for e in error.errors(include_input=False, include_url=False)
        ]
        raise InvalidInput("the message is invalid", problems) from None


def _connect(event: dict[str, Any]) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    try:
        subscriber = subscriber_from_event(event)
        wiring.live().connect(subscriber, presence=query.get("presence") or None)
    except Unauthenticated as refused:
        return {"statusCode": 401, "body": json.dumps({"error": "unauthorized", "message": refused.message})}
    except InvalidInput as invalid:
        body = {"error": "validation_error", "message": invalid.message, "details": _details(invalid)}
        return {"statusCode": 400, "body": json.dumps(body)}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    answer: dict[str, Any] = {"statusCode": 200}
    if PROTOCOL in offered:
        answer["headers"] = {"Sec-WebSocket-Protocol": PROTOCOL}
    return answer


def _message(route: str, subscriber: Subscriber, raw: Any) -> Frame | None:
    live = wiring.live()
    match route:
        case "watch":
            watch = _parse(WatchBody, raw)
            live.watch(
                subscriber, conversation_id=watch.conversation_id, ticket_id=watch.ticket_id, previous=watch.previous
            )
        case "unwatch":
            live.unwatch(subscriber, _parse(UnwatchBody, raw).topic)
        case "typing":
            typing = _parse(TypingBody, raw)
            live.typing(subscriber, typing.conversation_id, internal=typing.internal)
        case "ping":
            _parse(PingBody, raw)
            return Frame.of(str(uuid.uuid4()), FrameType.PONG, {"connection_id": subscriber.connection_id})
        case _:
            action = raw.get("action") if isinstance(raw, dict) else None
            return _error(
                "validation_error",
                f"unknown action {str(action)[:32]!r}" if action else "say what to do",
                [("action", f"must be one of {', '.join(r for r in ROUTES if not r.startswith('$'))}")],
            )
    return None


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function's handler: ``helpdesk.handlers.live_socket`` loads this module on the first event."""
    request = event.get("requestContext") or {}
    route = str(request.get("routeKey") or "$default")
    if route == "$connect":
        return _connect(event)
    connection_id = str(request.get("connectionId") or "")
    if route == "$disconnect":
        wiring.live().disconnect(connection_id)
        return {"statusCode": 200}
    answer: Frame | None
    try:
        subscriber = subscriber_from_event(event)
        try:
            raw = json.loads(event.get("body") or "")
        except ValueError:
            raise InvalidInput("messages are JSON objects", [("body", "is not JSON")]) from None
        answer = _message(route, subscriber, raw)
    except DomainError as failure:
        answer = _refusal(failure)
    if answer is None:
        return {"statusCode": 200}
    if route in RESPONDING_ROUTES:
        return {"statusCode": 200, "body": json.dumps(answer)}
    wiring.live_connections().post(connection_id, answer)
    return {"statusCode": 200}
