"""The inbox API: what agents and specialist teams call, behind the Cognito authorizer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from helpdesk import wiring
from helpdesk.api import (
    bodies,
    customer_views,
    email_schemas,
    inbox_macros,
    inbox_transcript,
    privacy_views,
    search_views,
    ticket_views,
    views,
)
from helpdesk.api.app import build_resolver, resolve
from helpdesk.api.identity import agent_from_event
from helpdesk.api.params import Cursor, CustomerId, Id, Limit, created
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Agent, ConversationStatus, Priority
from helpdesk.domain.policy import Resource
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.privacy import RequestKind
from helpdesk.domain.workspace import StateCategory
from helpdesk.services.tickets import NewTicket, TicketChanges
from helpdesk.surfaces import INBOX
from helpdesk.wiring import customer_data as privacy_wiring
from helpdesk.wiring import email as email_wiring
from helpdesk.wiring import search as search_wiring

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
Tag = Annotated[
    str | None, Query(max_length=40, description="Only what has this tag, newest first, across teams (alone).")
]


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
    """The signed-in agent's profile, teams (their Cognito groups) and availability."""
    return wiring.agents().me(_agent())


@app.put("/inbox/me/availability", summary="Set my availability (online agents get live conversations)")
def set_availability(request: bodies.AvailabilityRequest) -> Agent:
    """Online agents receive live conversations from routing; away agents don't."""
    return wiring.agents().set_availability(_agent(), request.availability)


@app.get("/inbox/teams", summary="The workspace's teams")
def list_teams() -> views.TeamList:
    """Every team of the workspace."""
    _agent()
    return views.TeamList(
        items=[views.TeamView(id=t.id, name=t.name, description=t.description) for t in wiring.workspace().teams]
    )


@app.get("/inbox/teams/<team_id>/agents", summary="A team's agents and whether they're online")
def list_team_agents(team_id: Id) -> views.AgentList:
    """The team's roster with each agent's availability (for picking an assignee)."""
    _agent()
    return views.AgentList(items=wiring.agents().roster(team_id))


@app.get("/inbox/conversations", summary="A conversation view: by assignee, or by team and status")
def list_conversations(
    team_id: TeamId = None,
    status: Annotated[ConversationStatus, Query()] = ConversationStatus.OPEN,
    assignee_id: Annotated[str | None, Query(max_length=256, description="An agent id, 'me' or 'unassigned'.")] = None,
    order: Order = "newest",
    cursor: Cursor = None,
    limit: Limit = bodies.DEFAULT_PAGE_SIZE,
    tag: Tag = None,
) -> views.AgentConversationList:
    """One inbox view per request: a team's conversations by status (`team_id`, `status`), an assignee's
    (`assignee_id=me|unassigned|<agent id>`), or those with a tag (`tag`). Only what the caller may read is
    listed."""
    agent = _agent()
    oldest_first = order == "oldest"
    if tag is not None:
        page = wiring.tags().conversations(agent, tag, cursor=cursor, limit=limit)
    elif assignee_id is not None:
        page = wiring.conversations().inbox_for_assignee(
            agent, assignee_id, oldest_first=oldest_first, cursor=cursor, limit=limit
        )
    else:
        team = team_id or next(iter(sorted(agent.teams)), wiring.workspace().default_team)
        page = wiring.conversations().inbox(agent, team, status, cursor=cursor, limit=limit, oldest_first=oldest_first)
    return views.AgentConversationList(
        items=[views.agent_conversation_summary(c) for c in page.items], next_cursor=page.next_cursor
    )


@app.get("/inbox/conversations/<conversation_id>", summary="A conversation with its context and messages")
def get_conversation(
    conversation_id: Id,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
) -> views.AgentConversationView:
    """Everything about the conversation for an agent of its team: messages, internal notes, the context package,
    the bot's state and the hand-off capsule; each file with short-lived links (on the first page)."""
    agent = _agent()
    page = wiring.conversations().page_for_agent(agent, conversation_id, after=after, limit=limit)
    # The first page is one Query, so the files' records fit in the second read; later pages may
    # need two reads already, and list their files without links.
    files = [a.id for m in page.messages for a in m.attachments] if after is None else []
    links = wiring.attachments().links_for_page(agent, Resource.conversation(page.conversation), files)
    return views.agent_conversation_page(page, links)


