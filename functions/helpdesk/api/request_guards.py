"""What every request body must be before anything parses it: the API's first and only pre-parse check.

In order, each answered with the usual error body:

1. at most ``MAX_REQUEST_BYTES`` (no message needs more): 413 ``payload_too_large``;
2. JSON when it says what it is (``application/json`` or ``+json``): 415 ``unsupported_media_type``;
3. text (API Gateway hands over binary bodies base64-encoded): 400 ``malformed_json`` when not UTF-8;
4. JSON: 400 ``malformed_json``;
5. within the JSON limits (``helpdesk.domain.json_limits``): nested at most 32 levels, numbers that
   fit 64 bits or DynamoDB's decimals, valid Unicode text: 422 ``validation_error`` naming the field.

A body that isn't JSON at all is 400 ``malformed_json`` on every route, even one that takes no
body: powertools reads bodies with the plain ``json`` module, which a malformed document carrying a
5,000-digit number would crash; the bodies these checks let through it reads like they do.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from helpdesk.api.errors import error_response
from helpdesk.domain import json_limits

MAX_REQUEST_BYTES = 64 * 1024


def refusal(event: dict[str, Any]) -> Response[dict[str, Any]] | None:
    """The answer to a request whose body can't be accepted, or None to go on and route it."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "request body is not UTF-8 JSON")
    if len(body) > MAX_REQUEST_BYTES:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "payload_too_large",
            f"request body is {len(body)} bytes; the limit is {MAX_REQUEST_BYTES}",
        )
    if not body:
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"send the body as application/json, not {media_type}",
            [{"field": "Content-Type", "message": "must be application/json"}],
        )
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "request body is not UTF-8 JSON")
    return _beyond_json_limits(body)


def _beyond_json_limits(text: str) -> Response[dict[str, Any]] | None:
    try:
        json_limits.loads(text)
    except json_limits.JsonRefused as refused:
        if refused.malformed:
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "request body is not valid JSON")
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation_error",
            # Not "invalid request:" (schema validation's wording): these are limits no schema states.
            f"request body goes beyond the API's limits: check {refused.path}",
            [{"field": refused.path, "message": refused.problem}],
        )
    return None
