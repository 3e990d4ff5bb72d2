"""The support domain's entities: customers, conversations and messages, tickets and their timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from ulid import ULID

from helpdesk.domain.page_urls import scrub_page_url
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


class Channel(StrEnum):
    """How a conversation started, or how a message came in or goes out."""

    MESSENGER = "messenger"
    EMAIL = "email"


class ConversationStatus(StrEnum):
    BOT = "bot"
    """The bot is talking with the customer; agents see it but needn't act."""
    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"


class Agent(BaseModel):
    """An agent as the inbox knows them: identity from the authorizer, availability from themselves."""

    id: str
    name: str | None = None
    email: str | None = None
    teams: list[str] = []
    availability: Availability = Availability.AWAY
    updated_at: datetime


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
    """Where the customer was and on what, sent by the messenger with the first message.

    Everything here comes from the customer's device and is shown to agents as unverified;
    facts the business vouches for travel signed in the customer's token instead. The page's
    address and referrer are kept without fragment, userinfo or secret-looking query parameters
    (``helpdesk.domain.page_urls``): agents see where the customer was, never a token in its URL.
    """

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
    attributes: dict[str, Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=30, description="Unsigned key/value facts from the page: shown as unverified."
    )

    @field_validator("page_url", "referrer")
    @classmethod
    def _without_secrets(cls, url: str | None) -> str | None:
        return None if url is None else scrub_page_url(url)


class NotificationPreferences(BaseModel):
    """How the customer wants status updates: in the messenger, by email, by SMS."""

    # Strict: a JSON 0 or "no" is a mistake to point out, not a false to guess.
    model_config = ConfigDict(extra="forbid", strict=True)

    messenger: bool = True
    email: bool = True
    sms: bool = False


class Customer(BaseModel):
    user_id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    preferences: NotificationPreferences = NotificationPreferences()


class AttachmentRef(BaseModel):
    """An uploaded file as messages and timeline parts refer to it."""

    id: str
    filename: str
    content_type: str
    size: int


class Attachment(AttachmentRef):
    customer_id: str
    uploaded_by: Author
    conversation_id: str | None = None
    ticket_id: str | None = None
    created_at: datetime

    def ref(self) -> AttachmentRef:
        """The file as a message or timeline part refers to it (nothing about who uploaded it, or where)."""
        return AttachmentRef(id=self.id, filename=self.filename, content_type=self.content_type, size=self.size)


class MessageKind(StrEnum):
    TEXT = "text"
    TICKET_CREATED = "ticket_created"
    VERIFICATION_REQUEST = "verification_request"
    IDENTITY_VERIFIED = "identity_verified"
    ASSIGNMENT = "assignment"
    HANDOFF = "handoff"
    STATUS_CHANGE = "status_change"
    ACTION = "action"
    """An internal record of a custom action the bot called, and its outcome."""
    KB_ANSWER = "kb_answer"
    STATUS_UPDATE = "status_update"
    """A proactive update about the customer's ticket."""


class MessageOption(BaseModel):
    """A quick reply offered with a bot message; the customer answers with its ``id``."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str


class BotOutcome(StrEnum):
    RESOLVED = "resolved"
    HANDED_OFF = "handed_off"
    TICKET_CREATED = "ticket_created"


class ResolvedBy(StrEnum):
    """Which step of the waterfall settled the conversation."""

    KB = "kb"
    CUSTOM_ACTION = "custom_action"
    BOT = "bot"
    AGENT = "agent"
    TICKET = "ticket"


class HandoffReason(StrEnum):
    """Why the bot handed a conversation to a person: the hand-off reasons of the reports."""

    REQUESTED = "requested"
    """A path's ``handoff`` step: the path is meant to end with a person."""
    PATH_ENDED = "path_ended"
    """The path ran out of steps without resolving or handing off on purpose."""
    NOT_UNDERSTOOD = "not_understood"
    """Too many answers the bot couldn't match or validate."""
    KB_NOT_HELPFUL = "kb_not_helpful"
    """The customer said the knowledge-base answer didn't help and nothing else was left to try."""
    ACTION_FAILED = "action_failed"
    """A custom action failed, its system was unavailable, or the record wasn't on the customer's account."""
    NOT_SIGNED_IN = "not_signed_in"
    """A visitor reached an action on a customer's records and was passed to a person instead of signing in."""
    NO_MENU = "no_menu"
    """The bot had no path to offer."""
    BOT_FAILED = "bot_failed"
    """The bot couldn't go on (its configuration or a system it needs failed): the team was rescued in."""
    AGENT_TOOK_OVER = "agent_took_over"
    """An agent answered while the bot was still talking."""


