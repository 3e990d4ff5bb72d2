"""Builds each API's resolver the same way: validation on, errors mapped once, OpenAPI served."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, get_origin, get_type_hints

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from helpdesk.api import request_guards
from helpdesk.api.errors import register_error_handlers
from helpdesk.api.idempotency import with_idempotency
from helpdesk.security_headers import with_api_headers
from helpdesk.settings import settings
from helpdesk.surfaces import ApiSurface

SECURITY_SCHEME = "bearer"

# The shape of every error body (see helpdesk.api.errors), for the OpenAPI document. API Gateway's own
# refusals (the authorizer's 401, its 413 and 429) carry only ``message``, so only that is required.
ERROR_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "error": {"type": "string", "examples": ["validation_error"]},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "current_version": {"type": "integer", "description": "With version_conflict: the ticket's version now."},
    },
}
_ERRORS: dict[HTTPStatus, str] = {
    HTTPStatus.BAD_REQUEST: "The body is not JSON (malformed_json)",
    HTTPStatus.UNAUTHORIZED: "No valid token (unauthorized)",
    HTTPStatus.FORBIDDEN: "You may not do this (forbidden)",
    HTTPStatus.NOT_FOUND: "No such thing, or it isn't yours (not_found)",
    HTTPStatus.CONFLICT: "It changed meanwhile or can't change now (version_conflict, conflict)",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The body is over 64 KB (payload_too_large)",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not application/json (unsupported_media_type)",
    HTTPStatus.UNPROCESSABLE_ENTITY: "The request is invalid; details name each field (validation_error)",
    HTTPStatus.TOO_MANY_REQUESTS: (
        "Too many requests: this caller's rate limit, or the API's throttling. Wait the Retry-After seconds"
    ),
}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _answers_created(route: Route) -> bool:
    """Our convention: a route that returns ``Response[...]`` answers 201 Created (see ``params.created``)."""
    try:
        returns = get_type_hints(route.func).get("return")
    except NameError:
        return False
    return get_origin(returns) is Response


def documented_responses(route: Route) -> dict[int, OpenAPIResponse]:
    """What a route can answer: its success, and the errors its shape allows (all in the error body)."""
    success = HTTPStatus.CREATED if _answers_created(route) else HTTPStatus.OK
    # Every route may be throttled (API Gateway's stage limits; the messenger's per-caller WAF rule).
    errors = {HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.TOO_MANY_REQUESTS}
    if route.security != []:
        errors.add(HTTPStatus.UNAUTHORIZED)
    if route.method != "GET":
        errors |= {HTTPStatus.BAD_REQUEST, HTTPStatus.FORBIDDEN, HTTPStatus.CONFLICT}
        errors |= {HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNSUPPORTED_MEDIA_TYPE}
    if "<" in route.path or route.method != "GET":
        errors.add(HTTPStatus.NOT_FOUND)
    responses: dict[int, OpenAPIResponse] = {success.value: {"description": success.phrase}}
    for status in sorted(errors):
        responses[status.value] = {
            "description": _ERRORS[status],
            "content": {content_types.APPLICATION_JSON: {"schema": ERROR_BODY_SCHEMA}},
        }
    responses[HTTPStatus.TOO_MANY_REQUESTS.value]["headers"] = RETRY_AFTER_HEADER
    return responses


def operation_tag(route: Route) -> str:
    """The group a route is listed under: the resource its path is about (``/inbox/tickets/<id>`` -> tickets)."""
    segments = [s for s in route.path.split("/") if s and not s.startswith("<")]
    return segments[1] if len(segments) > 1 else segments[0]


def operation_description(route: Route) -> str | None:
    """The route function's docstring, when it has one: what the summary can't say in a line."""
    doc = " ".join((route.func.__doc__ or "").split())
    return doc or None


class HelpdeskResolver(APIGatewayRestResolver):
    """Documents every route's answers, errors included, so clients and fuzzers know what to expect."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        for route in [*self._static_routes, *self._dynamic_routes]:
            if not route.include_in_schema:
                continue
            route.responses = route.responses or documented_responses(route)
            route.tags = route.tags or [operation_tag(route)]
            route.description = route.description or operation_description(route)
        schema = super().get_openapi_schema(*args, **kwargs)
        # powertools leaves out an empty ``security``, so public routes would inherit the global bearer token.
        for route in [*self._static_routes, *self._dynamic_routes]:
            path = (schema.paths or {}).get(route.openapi_path)
            operation = getattr(path, route.method.lower(), None) if path else None
            if route.security == [] and operation is not None:
                operation.security = []
        return schema


def build_resolver(surface: ApiSurface, *, title: str, description: str) -> APIGatewayRestResolver:
    app = HelpdeskResolver(enable_validation=True, cors=cors_config())
    register_error_handlers(app)
    openapi_options: dict[str, Any] = {
        "title": title,
        "version": "1.0.0",
        "description": description,
        "security_schemes": {SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT")},
        "security": [{SECURITY_SCHEME: []}],
    }
    docs_path, openapi_path = f"{surface.prefix}/docs", f"{surface.prefix}/openapi.json"
    assert {docs_path, openapi_path} <= set(surface.public_paths)
    app.enable_swagger(path=docs_path, **openapi_options)

    @app.get(openapi_path, include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=app.get_openapi_json_schema(**openapi_options),
        )

    return app


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route the event, unless its body can't be accepted (see ``request_guards``).

    Every answer carries the security headers (``helpdesk.security_headers``)."""
    refused = request_guards.refusal(event)
    if refused is not None:
        return with_api_headers(
            {
                "statusCode": refused.status_code,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": json.dumps(refused.body),
                "isBase64Encoded": False,
            }
        )
    return with_api_headers(with_idempotency(event, context, app.resolve))


def cors_config() -> CORSConfig:
    """Browsers may call the API from these origins (``ALLOWED_ORIGINS``, comma-separated; ``*`` locally)."""
    origins = settings().origins
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        max_age=600,
    )
