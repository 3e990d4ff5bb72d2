"""Builds each API's resolver the same way: validation on, errors mapped once, OpenAPI served."""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from http import HTTPStatus
from typing import Any, get_origin, get_type_hints

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from helpdesk.adapters.attachment_files import AttachmentFiles
from helpdesk.adapters.fanout_queue import SqsFanOutQueue
from helpdesk.adapters.repository import TableRepository
from helpdesk.adapters.workflow_engine import StepFunctionsEngine
from helpdesk.adapters.workspace_files import workspace_from_environment
from helpdesk.api.errors import error_response, register_error_handlers
from helpdesk.api.idempotency import with_idempotency
from helpdesk.domain.workspace import Workspace
from helpdesk.services.agents import AgentService
from helpdesk.services.attachments import AttachmentService
from helpdesk.services.bot import ActionRunner, BotEngine, Knowledge
from helpdesk.services.conversations import ConversationService
from helpdesk.services.customers import CustomerService
from helpdesk.services.reports import ReportService
from helpdesk.services.tickets import TicketService
from helpdesk.services.trackers import TrackerService
from helpdesk.services.workflows import TicketWorkflowService
from helpdesk.surfaces import ApiSurface

SECURITY_SCHEME = "bearer"
MAX_REQUEST_BYTES = 64 * 1024

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
    errors = {HTTPStatus.UNPROCESSABLE_ENTITY}
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
    return responses


class HelpdeskResolver(APIGatewayRestResolver):
    """Documents every route's answers, errors included, so clients and fuzzers know what to expect."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        for route in [*self._static_routes, *self._dynamic_routes]:
            if route.include_in_schema and not route.responses:
                route.responses = documented_responses(route)
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


def _unreadable_body(event: dict[str, Any]) -> Response[dict[str, Any]] | None:
    """Refuse oversized bodies, bodies that aren't JSON, and binary ones before anything parses them."""
    body = event.get("body") or ""
    if len(body) > MAX_REQUEST_BYTES:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "payload_too_large",
            f"request body is {len(body)} bytes; the limit is {MAX_REQUEST_BYTES}",
        )
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body and media_type and media_type != "application/json" and not media_type.endswith("+json"):
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"send the body as application/json, not {media_type}",
            [{"field": "Content-Type", "message": "must be application/json"}],
        )
    if event.get("isBase64Encoded") and body:
        try:
            base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are both ValueErrors
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "request body is not UTF-8 JSON")
    return None


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route the event, unless its body is too large (no message needs more) or not text at all."""
    refused = _unreadable_body(event)
    if refused is not None:
        return {
            "statusCode": refused.status_code,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(refused.body),
            "isBase64Encoded": False,
        }
    return with_idempotency(event, context, app.resolve)


def cors_config() -> CORSConfig:
    """Browsers may call the API from these origins (``ALLOWED_ORIGINS``, comma-separated; ``*`` locally)."""
    origins = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "*").split(",") if o.strip()] or ["*"]
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        max_age=600,
    )


@cache
def workspace() -> Workspace:
    return workspace_from_environment()


@cache
def repository() -> TableRepository:
    return TableRepository()


def bot() -> BotEngine | None:
    """The workspace's bot, or None when it has no ``bot.yaml``."""
    config = workspace().bot
    if config is None:
        return None
    ws = workspace()
    return BotEngine(
        config,
        default_team=ws.default_team,
        team_names={t.id: t.name for t in ws.teams},
        knowledge=knowledge_base(),
        actions=action_runner(),
        someone_present=agents().someone_present,
    )


def knowledge_base() -> Knowledge | None:
    from helpdesk.adapters.knowledge_files import knowledge_base_from_environment

    return knowledge_base_from_environment()


@cache
def action_runner() -> ActionRunner | None:
    from helpdesk.adapters.custom_actions import CustomActionRunner

    actions = workspace().actions
    return CustomActionRunner(actions) if actions else None


def conversations() -> ConversationService:
    engine = bot()
    return ConversationService(repository(), workspace(), engine, tickets() if engine else None)


@cache
def fanout_queue() -> SqsFanOutQueue:
    return SqsFanOutQueue()


def trackers() -> TrackerService:
    return TrackerService(repository(), workspace(), fanout_queue())


def tickets() -> TicketService:
    return TicketService(repository(), workspace(), trackers())


@cache
def attachment_files() -> AttachmentFiles:
    return AttachmentFiles()


def attachments() -> AttachmentService:
    return AttachmentService(repository(), attachment_files())


def customers() -> CustomerService:
    return CustomerService(repository())


def agents() -> AgentService:
    return AgentService(repository(), workspace())


@cache
def workflow_engine() -> StepFunctionsEngine:
    return StepFunctionsEngine()


@cache
def reports() -> ReportService:
    from helpdesk.adapters.lake_engine import fresh_for, lake_queries
    from helpdesk.adapters.report_results import TableReportResults

    return ReportService(lake_queries(), TableReportResults(), fresh_for=fresh_for())


def workflows() -> TicketWorkflowService:
    return TicketWorkflowService(repository(), workspace(), tickets(), workflow_engine())
