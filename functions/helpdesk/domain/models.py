"""The support domain's entities: customers, conversations and messages, tickets and their timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ulid import ULID

from helpdesk.domain.workspace import StateCategory

MAX_MESSAGE_LENGTH = 5_000


def new_id() -> str:
    """Time-ordered unique id: sorting ids sorts by creation time."""
    return str(ULID())


def utc_now() -> datetime:
    return datetime.now(UTC)


class AuthorType(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: AuthorType
    id: str | None = None
    name: str | None = None


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ViewedObject(BaseModel):
    """The thing the customer was looking at when they opened the messenger."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$", examples=["order"])
    id: str = Field(min_length=1, max_length=200, examples=["ORD-1001"])


class ContextPackage(BaseModel):
    """Where the customer was and on what, sent by the messenger with the first message."""

    model_config = ConfigDict(extra="forbid")

    page_url: str | None = Field(default=None, max_length=2000)
    page_title: str | None = Field(default=None, max_length=300)
    referrer: str | None = Field(default=None, max_length=2000)
    device: str | None = Field(default=None, max_length=100)
    os: str | None = Field(default=None, max_length=100)
    app_version: str | None = Field(default=None, max_length=50)
    locale: str | None = Field(default=None, max_length=35)
    time_zone: str | None = Field(default=None, max_length=64)
    object: ViewedObject | None = None


class Customer(BaseModel):
    user_id: str
    email: str | None = None
    name: str | None = None


class Message(BaseModel):
    id: str
    conversation_id: str
    author: Author
    body: str
    internal: bool = False
    """An internal note between agents: never shown to the customer."""
    created_at: datetime


class Conversation(BaseModel):
    id: str
    customer_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    status: ConversationStatus
    team_id: str
    assignee_id: str | None = None
    ticket_id: str | None = None
    context: ContextPackage | None = None
    preview: str | None = None
    created_at: datetime
    updated_at: datetime


class ConversationPage(BaseModel):
    conversation: Conversation
    messages: list[Message]
    next_cursor: str | None = None


class PartType(StrEnum):
    CREATED = "created"
    REPLY = "reply"
    NOTE = "note"
    STATE_CHANGE = "state_change"
    ASSIGNMENT = "assignment"
    ATTRIBUTE_CHANGE = "attribute_change"
    PRIORITY_CHANGE = "priority_change"


class TicketPart(BaseModel):
    """One entry of a ticket's timeline."""

    id: str
    ticket_id: str
    type: PartType
    author: Author
    body: str | None = None
    changes: dict[str, Any] | None = None
    visible_to_customer: bool
    created_at: datetime


class Ticket(BaseModel):
    id: str
    number: int
    ticket_type_id: str
    title: str
    state_id: str
    state_category: StateCategory
    attributes: dict[str, Any]
    team_id: str
    assignee_id: str | None = None
    priority: Priority
    customer_id: str | None = None
    conversation_id: str | None = None
    context: ContextPackage | None = None
    created_by: Author
    created_at: datetime
    updated_at: datetime
    version: int


class TicketPage(BaseModel):
    ticket: Ticket
    timeline: list[TicketPart]
    next_cursor: str | None = None


class Page[T](BaseModel):
    items: list[T]
    next_cursor: str | None = None
