"""The inbox API: what agents and specialist teams call, behind the Cognito authorizer."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api import schemas
from helpdesk.api.app import attachments, build_resolver, conversations, resolve, tickets, workspace
from helpdesk.api.identity import agent_from_event
from helpdesk.domain.models import ConversationStatus
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import StateCategory
from helpdesk.services.tickets import NewTicket, TicketChanges
from helpdesk.surfaces import INBOX

logger = Logger()
tracer = Tracer()
metrics = Metrics()

app = build_resolver(
    INBOX,
    title="Inbox API",
    description="What agents call. Authenticate with the agent's Cognito ID token; groups are teams.",
)

Id = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=schemas.MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=2048)]
TeamId = Annotated[str | None, Query(max_length=64, description="Defaults to your first team.")]


def _agent() -> AgentPrincipal:
    return agent_from_event(app.current_event.raw_event)


def _created[T](body: T) -> Response[T]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


@app.get("/inbox/conversations", summary="A team's conversations, newest first")
def list_conversations(
    team_id: TeamId = None,
    status: Annotated[ConversationStatus, Query()] = ConversationStatus.OPEN,
    cursor: Cursor = None,
    limit: Limit = schemas.DEFAULT_PAGE_SIZE,
) -> schemas.AgentConversationList:
    agent = _agent()
    team = team_id or next(iter(sorted(agent.teams)), workspace().default_team)
    page = conversations().inbox(team, status, cursor=cursor, limit=limit)
    return schemas.AgentConversationList(
        items=[schemas.agent_conversation_summary(c) for c in page.items], next_cursor=page.next_cursor
    )


@app.get("/inbox/conversations/<conversation_id>", summary="A conversation with its context and messages")
def get_conversation(
    conversation_id: Id,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
) -> schemas.AgentConversationView:
    _agent()
    return schemas.agent_conversation_page(conversations().page_for_agent(conversation_id, after=after, limit=limit))


@app.post("/inbox/conversations/<conversation_id>/replies", summary="Reply to the customer, or add an internal note")
def reply_to_conversation(
    conversation_id: Id, request: schemas.AgentReplyRequest
) -> Response[schemas.AgentMessageView]:
    message = conversations().reply_as_agent(_agent(), conversation_id, request.body, internal=request.internal)
    return _created(schemas.agent_message_view(message))


@app.post(
    "/inbox/conversations/<conversation_id>/verification-request",
    summary="Ask the customer's app to confirm who they are",
)
def request_verification(conversation_id: Id) -> Response[schemas.AgentMessageView]:
    return _created(schemas.agent_message_view(conversations().request_verification(_agent(), conversation_id)))


@app.get("/inbox/attachments/<attachment_id>", summary="A short-lived link to download a shared attachment")
def download_attachment(attachment_id: Id) -> schemas.AttachmentDownloadView:
    _agent()
    attachment, url = attachments().download_for_agent(attachment_id)
    return schemas.attachment_download_view(attachment, url)


@app.post("/inbox/conversations/<conversation_id>/ticket", summary="Convert the conversation into a ticket")
def convert_conversation(
    conversation_id: Id, request: schemas.ConvertConversationRequest
) -> Response[schemas.AgentTicketView]:
    ticket = tickets().convert_conversation(_agent(), conversation_id, NewTicket(**request.model_dump()))
    return _created(schemas.agent_ticket_view(ticket, workspace()))


@app.post("/inbox/tickets", summary="Open a ticket")
def create_ticket(request: schemas.CreateTicketRequest) -> Response[schemas.AgentTicketView]:
    ticket = tickets().create(_agent(), NewTicket(**request.model_dump()))
    return _created(schemas.agent_ticket_view(ticket, workspace()))


@app.get("/inbox/tickets", summary="A ticket view: by assignee, by type, or by team and state category")
def list_tickets(
    team_id: TeamId = None,
    category: Annotated[StateCategory | None, Query(description="Defaults to submitted.")] = None,
    assignee_id: Annotated[str | None, Query(max_length=256, description="An agent id, 'me' or 'unassigned'.")] = None,
    ticket_type_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = schemas.DEFAULT_PAGE_SIZE,
) -> schemas.AgentTicketList:
    page = tickets().inbox(
        _agent(),
        team_id=team_id,
        category=category,
        assignee_id=assignee_id,
        ticket_type_id=ticket_type_id,
        cursor=cursor,
        limit=limit,
    )
    return schemas.AgentTicketList(
        items=[schemas.agent_ticket_view(t, workspace()) for t in page.items], next_cursor=page.next_cursor
    )


@app.get("/inbox/tickets/<ticket_id>", summary="A ticket with its whole timeline")
def get_ticket(
    ticket_id: Id,
    before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
) -> schemas.AgentTicketDetail:
    _agent()
    return schemas.agent_ticket_detail(tickets().page_for_agent(ticket_id, before=before, limit=limit), workspace())


@app.patch("/inbox/tickets/<ticket_id>", summary="Change a ticket (state, team, assignee, priority, attributes)")
def update_ticket(ticket_id: Id, request: schemas.UpdateTicketRequest) -> schemas.AgentTicketView:
    given = request.model_fields_set
    changes = TicketChanges(
        state_id=request.state_id,
        team_id=request.team_id,
        assignee_id=request.assignee_id,
        unassign="assignee_id" in given and request.assignee_id is None,
        priority=request.priority,
        attributes=request.attributes,
    )
    ticket = tickets().update(_agent(), ticket_id, changes, version=request.version)
    return schemas.agent_ticket_view(ticket, workspace())


@app.post("/inbox/tickets/<ticket_id>/replies", summary="Reply to the customer, or add an internal note")
def reply_to_ticket(ticket_id: Id, request: schemas.AgentReplyRequest) -> Response[schemas.ReplyView]:
    part = tickets().reply(_agent(), ticket_id, request.body, internal=request.internal)
    return _created(schemas.reply_view(part))


@app.get("/inbox/ticket-types", summary="The workspace's ticket types, their attributes and states")
def list_ticket_types() -> schemas.TicketTypeList:
    _agent()
    return schemas.ticket_type_list(workspace())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
