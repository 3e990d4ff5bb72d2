"""The inbox API: what agents and specialist teams call, behind the Cognito authorizer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api import email_schemas, schemas
from helpdesk.api.app import (
    agents,
    attachments,
    build_resolver,
    conversations,
    resolve,
    tickets,
    trackers,
    workflows,
    workspace,
)
from helpdesk.api.identity import agent_from_event
from helpdesk.api.params import Cursor, Id, Limit, created
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Agent, ConversationStatus, Priority
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import StateCategory
from helpdesk.email_wiring import email_feedback
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

Order = Annotated[Literal["newest", "oldest"], Query(description="Newest or oldest first.")]
TicketOrder = Annotated[
    Literal["newest", "oldest", "sla_due"],
    Query(description="Newest or oldest first, or (a team's unresolved tickets) soonest SLA deadline first."),
]
TeamId = Annotated[str | None, Query(max_length=64, description="Defaults to your first team.")]


def _agent() -> AgentPrincipal:
    return agent_from_event(app.current_event.raw_event)


def _based_on_version(body_version: int | None, if_match: str | None) -> int:
    header = (if_match or "").strip().strip('"').removeprefix("W/").strip('"')
    if header and not header.isdigit():
        raise InvalidInput("If-Match must be the ticket's version number", [("If-Match", "must be an integer")])
    if header and body_version is not None and int(header) != body_version:
        raise InvalidInput("If-Match and version disagree", [("version", "must match If-Match")])
    version = body_version if body_version is not None else (int(header) if header else None)
    if version is None or version < 1:
        raise InvalidInput(
            "say which version your change is based on",
            [("version", "is required (in the body, or as the If-Match header)")],
        )
    return version


@app.get("/inbox/me", summary="Who I am, my teams and my availability")
def get_me() -> Agent:
    return agents().me(_agent())


@app.put("/inbox/me/availability", summary="Set my availability (online agents get live conversations)")
def set_availability(request: schemas.AvailabilityRequest) -> Agent:
    return agents().set_availability(_agent(), request.availability)


@app.get("/inbox/teams", summary="The workspace's teams")
def list_teams() -> schemas.TeamList:
    _agent()
    return schemas.TeamList(
        items=[schemas.TeamView(id=t.id, name=t.name, description=t.description) for t in workspace().teams]
    )


@app.get("/inbox/teams/<team_id>/agents", summary="A team's agents and whether they're online")
def list_team_agents(team_id: Id) -> schemas.AgentList:
    _agent()
    return schemas.AgentList(items=agents().roster(team_id))


@app.get("/inbox/conversations", summary="A conversation view: by assignee, or by team and status")
def list_conversations(
    team_id: TeamId = None,
    status: Annotated[ConversationStatus, Query()] = ConversationStatus.OPEN,
    assignee_id: Annotated[str | None, Query(max_length=256, description="An agent id, 'me' or 'unassigned'.")] = None,
    order: Order = "newest",
    cursor: Cursor = None,
    limit: Limit = schemas.DEFAULT_PAGE_SIZE,
) -> schemas.AgentConversationList:
    agent = _agent()
    oldest_first = order == "oldest"
    if assignee_id is not None:
        page = conversations().inbox_for_assignee(
            agent, assignee_id, oldest_first=oldest_first, cursor=cursor, limit=limit
        )
    else:
        team = team_id or next(iter(sorted(agent.teams)), workspace().default_team)
        page = conversations().inbox(team, status, cursor=cursor, limit=limit, oldest_first=oldest_first)
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


@app.get(
    "/inbox/conversations/<conversation_id>/email",
    summary="How the conversation reaches its customer by email, and whether the address is suppressed",
)
def get_conversation_email(conversation_id: Id) -> email_schemas.ConversationEmailView:
    _agent()
    conversation, address, suppression = email_feedback().conversation_email(conversation_id)
    return email_schemas.ConversationEmailView.of(conversation, address, suppression)


@app.post("/inbox/conversations/<conversation_id>/replies", summary="Reply to the customer, or add an internal note")
def reply_to_conversation(
    conversation_id: Id, request: schemas.AgentReplyRequest
) -> Response[schemas.AgentMessageView]:
    message = conversations().reply_as_agent(_agent(), conversation_id, request.body, internal=request.internal)
    return created(schemas.agent_message_view(message))


@app.post(
    "/inbox/conversations/<conversation_id>/assignment",
    summary="Hand the conversation to a team or agent (with a context capsule)",
)
def assign_conversation(
    conversation_id: Id, request: schemas.AssignConversationRequest
) -> schemas.AgentConversationSummary:
    conversation = conversations().assign(
        _agent(),
        conversation_id,
        team_id=request.team_id,
        assignee_id=request.assignee_id,
        unassign="assignee_id" in request.model_fields_set and request.assignee_id is None,
        someone_present=agents().someone_present if request.auto_assign else None,
    )
    return schemas.agent_conversation_summary(conversation)


@app.post("/inbox/conversations/<conversation_id>/status", summary="Close, snooze or reopen the conversation")
def set_conversation_status(
    conversation_id: Id, request: schemas.ConversationStatusRequest
) -> schemas.AgentConversationSummary:
    conversation = conversations().set_status(
        _agent(), conversation_id, request.status, snoozed_until=request.snoozed_until
    )
    return schemas.agent_conversation_summary(conversation)


@app.post(
    "/inbox/conversations/<conversation_id>/verification-request",
    summary="Ask the customer's app to confirm who they are",
)
def request_verification(conversation_id: Id) -> Response[schemas.AgentMessageView]:
    return created(schemas.agent_message_view(conversations().request_verification(_agent(), conversation_id)))


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
    return created(schemas.agent_ticket_view(ticket, workspace()))


@app.post("/inbox/tickets", summary="Open a ticket")
def create_ticket(request: schemas.CreateTicketRequest) -> Response[schemas.AgentTicketView]:
    ticket = tickets().create(_agent(), NewTicket(**request.model_dump()))
    return created(schemas.agent_ticket_view(ticket, workspace()))


@app.get(
    "/inbox/tickets",
    summary="A ticket view: by assignee, by a state, by priority, by type, or by team and state category",
)
def list_tickets(
    team_id: TeamId = None,
    category: Annotated[StateCategory | None, Query(description="Defaults to submitted.")] = None,
    state_id: Annotated[str | None, Query(max_length=64, description="With ticket_type_id.")] = None,
    priority: Annotated[Priority | None, Query()] = None,
    assignee_id: Annotated[str | None, Query(max_length=256, description="An agent id, 'me' or 'unassigned'.")] = None,
    ticket_type_id: Annotated[str | None, Query(max_length=64)] = None,
    order: TicketOrder = "newest",
    cursor: Cursor = None,
    limit: Limit = schemas.DEFAULT_PAGE_SIZE,
) -> schemas.AgentTicketList:
    page = tickets().inbox(
        _agent(),
        team_id=team_id,
        category=category,
        state_id=state_id,
        priority=priority,
        assignee_id=assignee_id,
        ticket_type_id=ticket_type_id,
        oldest_first=order == "oldest",
        sla_due=order == "sla_due",
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
def update_ticket(
    ticket_id: Id,
    request: schemas.UpdateTicketRequest,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The version, instead of the body's.")] = None,
) -> schemas.AgentTicketView:
    version = _based_on_version(request.version, if_match)
    given = request.model_fields_set
    changes = TicketChanges(
        state_id=request.state_id,
        team_id=request.team_id,
        assignee_id=request.assignee_id,
        unassign="assignee_id" in given and request.assignee_id is None,
        priority=request.priority,
        attributes=request.attributes,
    )
    ticket = tickets().update(_agent(), ticket_id, changes, version=version)
    return schemas.agent_ticket_view(ticket, workspace())


@app.post("/inbox/tickets/<ticket_id>/replies", summary="Reply to the customer, or add an internal note")
def reply_to_ticket(ticket_id: Id, request: schemas.TicketReplyRequest) -> Response[schemas.ReplyView]:
    files = attachments()
    part = tickets().reply(
        _agent(),
        ticket_id,
        request.body,
        internal=request.internal,
        attachments=(lambda ticket: files.refs_for_ticket(ticket, request.attachment_ids, internal=request.internal))
        if request.attachment_ids
        else None,
    )
    return created(schemas.reply_view(part))


@app.post("/inbox/attachments", summary="Start uploading a file to attach to a ticket reply or note")
def create_attachment(request: schemas.AgentAttachmentRequest) -> Response[schemas.AttachmentUploadView]:
    agent = _agent()
    ticket = tickets().page_for_agent(request.ticket_id, before=None, limit=1).ticket
    attachment, upload = attachments().start_agent_upload(
        agent, ticket, request.filename, request.content_type, request.size, internal=request.internal
    )
    return created(schemas.attachment_upload_view(attachment, upload))


@app.post(
    "/inbox/tickets/<ticket_id>/approval",
    summary="Approve or reject what the ticket's workflow is waiting for (e.g. a refund above the limit)",
)
def decide_approval(ticket_id: Id, request: schemas.DecisionRequest) -> schemas.AgentTicketView:
    ticket = workflows().decide(_agent(), ticket_id, approve=request.decision == "approve", note=request.note)
    return schemas.agent_ticket_view(ticket, workspace())


@app.post("/inbox/tickets/<ticket_id>/links", summary="Link customer tickets to a tracker ticket")
def link_tickets(ticket_id: Id, request: schemas.LinkTicketsRequest) -> schemas.LinkedView:
    return schemas.LinkedView(linked=trackers().link(_agent(), ticket_id, request.ticket_ids))


@app.get("/inbox/ticket-types", summary="The workspace's ticket types, their attributes and states")
def list_ticket_types() -> schemas.TicketTypeList:
    _agent()
    return schemas.ticket_type_list(workspace())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