class KbAnswer(BaseModel):
    """One knowledge-base answer the bot showed, and whether the customer said it helped."""

    article_id: str
    path_id: str | None = None
    step_id: str | None = None
    helpful: bool | None = None


class BotState(BaseModel):
    """Where the bot is with a conversation: kept on the conversation, so any invocation can go on."""

    path_id: str | None = None
    step_id: str | None = None
    awaiting: Literal["menu", "answer", "choice", "confirm", "kb_feedback", "sign_in"] | None = None
    attempts: int = 0
    offered: list[MessageOption] = []
    """The options of the question the bot is waiting on."""
    vars: dict[str, Any] = {}
    """Collected answers and action results (by step id)."""
    menu_shown: bool = False
    turn: int = 0
    outcome: BotOutcome | None = None
    resolved_by: ResolvedBy | None = None
    kb_article_id: str | None = None
    handoff_reason: HandoffReason | None = None
    """Why the bot gave the conversation to a person (set with outcome ``handed_off``)."""
    kb_answers: list[KbAnswer] = []
    """Every knowledge-base answer shown, in order, with the customer's verdict once given."""


class Capsule(BaseModel):
    """The context a receiving agent needs so nobody asks the customer to repeat anything."""

    customer: dict[str, Any]
    context: ContextPackage | None = None
    collected_attributes: dict[str, Any] = {}
    linked_objects: list[dict[str, str]] = []
    last_customer_messages: list[str] = []
    open_questions: list[str] = []
    """What the customer said since an agent last answered."""
    notes: list[str] = []
    handed_off_by: str | None = None
    handed_to: dict[str, str | None] = {}
    created_at: datetime


class Message(BaseModel):
    id: str
    conversation_id: str
    author: Author
    body: str
    kind: MessageKind = MessageKind.TEXT
    attachments: list[AttachmentRef] = []
    mentions: list[str] = []
    """Agent ids @mentioned in an internal note."""
    options: list[MessageOption] = []
    """Quick replies offered with a bot message."""
    internal: bool = False
    """An internal note between agents: never shown to the customer."""
    channel: Channel | None = None
    """``email``: the customer wrote it by email, or an agent's reply goes out by email too."""
    created_at: datetime


class Conversation(BaseModel):
    id: str
    customer_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    customer_is_visitor: bool = False
    verified_attributes: dict[str, str] = {}
    """Signed by the business in the customer's token: trusted."""
    identity_verified_at: datetime | None = None
    status: ConversationStatus
    team_id: str
    assignee_id: str | None = None
    ticket_id: str | None = None
    context: ContextPackage | None = None
    preview: str | None = None
    snoozed_until: datetime | None = None
    capsule: Capsule | None = None
    """The latest hand-off summary, shown at the top for whoever received it."""
    bot: BotState | None = None
    """The bot's progress; None when the workspace has no bot."""
    channel: Channel = Channel.MESSENGER
    """Where it started: an email conversation's replies go out by email (and show in the messenger)."""
    email_subject: str | None = None
    """The subject of the email that started it (replies say "Re: ..." to it)."""
    tags: list[str] = []
    """Agents' tags (``domain.tags``): internal, and each a view of the inbox."""
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
    ATTACHMENT = "attachment"
    RATING = "rating"
    HANDOFF = "handoff"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    REMINDER = "reminder"
    """The customer was reminded that the ticket waits on them."""
    APPROVAL = "approval"
    EXTERNAL_UPDATE = "external_update"
    """An update from the business's systems about an object the ticket is about."""


