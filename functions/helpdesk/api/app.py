"""Builds each API's resolver the same way: validation on, errors mapped once, OpenAPI served."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from helpdesk.adapters.repository import TableRepository
from helpdesk.adapters.workspace_files import workspace_from_environment
from helpdesk.api.errors import register_error_handlers
from helpdesk.domain.workspace import Workspace
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import TicketService
from helpdesk.surfaces import ApiSurface

SECURITY_SCHEME = "bearer"


def build_resolver(surface: ApiSurface, *, title: str, description: str) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    register_error_handlers(app)
    openapi_options: dict[str, Any] = {
        "title": title,
        "version": "1.0.0",
        "description": description,
        "security_schemes": {SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT")},
        "security": [{SECURITY_SCHEME: []}],
    }
    docs_path, openapi_path = f"{surface.prefix}/docs", f"{surface.prefix}/openapi.json"
    assert {docs_path, openapi_path} == set(surface.public_paths)
    app.enable_swagger(path=docs_path, **openapi_options)

    @app.get(openapi_path, include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=app.get_openapi_json_schema(**openapi_options),
        )

    return app


@cache
def workspace() -> Workspace:
    return workspace_from_environment()


@cache
def repository() -> TableRepository:
    return TableRepository()


def conversations() -> ConversationService:
    return ConversationService(repository(), workspace())


def tickets() -> TicketService:
    return TicketService(repository(), workspace())