@app.get(
    "/inbox/conversations/<conversation_id>/email",
    summary="How the conversation reaches its customer by email, and whether the address is suppressed",
)
def get_conversation_email(conversation_id: Id) -> email_schemas.ConversationEmailView:
    """For agents who may read the conversation: where its replies are emailed (the address the customer wrote
    from) and, if that address bounced for good or complained, since when nothing is emailed to it."""
    conversation, address, suppression = email_wiring.email_feedback().conversation_email(_agent(), conversation_id)
    return email_schemas.ConversationEmailView.of(conversation, address, suppression)


@app.post("/inbox/conversations/<conversation_id>/replies", summary="Reply to the customer, or add an internal note")
def reply_to_conversation(conversation_id: Id, request: bodies.AgentReplyRequest) -> Response[views.AgentMessageView]:
    """A reply the customer sees, or (`internal: true`) a note only agents see; @mentions in notes are recorded.
    Replying takes the conversation over from the bot."""
    message = wiring.conversations().reply_as_agent(
        _agent(), conversation_id, request.body, internal=request.internal, file_ids=request.attachment_ids
    )
    return created(views.agent_message_view(message))


@app.post(
    "/inbox/conversations/<conversation_id>/assignment",
    summary="Hand the conversation to a team or agent (with a context capsule)",
)
def assign_conversation(
    conversation_id: Id, request: bodies.AssignConversationRequest
) -> views.AgentConversationSummary:
    """Move it to another team (a hand-off: the receiver gets a context capsule), to an agent (`assignee_id`; an
    agent of another team only by a lead or admin), or let routing pick an online agent (`auto_assign`)."""
    conversation = wiring.conversations().assign(
        _agent(),
        conversation_id,
        team_id=request.team_id,
        assignee_id=request.assignee_id,
        unassign="assignee_id" in request.model_fields_set and request.assignee_id is None,
        someone_present=wiring.agents().someone_present if request.auto_assign else None,
    )
    return views.agent_conversation_summary(conversation)


@app.post("/inbox/conversations/<conversation_id>/status", summary="Close, snooze or reopen the conversation")
def set_conversation_status(
    conversation_id: Id, request: bodies.ConversationStatusRequest
) -> views.AgentConversationSummary:
    """Close it, snooze it until a time (it wakes by itself, or when the customer writes), or reopen it."""
    conversation = wiring.conversations().set_status(
        _agent(), conversation_id, request.status, snoozed_until=request.snoozed_until
    )
    return views.agent_conversation_summary(conversation)


@app.post(
    "/inbox/conversations/<conversation_id>/verification-request",
    summary="Ask the customer's app to confirm who they are",
)
def request_verification(conversation_id: Id) -> Response[views.AgentMessageView]:
    """Asks the customer's app to vouch for them again with a fresh token (signed-in customers only)."""
    return created(views.agent_message_view(wiring.conversations().request_verification(_agent(), conversation_id)))


@app.get("/inbox/attachments/<attachment_id>", summary="A short-lived link to download a shared attachment")
def download_attachment(attachment_id: Id) -> views.AttachmentDownloadView:
    """A link valid for 5 minutes to a file on a conversation or ticket the caller may read."""
    _agent()
    attachment, links = wiring.attachments().download_for_agent(_agent(), attachment_id)
    return views.attachment_download_view(attachment, links)


