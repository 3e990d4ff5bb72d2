"""Response bodies, and the views that shape domain objects for each audience.

The messenger views show the customer only what is theirs to see: customer-facing state labels,
attributes visible to customers, timeline parts meant for them, never internal notes. The inbox
views show agents everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from helpdesk.domain.files import UPLOAD_EXPIRY_SECONDS, FileLinks, PresignedUpload
from helpdesk.domain.models import (
    Agent,
    ApprovalStatus,
    Attachment,
    AttachmentRef,
    Author,
    BotOutcome,
    BotState,
    Capsule,
    Channel,
    ContextPackage,
    Conversation,
    ConversationPage,
    ConversationStatus,
    Message,
    MessageKind,
    MessageOption,
    PartType,
    Priority,
    Rating,
    ResolvedBy,
    Ticket,
    TicketCategory,
    TicketPage,
    TicketPart,
)
from helpdesk.domain.workspace import AttributeDefinition, StateCategory, Workspace


class LinkedView(BaseModel):
    linked: int


class MessageView(BaseModel):
    id: str
    author: Author
    body: str
    kind: MessageKind
    attachments: list[AttachmentRef]
    options: list[MessageOption] = Field(
        default=[], description="Quick replies offered by the bot: answer with one's id as option_id."
    )
    channel: Channel | None = Field(
        default=None, description="email: written by email, or an agent's reply that also goes out by email."
    )
    created_at: datetime


class AgentAttachmentView(AttachmentRef):
    """A file as an agent sees it on a page: with short-lived links when the page could sign them."""

    url: str | None = Field(
        default=None,
        description="Shows the file in the page (a checked image, video or PDF) or else saves it; short-lived. "
        "When absent, ask GET /inbox/attachments/{id}.",
    )
    download_url: str | None = Field(default=None, description="Saves the file under its name; short-lived.")
    expires_in: int | None = Field(default=None, description="Seconds the links stay valid.")


class AgentMessageView(MessageView):
    attachments: list[AgentAttachmentView]  # type: ignore[assignment]
    internal: bool
    mentions: list[str]


class ConversationView(BaseModel):
    id: str
    status: ConversationStatus
    ticket_id: str | None
    preview: str | None = Field(default=None, description="The latest message the customer can see, shortened.")
    identity_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    messages: list[MessageView]
    next_cursor: str | None = Field(description="Pass as ?after= to fetch only newer messages.")


class CustomerView(BaseModel):
    id: str
    name: str | None
    email: str | None
    is_visitor: bool
    verified_attributes: dict[str, str] = Field(description="Signed by the business in the customer's token.")
    identity_verified_at: datetime | None = Field(description="When the customer's app last vouched for them.")


class BotView(BaseModel):
    """What the bot did: where it is, what it collected, how it ended."""

    path_id: str | None
    step_id: str | None
    outcome: BotOutcome | None
    resolved_by: ResolvedBy | None
    collected: dict[str, Any]


class AgentConversationSummary(BaseModel):
    id: str
    status: ConversationStatus
    customer: CustomerView
    team_id: str
    assignee_id: str | None
    ticket_id: str | None
    context: ContextPackage | None
    preview: str | None
    snoozed_until: datetime | None
    capsule: Capsule | None = Field(description="The latest hand-off summary, for whoever received it.")
    bot: BotView | None = Field(default=None, description="What the bot did before (or instead of) an agent.")
    channel: Channel = Field(default=Channel.MESSENGER, description="email: it started by email; replies go by email.")
    email_subject: str | None = Field(default=None, description="The subject of the email that started it.")
    created_at: datetime
    updated_at: datetime


class AgentConversationView(AgentConversationSummary):
    messages: list[AgentMessageView]
    next_cursor: str | None


class ConversationList(BaseModel):
    items: list[ConversationView]
    next_cursor: str | None


class AgentConversationList(BaseModel):
    items: list[AgentConversationSummary]
    next_cursor: str | None


class StateView(BaseModel):
    id: str
    category: StateCategory
    label: str


class TicketView(BaseModel):
    id: str
    number: int
    ticket_type_id: str
    title: str
    state: StateView
    attributes: dict[str, Any]
    team_id: str
    assignee_id: str | None
    priority: Priority
    conversation_id: str | None
    rating: Rating | None
    created_at: datetime
    updated_at: datetime
    version: int


class AgentTicketView(TicketView):
    sla_due_at: datetime | None = Field(description="When the SLA says it must be resolved.")
    category: TicketCategory
    linked_ticket_id: str | None
    tracker_id: str | None
    customer_id: str | None
    context: ContextPackage | None
    verified_attributes: dict[str, str]
    capsule: Capsule | None = Field(description="The latest hand-off summary, for whoever received it.")
    created_by: Author
    sla: dict[str, Any] | None = Field(
        default=None, description="The SLA clocks: per clock its target, due time, and when met, warned or breached."
    )
    waiting_since: datetime | None = None
    approval: ApprovalView | None = Field(default=None, description="A decision the ticket's workflow waits for.")


class ApprovalView(BaseModel):
    status: ApprovalStatus
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


class AgentList(BaseModel):
    items: list[Agent]
    next_cursor: str | None = None


class TeamView(BaseModel):
    id: str
    name: str
    description: str


class TeamList(BaseModel):
    items: list[TeamView]
    next_cursor: str | None = None


class PartView(BaseModel):
    id: str
    type: PartType
    author: Author
    body: str | None
    changes: dict[str, Any] | None
    attachments: list[AttachmentRef]
    created_at: datetime


class AgentPartView(PartView):
    attachments: list[AgentAttachmentView]  # type: ignore[assignment]
    visible_to_customer: bool


class TicketDetail(TicketView):
    timeline: list[PartView]
    next_cursor: str | None = Field(description="Pass as ?before= to fetch older timeline entries.")


class AgentTicketDetail(AgentTicketView):
    timeline: list[AgentPartView]
    next_cursor: str | None


class TicketList(BaseModel):
    items: list[TicketView]
    next_cursor: str | None


class AgentTicketList(BaseModel):
    items: list[AgentTicketView]
    next_cursor: str | None


class StateDefinitionView(BaseModel):
    id: str
    category: StateCategory
    label: str
    customer_label: str


class TicketTypeView(BaseModel):
    id: str
    name: str
    description: str
    default_team: str
    attributes: list[AttributeDefinition]
    states: list[StateDefinitionView]


class TicketTypeList(BaseModel):
    items: list[TicketTypeView]
    next_cursor: str | None = None


class ReplyView(BaseModel):
    id: str
    type: PartType
    author: Author
    body: str | None
    attachments: list[AttachmentRef]
    visible_to_customer: bool
    created_at: datetime


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="Send these form fields, then the file as the last field 'file'.")


class AttachmentUploadView(BaseModel):
    attachment_id: str
    upload: PresignedPost
    max_size: int
    expires_in: int


class AttachmentDownloadView(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    url: str = Field(description="A short-lived link: shows a checked image, video or PDF in the page, else saves it.")
    download_url: str = Field(description="A short-lived link that saves the file under its name.")
    expires_in: int


class VisitorView(BaseModel):
    visitor_id: str
    visitor_token: str = Field(description="Send as 'Authorization: Bearer' while the visitor is anonymous.")
    expires_in: int


class MergeView(BaseModel):
    merged: int = Field(description="Conversations and tickets moved from the visitor to the customer.")


# --- views ----------------------------------------------------------------------------------------


def message_view(message: Message) -> MessageView:
    return MessageView(
        id=message.id,
        author=message.author,
        body=message.body,
        kind=message.kind,
        attachments=message.attachments,
        options=message.options,
        channel=message.channel,
        created_at=message.created_at,
    )


Links = dict[str, FileLinks]
"""Short-lived links to the files on a page, by attachment id (see ``AttachmentService.links_for_page``)."""


def agent_attachment_views(refs: list[AttachmentRef], links: Links | None = None) -> list[AgentAttachmentView]:
    views = []
    for ref in refs:
        link = (links or {}).get(ref.id)
        views.append(
            AgentAttachmentView(
                **ref.model_dump(),
                url=link.view if link else None,
                download_url=link.download if link else None,
                expires_in=link.expires_in if link else None,
            )
        )
    return views


def agent_message_view(message: Message, links: Links | None = None) -> AgentMessageView:
    shared = message_view(message).model_dump(exclude={"attachments"})
    return AgentMessageView(
        **shared,
        attachments=agent_attachment_views(message.attachments, links),
        internal=message.internal,
        mentions=message.mentions,
    )


def conversation_view(conversation: Conversation, messages: list[Message], cursor: str | None) -> ConversationView:
    return ConversationView(
        id=conversation.id,
        status=conversation.status,
        ticket_id=conversation.ticket_id,
        preview=conversation.preview,
        identity_verified_at=conversation.identity_verified_at,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        messages=[message_view(m) for m in messages if not m.internal],
        next_cursor=cursor,
    )


def customer_conversation_page(page: ConversationPage) -> ConversationView:
    return conversation_view(page.conversation, page.messages, page.next_cursor)


def agent_conversation_summary(conversation: Conversation) -> AgentConversationSummary:
    return AgentConversationSummary(
        id=conversation.id,
        status=conversation.status,
        customer=CustomerView(
            id=conversation.customer_id,
            name=conversation.customer_name,
            email=conversation.customer_email,
            is_visitor=conversation.customer_is_visitor,
            verified_attributes=conversation.verified_attributes,
            identity_verified_at=conversation.identity_verified_at,
        ),
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
        ticket_id=conversation.ticket_id,
        context=conversation.context,
        preview=conversation.preview,
        snoozed_until=conversation.snoozed_until,
        capsule=conversation.capsule,
        bot=bot_view(conversation.bot) if conversation.bot else None,
        channel=conversation.channel,
        email_subject=conversation.email_subject,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


def bot_view(state: BotState) -> BotView:
    return BotView(
        path_id=state.path_id,
        step_id=state.step_id,
        outcome=state.outcome,
        resolved_by=state.resolved_by,
        collected={k: v for k, v in state.vars.items() if not k.startswith("_") and k != "text"},
    )


def agent_conversation_page(page: ConversationPage, links: Links | None = None) -> AgentConversationView:
    return AgentConversationView(
        **agent_conversation_summary(page.conversation).model_dump(),
        messages=[agent_message_view(m, links) for m in page.messages],
        next_cursor=page.next_cursor,
    )


def _state(ticket: Ticket, workspace: Workspace, *, for_customer: bool) -> StateView:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    state = ticket_type.state(ticket.state_id) if ticket_type else None
    if state is None:  # the configuration dropped the state: show the category, never crash
        return StateView(id=ticket.state_id, category=ticket.state_category, label=ticket.state_category.value)
    return StateView(id=state.id, category=state.category, label=state.customer_label if for_customer else state.label)


def _copy_fields[V: BaseModel](source: BaseModel, view: type[V], **overrides: Any) -> V:
    """Build ``view`` from the same-named fields of ``source``, with ``overrides`` for the rest."""
    shared = {name: getattr(source, name) for name in view.model_fields if name not in overrides}
    return view(**shared, **overrides)


def customer_ticket_view(ticket: Ticket, workspace: Workspace) -> TicketView:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    return _copy_fields(
        ticket,
        TicketView,
        state=_state(ticket, workspace, for_customer=True),
        attributes=ticket_type.customer_visible(ticket.attributes) if ticket_type else {},
    )


def agent_ticket_view(ticket: Ticket, workspace: Workspace) -> AgentTicketView:
    approval = ticket.approval
    return _copy_fields(
        ticket,
        AgentTicketView,
        state=_state(ticket, workspace, for_customer=False),
        approval=_copy_fields(approval, ApprovalView) if approval else None,
    )


def _part_view(part: TicketPart) -> PartView:
    return PartView(
        id=part.id,
        type=part.type,
        author=part.author,
        body=part.body,
        changes=part.changes,
        attachments=part.attachments,
        created_at=part.created_at,
    )


def customer_ticket_detail(page: TicketPage, workspace: Workspace) -> TicketDetail:
    return TicketDetail(
        **customer_ticket_view(page.ticket, workspace).model_dump(),
        timeline=[_part_view(p) for p in page.timeline if p.visible_to_customer],
        next_cursor=page.next_cursor,
    )


def agent_ticket_detail(page: TicketPage, workspace: Workspace, links: Links | None = None) -> AgentTicketDetail:
    return AgentTicketDetail(
        **agent_ticket_view(page.ticket, workspace).model_dump(),
        timeline=[
            AgentPartView(
                **_part_view(p).model_dump(exclude={"attachments"}),
                attachments=agent_attachment_views(p.attachments, links),
                visible_to_customer=p.visible_to_customer,
            )
            for p in page.timeline
        ],
        next_cursor=page.next_cursor,
    )


def reply_view(part: TicketPart) -> ReplyView:
    return ReplyView(
        id=part.id,
        type=part.type,
        author=part.author,
        body=part.body,
        attachments=part.attachments,
        visible_to_customer=part.visible_to_customer,
        created_at=part.created_at,
    )


def ticket_type_list(workspace: Workspace) -> TicketTypeList:
    return TicketTypeList(
        items=[
            TicketTypeView(
                id=t.id,
                name=t.name,
                description=t.description,
                default_team=t.default_team,
                attributes=list(t.attributes),
                states=[
                    StateDefinitionView(id=s.id, category=s.category, label=s.label, customer_label=s.customer_label)
                    for s in t.states
                ],
            )
            for t in workspace.ticket_types
        ]
    )


def attachment_upload_view(attachment: Attachment, upload: PresignedUpload) -> AttachmentUploadView:
    return AttachmentUploadView(
        attachment_id=attachment.id,
        upload=PresignedPost(url=upload.url, fields=upload.fields),
        max_size=attachment.size,
        expires_in=UPLOAD_EXPIRY_SECONDS,
    )


def attachment_download_view(attachment: Attachment, links: FileLinks) -> AttachmentDownloadView:
    return AttachmentDownloadView(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        url=links.view,
        download_url=links.download,
        expires_in=links.expires_in,
    )
