"""The messenger API: what a customer's messenger calls, behind the messenger token authorizer."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api import schemas
from helpdesk.api.app import build_resolver, conversations, tickets, workspace
from helpdesk.api.identity import customer_from_event
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.surfaces import MESSENGER

logger = Logger()
tracer = Tracer()
metrics = Metrics()

app = build_resolver(
    MESSENGER,
    title="Messenger API",
    description="What the customer's messenger calls. Authenticate with the customer JWT your backend signs.",
)

Id = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=schemas.MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _customer() -> CustomerPrincipal:
    return customer_from_event(app.current_event.raw_event)


@app.post("/messenger/conversations", summary="Start a conversation", responses={201: {"description": "Created"}})
def start_conversation(request: schemas.StartConversationRequest) -> Response[schemas.ConversationView]:
    page = conversations().start(_customer(), request.body, request.context)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=schemas.customer_conversation_page(page),
    )


@app.get("/messenger/conversations", summary="My conversations, newest first")
def list_conversations(cursor: Cursor = None, limit: Limit = schemas.DEFAULT_PAGE_SIZE) -> schemas.ConversationList:
    page = conversations().list_for_customer(_customer(), cursor=cursor, limit=limit)
    return schemas.ConversationList(
        items=[schemas.conversation_view(c, [], None) for c in page.items], next_cursor=page.next_cursor
    )


@app.get("/messenger/conversations/<conversation_id>", summary="A conversation with its latest or newer messages")
def get_conversation(
    conversation_id: Id,
    after: Annotated[str | None, Query(max_length=64, description="Only messages after this message id.")] = None,
    limit: Limit = 50,
) -> schemas.ConversationView:
    page = conversations().page_for_customer(_customer(), conversation_id, after=after, limit=limit)
    return schemas.customer_conversation_page(page)


@app.post("/messenger/conversations/<conversation_id>/messages", summary="Send a message")
def send_message(conversation_id: Id, request: schemas.SendMessageRequest) -> Response[schemas.MessageView]:
    message = conversations().send_as_customer(_customer(), conversation_id, request.body)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=schemas.message_view(message))


@app.get("/messenger/tickets", summary="My tickets, newest first")
def list_tickets(cursor: Cursor = None, limit: Limit = schemas.DEFAULT_PAGE_SIZE) -> schemas.TicketList:
    page = tickets().list_for_customer(_customer(), cursor=cursor, limit=limit)
    return schemas.TicketList(
        items=[schemas.customer_ticket_view(t, workspace()) for t in page.items], next_cursor=page.next_cursor
    )


@app.get("/messenger/tickets/<ticket_id>", summary="A ticket with its timeline")
def get_ticket(
    ticket_id: Id,
    before: Annotated[str | None, Query(max_length=64, description="Timeline entries older than this id.")] = None,
    limit: Limit = 50,
) -> schemas.TicketDetail:
    page = tickets().page_for_customer(_customer(), ticket_id, before=before, limit=limit)
    return schemas.customer_ticket_detail(page, workspace())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
