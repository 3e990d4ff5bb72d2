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
    ResolvedBy,
)


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
    thumbnail_url: str | None = Field(
        default=None,
        description="A small JPEG of an image, short-lived; it may not be made yet (then show the original).",
    )
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
    tags: list[str] = Field(default=[], description="Agents' tags (internal).")
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
    thumbnail_url: str | None = Field(
        None, description="A short-lived link to a small JPEG of an image, once it has been made (else null)."
    )
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
                thumbnail_url=link.thumbnail if link else None,
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
        tags=conversation.tags,
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
        thumbnail_url=links.thumbnail,
        expires_in=links.expires_in,
    )
