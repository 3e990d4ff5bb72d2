"""``Idempotency-Key`` on every write a client may retry (powertools idempotency, in the table).

A POST, PUT or PATCH carrying the header is answered once: a retry with the same key (from the
same caller, to the same route, with the same body) gets the stored response and changes nothing;
the same key with a different body is refused (422); a retry that arrives while the first is still
running is told to wait (409). Server errors aren't stored: a retry runs again.

A key is scoped to the caller's verified identity (the agent's ``sub``, the customer's ``user_id``, as
the authorizers vouch for them) and the route, so nobody can replay someone else's response by
sending their key. A public route has no verified caller: there a key is ignored and every request
runs (the only public write, ``POST /messenger/visitors``, stores nothing, and one visitor's retry
must never hand out another visitor's token).

Records live in the single table under ``PK=IDEMPOTENCY``, ``SK=<hash>``, and expire (TTL) after a day.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded with the first request that carries a key: it brings boto3, which most routes don't need
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from helpdesk.api.identity import agent_from_event, customer_from_event
from helpdesk.domain.errors import Unauthenticated

HEADER = "idempotency-key"
WRITES = frozenset({"POST", "PUT", "PATCH"})
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
RECORD_PARTITION = "IDEMPOTENCY"


class _ServerError(Exception):
    """A 5xx answer: not stored, so a retry runs again."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("server error")
        self.response = response


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from helpdesk.adapters.table import TTL_ATTRIBUTE
    from helpdesk.settings import settings

    return DynamoDBPersistenceLayer(
        table_name=settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=RECORD_PARTITION,
        expiry_attr=TTL_ATTRIBUTE,
    )


def _header(event: dict[str, Any]) -> str | None:
    headers = event.get("headers") or {}
    return next((str(v) for k, v in headers.items() if k.lower() == HEADER), None)


def _caller(event: dict[str, Any]) -> str | None:
    """Who the authorizer verified: ``agent:<sub>`` or ``customer:<user_id>``; None on a public route."""
    with suppress(Unauthenticated):
        return f"agent:{agent_from_event(event).id}"
    with suppress(Unauthenticated):
        return f"customer:{customer_from_event(event).user_id}"
    return None


def _problem(status: HTTPStatus, code: str, message: str, field: str) -> dict[str, Any]:
    body = {"error": code, "message": message, "details": [{"field": field, "message": message}]}
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def with_idempotency(
    event: dict[str, Any], context: Any, handle: Callable[[dict[str, Any], Any], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``handle`` (the API's resolver) at most once per caller, route and ``Idempotency-Key``."""
    key = _header(event)
    caller = _caller(event)
    if key is None or caller is None or str(event.get("httpMethod", "")).upper() not in WRITES:
        return handle(event, context)
    if not KEY_PATTERN.fullmatch(key):
        return _problem(
            HTTPStatus.BAD_REQUEST,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
            "Idempotency-Key",
        )
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    request = {
        "caller": caller,
        "route": f"{event.get('httpMethod')} {event.get('path')}",
        "key": key,
        "body": hashlib.sha256((event.get("body") or "").encode()).hexdigest(),
    }
    config = IdempotencyConfig(
        event_key_jmespath="[caller, route, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
    )
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        config.register_lambda_context(context)

    answered: list[dict[str, Any]] = []

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=config)
    def once(request: dict[str, Any]) -> dict[str, Any]:
        response = handle(event, context)
        if int(response.get("statusCode", 500)) >= 500:
            raise _ServerError(response)
        answered.append(response)
        return response

    try:
        return dict(once(request=request))
    except _ServerError as failed:
        return failed.response
    except IdempotencyPersistenceLayerError:
        if not answered:
            raise
        # The write is done; only storing its answer failed (the table throttled). Answer now: a 5xx
        # would make the client retry a write that happened, and get a different answer (a 409).
        return answered[0]
    except IdempotencyValidationError:
        return _problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request: use a new key for a new request",
            "Idempotency-Key",
        )
    except IdempotencyAlreadyInProgressError:
        return _problem(
            HTTPStatus.CONFLICT,
            "idempotency_key_in_progress",
            "a request with this Idempotency-Key is still being handled: retry in a moment",
            "Idempotency-Key",
        )
