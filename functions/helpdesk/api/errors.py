"""The one place where domain errors and invalid requests become HTTP responses.

Every error body has the same shape::

    {"error": "validation_error", "message": "...", "details": [{"field": "...", "message": "..."}]}
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from helpdesk.domain.errors import (
    BadQuery,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    Unauthenticated,
    VersionConflict,
)

logger = Logger(child=True)

_STATUS: dict[type[DomainError], tuple[HTTPStatus, str]] = {
    NotFound: (HTTPStatus.NOT_FOUND, "not_found"),
    Forbidden: (HTTPStatus.FORBIDDEN, "forbidden"),
    BadQuery: (HTTPStatus.BAD_REQUEST, "bad_query"),
    InvalidInput: (HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error"),
    VersionConflict: (HTTPStatus.CONFLICT, "version_conflict"),
    Conflict: (HTTPStatus.CONFLICT, "conflict"),
    Unauthenticated: (HTTPStatus.UNAUTHORIZED, "unauthorized"),
    Gone: (HTTPStatus.GONE, "gone"),
}


def error_response(
    status: HTTPStatus, code: str, message: str, details: list[dict[str, str]] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = details
    body.update(extra)
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


def _field(location: tuple[Any, ...]) -> str:
    # powertools reports ("body", "attributes", "order_id"), ("query", "limit"), ("path", "id")...
    parts = [str(p) for p in location]
    if parts and parts[0] == "body" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_response(error: RequestValidationError) -> Response[dict[str, Any]]:
    problems = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "request body is not valid JSON")
    details = [{"field": _field(tuple(p.get("loc", ()))), "message": str(p.get("msg", "is invalid"))} for p in problems]
    fields = ", ".join(sorted({d["field"] for d in details}))
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", f"invalid request: check {fields}", details
    )


def _domain_response(error: DomainError) -> Response[dict[str, Any]]:
    status, code = next(
        (value for kind, value in _STATUS.items() if isinstance(error, kind)),
        (HTTPStatus.BAD_REQUEST, "bad_request"),
    )
    details = [{"field": f, "message": m} for f, m in error.problems] if isinstance(error, InvalidInput) else None
    extra: dict[str, Any] = {"current_version": error.current_version} if isinstance(error, VersionConflict) else {}
    if isinstance(error, Gone):
        code, details = error.code, [{"field": error.field, "message": error.message}]
        extra["renewable"] = error.renewable
    return error_response(status, code, error.message, details, **extra)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    app.exception_handler(RequestValidationError)(_validation_response)
    app.exception_handler(DomainError)(_domain_response)

    @app.not_found
    def _not_found(_: Exception) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")
