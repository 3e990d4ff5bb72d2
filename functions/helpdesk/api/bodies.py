"""The request bodies of the two APIs, validated by powertools before a route runs.

Every request model forbids unknown fields and bounds every string and list, so a bad request is a
422 naming the field, before anything is read or stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from helpdesk.domain.models import (
    MAX_MESSAGE_LENGTH,
    Availability,
    ContextPackage,
    ConversationStatus,
    Priority,
    TicketCategory,
)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------------


AttachmentIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]],
    Field(max_length=10, description="Attachments uploaded with POST /messenger/attachments."),
]


class StartConversationRequest(_Request):
    body: str = Field(default="", max_length=MAX_MESSAGE_LENGTH, description="The customer's first message.")
    context: ContextPackage | None = Field(default=None, description="Where the customer was, and on what.")
    attachment_ids: AttachmentIds = []
    option_id: str | None = Field(
        default=None,
        max_length=64,
        description="Start with one of the home's menu options (`GET /messenger/home`, `menu[].id`); send its "
        "label as the body.",
    )


class CustomerReplyRequest(_Request):
    body: str = Field(default="", max_length=MAX_MESSAGE_LENGTH, description="Text; may be empty with attachments.")
    attachment_ids: AttachmentIds = []


class SendMessageRequest(CustomerReplyRequest):
    option_id: str | None = Field(
        default=None,
        max_length=64,
        description="Pick one of the quick replies the bot's last message offered (``options[].id``); "
        "the body may then be empty.",
    )


class CreateAttachmentRequest(_Request):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100, examples=["image/jpeg"])
    size: int = Field(ge=1, le=5 * 1024 * 1024 * 1024, description="Bytes; the upload must not exceed it.")


class RatingRequest(_Request):
    score: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy).")
    comment: str | None = Field(default=None, max_length=1000)


class IdentifyRequest(_Request):
    visitor_token: str = Field(min_length=10, max_length=4096, description="The token the visitor chatted with.")


class AgentReplyRequest(_Request):
    body: str = Field(default="", max_length=MAX_MESSAGE_LENGTH, description="Text; may be empty with attachments.")
    internal: bool = Field(default=False, description="An internal note, never shown to the customer.")
    attachment_ids: AttachmentIds = []


class TicketReplyRequest(_Request):
    body: str = Field(default="", max_length=MAX_MESSAGE_LENGTH, description="Text; may be empty with attachments.")
    internal: bool = Field(default=False, description="An internal note, never shown to the customer.")
    attachment_ids: AttachmentIds = []


class AgentAttachmentRequest(_Request):
    ticket_id: str | None = Field(default=None, min_length=1, max_length=64, description="The ticket it is for.")
    conversation_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Or the conversation it is for (exactly one of them)."
    )
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100, examples=["application/pdf"])
    size: int = Field(ge=1, le=5 * 1024 * 1024 * 1024)
    internal: bool = Field(default=False, description="For an internal note: never downloadable by the customer.")


class TicketRequestBase(_Request):
    ticket_type_id: str = Field(min_length=1, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=100)
    team_id: str | None = Field(default=None, max_length=64, description="Defaults to the type's default team.")
    title: str | None = Field(default=None, max_length=200)
    priority: Priority = Priority.NORMAL


class ConvertConversationRequest(TicketRequestBase):
    pass


class CreateTicketRequest(TicketRequestBase):
    customer_id: str | None = Field(
        default=None, max_length=256, description="The customer a customer ticket is shared with."
    )
    category: TicketCategory = TicketCategory.CUSTOMER
    linked_ticket_id: str | None = Field(default=None, max_length=64, description="Back-office: the ticket it serves.")
    linked_conversation_id: str | None = Field(
        default=None, max_length=64, description="Back-office: the conversation it serves."
    )


class LinkTicketsRequest(_Request):
    ticket_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=50)


class UpdateTicketRequest(_Request):
    version: int | None = Field(
        default=None, ge=1, description="The version this change is based on (or send it as If-Match)."
    )
    state_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(default=None, max_length=64)
    assignee_id: str | None = Field(default=None, max_length=256, description="An agent id; null unassigns.")
    priority: Priority | None = None
    attributes: dict[str, Any] | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    add_tags: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=10)
    remove_tags: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=10)


class AvailabilityRequest(_Request):
    availability: Availability


class AssignConversationRequest(_Request):
    team_id: str | None = Field(default=None, max_length=64)
    assignee_id: str | None = Field(default=None, max_length=256, description="An agent id; null unassigns.")
    auto_assign: bool = Field(default=False, description="Pick an online agent of the team (live routing).")


class ConversationStatusRequest(_Request):
    status: ConversationStatus
    snoozed_until: AwareDatetime | None = Field(default=None, description="Required to snooze.")


# --- responses ------------------------------------------------------------------------------------


class DecisionRequest(_Request):
    decision: Literal["approve", "reject"]
    note: str | None = Field(default=None, max_length=1000)