@app.post("/inbox/conversations/<conversation_id>/ticket", summary="Convert the conversation into a ticket")
def convert_conversation(
    conversation_id: Id, request: bodies.ConvertConversationRequest
) -> Response[ticket_views.AgentTicketView]:
    """Opens a ticket for the customer from their conversation, pre-filled from its context, for any team; the
    customer is told its number in the conversation."""
    ticket = wiring.tickets().convert_conversation(_agent(), conversation_id, NewTicket(**request.model_dump()))
    return created(ticket_views.agent_ticket_view(ticket, wiring.workspace()))


@app.get(
    "/inbox/conversations/<conversation_id>/ticket-draft",
    summary="A ticket drafted from the conversation: a title and attributes pre-filled, for the agent to confirm",
)
def draft_ticket(
    conversation_id: Id,
    ticket_type_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> customer_views.TicketDraftView:
    """The title (the email's subject, the bot path's ticket title, or the customer's first message) and the
    attributes found in what the bot collected, the context and the customer's words (e.g. an order number they
    mentioned), each with where it came from. Nothing is stored: convert with what you keep."""
    return customer_views.ticket_draft_view(
        wiring.ticket_drafts().for_conversation(_agent(), conversation_id, ticket_type_id)
    )


@app.post("/inbox/tickets", summary="Open a ticket")
def create_ticket(request: bodies.CreateTicketRequest) -> Response[ticket_views.AgentTicketView]:
    """A customer ticket, a back-office ticket serving a ticket or conversation the caller works on, or a tracker
    for an incident affecting many customers."""
    ticket = wiring.tickets().create(_agent(), NewTicket(**request.model_dump()))
    return created(ticket_views.agent_ticket_view(ticket, wiring.workspace()))


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
    limit: Limit = bodies.DEFAULT_PAGE_SIZE,
    tag: Tag = None,
) -> ticket_views.AgentTicketList:
    """One inbox view per request: by team and state category (the default), by a state of a type, by priority,
    by type, by assignee, by tag, or a team's tickets soonest SLA deadline first. Only what the caller may read
    is listed."""
    if tag is not None:
        tagged = wiring.tags().tickets(_agent(), tag, cursor=cursor, limit=limit)
        return ticket_views.AgentTicketList(
            items=[ticket_views.agent_ticket_view(t, wiring.workspace()) for t in tagged.items],
            next_cursor=tagged.next_cursor,
        )
    page = wiring.tickets().inbox(
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
    return ticket_views.AgentTicketList(
        items=[ticket_views.agent_ticket_view(t, wiring.workspace()) for t in page.items], next_cursor=page.next_cursor
    )


@app.get("/inbox/tickets/<ticket_id>", summary="A ticket with its whole timeline")
def get_ticket(
    ticket_id: Id,
    before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
) -> ticket_views.AgentTicketDetail:
    """The ticket with its whole timeline, internal notes included, each file with short-lived links (on the
    latest page); `before` pages back."""
    agent = _agent()
    page = wiring.tickets().page_for_agent(agent, ticket_id, before=before, limit=limit)
    # The latest page is one Query, so the files' records fit in the second read; older pages take
    # two reads already, and list their files without links.
    files = [a.id for p in page.timeline for a in p.attachments] if before is None else []
    links = wiring.attachments().links_for_page(agent, Resource.ticket(page.ticket), files)
    return ticket_views.agent_ticket_detail(page, wiring.workspace(), links)


@app.patch(
    "/inbox/tickets/<ticket_id>", summary="Change a ticket (title, state, team, assignee, priority, attributes, tags)"
)
def update_ticket(
    ticket_id: Id,
    request: bodies.UpdateTicketRequest,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The version, instead of the body's.")] = None,
) -> ticket_views.AgentTicketView:
    """Change any of title, state, team, assignee, priority, attributes and tags, based on the version you
    read (`version` in the body or `If-Match`); a stale version is a 409 with `current_version`."""
    version = _based_on_version(request.version, if_match)
    given = request.model_fields_set
    changes = TicketChanges(
        state_id=request.state_id,
        team_id=request.team_id,
        assignee_id=request.assignee_id,
        unassign="assignee_id" in given and request.assignee_id is None,
        priority=request.priority,
        attributes=request.attributes,
        title=request.title,
        add_tags=request.add_tags,
        remove_tags=request.remove_tags,
    )
    ticket = wiring.tickets().update(_agent(), ticket_id, changes, version=version)
    return ticket_views.agent_ticket_view(ticket, wiring.workspace())


@app.post("/inbox/tickets/<ticket_id>/replies", summary="Reply to the customer, or add an internal note")
def reply_to_ticket(ticket_id: Id, request: bodies.TicketReplyRequest) -> Response[ticket_views.ReplyView]:
    """A reply the customer sees, or an internal note, with files uploaded through `POST /inbox/attachments`. On
    a tracker, a reply reaches every linked ticket's customer."""
    part = wiring.tickets().reply(
        _agent(), ticket_id, request.body, internal=request.internal, attachment_ids=request.attachment_ids
    )
    return created(ticket_views.reply_view(part))


@app.post("/inbox/attachments", summary="Start uploading a file to attach to a reply or note")
def create_attachment(request: bodies.AgentAttachmentRequest) -> Response[views.AttachmentUploadView]:
    """A presigned S3 form for a file to attach to a reply (shared with the customer) or a note (internal) on a
    ticket or conversation the caller works on (name exactly one)."""
    agent = _agent()
    if (request.ticket_id is None) == (request.conversation_id is None):
        raise InvalidInput(
            "name the ticket or the conversation the file is for",
            [("ticket_id", "give exactly one of ticket_id and conversation_id")],
        )
    if request.ticket_id is not None:
        ticket = wiring.tickets().page_for_agent(agent, request.ticket_id, before=None, limit=1).ticket
        attachment, upload = wiring.attachments().start_agent_upload(
            agent, ticket, request.filename, request.content_type, request.size, internal=request.internal
        )
    else:
        conversation_id = str(request.conversation_id)
        conversation = wiring.conversations().page_for_agent(agent, conversation_id, after=None, limit=1).conversation
        attachment, upload = wiring.attachments().start_conversation_upload(
            agent, conversation, request.filename, request.content_type, request.size, internal=request.internal
        )
    return created(views.attachment_upload_view(attachment, upload))


@app.post(
    "/inbox/tickets/<ticket_id>/approval",
    summary="Approve or reject what the ticket's workflow is waiting for (e.g. a refund above the limit)",
)
def decide_approval(ticket_id: Id, request: bodies.DecisionRequest) -> ticket_views.AgentTicketView:
    """Leads of the ticket's team and admins approve or reject what its workflow waits for; the workflow then
    applies the follow-up."""
    ticket = wiring.workflows().decide(_agent(), ticket_id, approve=request.decision == "approve", note=request.note)
    return ticket_views.agent_ticket_view(ticket, wiring.workspace())


@app.post("/inbox/tickets/<ticket_id>/links", summary="Link customer tickets to a tracker ticket")
def link_tickets(ticket_id: Id, request: bodies.LinkTicketsRequest) -> views.LinkedView:
    """Up to 50 customer tickets follow the tracker's state changes and replies; the caller must be allowed to
    work on the tracker and on every ticket linked."""
    return views.LinkedView(linked=wiring.trackers().link(_agent(), ticket_id, request.ticket_ids))


@app.get("/inbox/search", summary="Find customers, tickets and conversations")
def search(
    q: Annotated[
        str | None,
        Query(
            description="At least 2 and at most 100 characters: the start of an email, name, phone number, "
            "customer id, ticket number, title word or attribute value (an order id), or words from messages."
        ),
    ] = None,
) -> search_views.SearchResultsView:
    """Customers by email, name, phone or external id; tickets by number, title words or attribute values;
    conversations by their customer or by words in their messages. Only what the caller may read is listed."""
    results = search_wiring.search().search(_agent(), q)
    return search_views.search_results_view(results, wiring.workspace())


# --- data protection: one customer's export and erasure (admins only) ---------------------------


def _accepted(body: privacy_views.DataRequestView) -> Response[privacy_views.DataRequestView]:
    return Response(status_code=202, content_type="application/json", body=body)


@app.post("/inbox/customers/<customer_id>/export", summary="Export everything held about a customer (admins)")
def export_customer(customer_id: privacy_views.CustomerId) -> Response[privacy_views.DataRequestView]:
    """Starts building a zip of the customer's profile, conversations, tickets, files, ratings and events;
    poll `GET /inbox/customers/{id}/exports/{export_id}` for its short-lived link."""
    request = privacy_wiring.customer_data().request_export(_agent(), customer_id)
    return _accepted(privacy_views.data_request_view(request))


@app.get("/inbox/customers/<customer_id>/exports/<export_id>", summary="An export's state and download link")
def get_export(customer_id: privacy_views.CustomerId, export_id: Id) -> privacy_views.DataRequestView:
    """`running`, then `done` with a download link valid a few minutes (ask again for a new one)."""
    request, link = privacy_wiring.customer_data().request_status(_agent(), customer_id, export_id, RequestKind.EXPORT)
    return privacy_views.data_request_view(request, link)


@app.post("/inbox/customers/<customer_id>/erasure", summary="Erase a customer everywhere (admins)")
def erase_customer(customer_id: privacy_views.CustomerId) -> Response[privacy_views.DataRequestView]:
    """Starts the erasure workflow: the customer's items, files and lake events go; an audit entry without
    their data stays; `CustomerErased` is announced. Poll `GET /inbox/customers/{id}/erasures/{erasure_id}`."""
    request = privacy_wiring.customer_data().request_erasure(_agent(), customer_id)
    return _accepted(privacy_views.data_request_view(request))


@app.get("/inbox/customers/<customer_id>/erasures/<erasure_id>", summary="An erasure's state (its audit entry)")
def get_erasure(customer_id: privacy_views.CustomerId, erasure_id: Id) -> privacy_views.DataRequestView:
    """`running`, then `done` with what was deleted and anonymized."""
    request, _ = privacy_wiring.customer_data().request_status(_agent(), customer_id, erasure_id, RequestKind.ERASURE)
    return privacy_views.data_request_view(request)


@app.get("/inbox/ticket-types", summary="The workspace's ticket types, their attributes and states")
def list_ticket_types() -> ticket_views.TicketTypeList:
    """The workspace's ticket types with their attributes, states and customer-facing labels."""
    _agent()
    return ticket_views.ticket_type_list(wiring.workspace())


@app.get("/inbox/customers/<customer_id>", summary="A customer's profile: identity, history, CSAT, profile actions")
def get_customer_profile(customer_id: CustomerId) -> customer_views.CustomerProfileView:
    """Name, email, phone, identity status (now) and verified attributes; the conversations and tickets you may
    read (newest first) with the satisfaction ratings given on them; the profile actions you may run. For agents
    of a team the customer has work in (every agent under `agent_visibility: all`)."""
    return customer_views.customer_profile_view(wiring.customer_profiles().profile(_agent(), customer_id))


@app.post(
    "/inbox/customers/<customer_id>/actions/<action_id>",
    summary="Run one of the customer's profile actions (e.g. their recent orders), as the customer",
)
def run_profile_action(
    customer_id: CustomerId, action_id: Id, request: customer_views.ProfileActionRequest
) -> customer_views.ProfileActionResultView:
    """Runs a custom action marked `profile: true` with the customer's verified identity only (their signed-in
    id, never one typed); for agents of a team the customer has work in. A record that isn't the customer's is
    `not_on_account`, with nothing of it returned."""
    result = wiring.customer_profiles().run_action(_agent(), customer_id, action_id, request.inputs)
    return customer_views.profile_action_result_view(result)


app.include_router(inbox_macros.router)
app.include_router(inbox_transcript.router)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function's handler: ``helpdesk.handlers.inbox_api`` loads this module on the first request."""
    return resolve(app, event, context)