class TicketPart(BaseModel):
    """One entry of a ticket's timeline."""

    id: str
    ticket_id: str
    type: PartType
    author: Author
    body: str | None = None
    changes: dict[str, Any] | None = None
    attachments: list[AttachmentRef] = []
    visible_to_customer: bool
    created_at: datetime


class Rating(BaseModel):
    """The customer's satisfaction with how the ticket was handled (CSAT)."""

    score: int = Field(ge=1, le=5)
    comment: str | None = None
    rated_at: datetime


class TicketCategory(StrEnum):
    CUSTOMER = "customer"
    """Shared with the customer: they see it in their tickets space."""
    BACK_OFFICE = "back_office"
    """Internal work with another department, linked to a customer ticket or conversation."""
    TRACKER = "tracker"
    """One incident that many customer tickets are linked to; its updates reach all of them."""


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Approval(BaseModel):
    """A specialist's decision the ticket's workflow waits for (e.g. a refund above an amount)."""

    status: ApprovalStatus
    requested_at: datetime
    token: str | None = None
    """The workflow's task token, completed by the decision."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    applied: bool = False


class Ticket(BaseModel):
    id: str
    number: int
    category: TicketCategory = TicketCategory.CUSTOMER
    linked_ticket_id: str | None = None
    """Back-office: the customer ticket it serves."""
    tracker_id: str | None = None
    """Customer ticket: the tracker it is linked to."""
    ticket_type_id: str
    title: str
    state_id: str
    state_category: StateCategory
    attributes: dict[str, Any]
    team_id: str
    assignee_id: str | None = None
    priority: Priority
    customer_id: str | None = None
    customer_name: str | None = None
    """As the customer's conversation knew them when the ticket was opened from it (for macros' placeholders)."""
    customer_email: str | None = None
    conversation_id: str | None = None
    context: ContextPackage | None = None
    verified_attributes: dict[str, str] = {}
    rating: Rating | None = None
    capsule: Capsule | None = None
    """The latest hand-off summary."""
    sla_due_at: datetime | None = None
    """When the resolution clock runs out (None while it is paused or stopped): what inboxes sort on."""
    sla: dict[str, Any] | None = None
    """The SLA clocks (``domain.sla.SlaState`` as JSON), kept up to date with every change that moves them."""
    waiting_since: datetime | None = None
    """Since when the ticket has been waiting on the customer (for reminders and auto-resolution)."""
    reminded_at: datetime | None = None
    approval: Approval | None = None
    workflow_token: str | None = None
    """The task token of the ticket's workflow while it waits for the next deadline or a change."""
    workflow_version: int | None = None
    """The ticket version the parked workflow last looked at."""
    tags: list[str] = []
    """Agents' tags (``domain.tags``): internal, and each a view of the inbox."""
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


class TicketView(BaseModel):
    """Which inbox list of tickets: each is one index partition, so one Query per page.

    ``kind``: ``team_category`` (value: a state category), ``state`` (value: a state id of
    ``ticket_type_id``), ``priority`` (value: a priority), ``assignee`` (value: an agent id, or ""
    for unassigned), ``type`` (value: a ticket type id), ``tag`` (value: a tag; a Query of the tag's
    links and a BatchGetItem of the tickets).
    """

    kind: Literal["team_category", "state", "priority", "assignee", "type", "sla_due", "tag"]
    value: str
    team_id: str = ""
    ticket_type_id: str = ""


class FanOutJob(BaseModel):
    """A tracker's change, being pushed to its linked tickets one page at a time."""

    id: str
    tracker_id: str
    kind: Literal["state", "reply"]
    category: StateCategory | None = None
    body: str
    author: Author
    cursor: str | None = None
