"""The domain events this system publishes: one pydantic model per EventBridge detail type.

These models are the contract with the business's systems. The publisher builds every event's
``detail`` through its model (a value the model refuses never reaches the bus), and the JSON Schemas
in ``events/schemas/`` are generated from them (``helpdesk.domain.event_schemas``), so the documents
consumers read can't drift from what is sent.

What events hold: ids, states, counts and lengths. No names, emails, phone numbers or message text:
consumers that need the words fetch them with the ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from helpdesk.domain.models import AuthorType, ConversationStatus, MessageKind, Priority, ResolvedBy, TicketCategory
from helpdesk.domain.workspace import StateCategory


class DetailType(StrEnum):
    CONVERSATION_STARTED = "ConversationStarted"
    MESSAGE_RECEIVED = "MessageReceived"
    TICKET_CREATED = "TicketCreated"
    TICKET_STATE_CHANGED = "TicketStateChanged"
    TICKET_ASSIGNED = "TicketAssigned"
    TICKET_REPLIED = "TicketReplied"
    TICKET_RESOLVED = "TicketResolved"
    SLA_WARNING = "SlaWarning"
    SLA_BREACHED = "SlaBreached"
    BOT_RESOLVED = "BotResolved"
    CSAT_RATED = "CsatRated"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


Id = Annotated[str, Field(min_length=1, max_length=200)]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
Count = Annotated[int, Field(ge=0)]
SlaClock = Literal["first_response", "next_response", "resolution"]

_ENVELOPE_EXAMPLE: dict[str, Any] = {
    "event_id": "0b6a4f0e-5a0c-5f57-9a9e-3c1f6b3a8e11",
    "occurred_at": "2026-11-23T10:00:00Z",
    "sequence": "100000000000000000001",
}
_TICKET_EXAMPLE: dict[str, Any] = {
    "ticket_id": "01KSAMPLETICKET000000000000",
    "ticket_number": 1042,
    "ticket_type_id": "damaged-item",
    "category": "customer",
    "team_id": "returns",
    "customer_id": "demo-customer-1",
    "version": 3,
}


def _example(*parts: dict[str, Any], **fields: Any) -> ConfigDict:
    example: dict[str, Any] = {}
    for part in parts:
        example |= part
    return ConfigDict(json_schema_extra={"examples": [example | fields]})


class EventDetail(BaseModel):
    """What every event's ``detail`` starts with."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    detail_type: ClassVar[DetailType]
    summary: ClassVar[str]
    """What happened, for the schema's description."""

    event_id: UUID = Field(description="Stable for one change: de-duplicate on it (a redelivered change has the same).")
    occurred_at: UtcTime = Field(description="When the change happened (UTC).")
    sequence: str = Field(
        pattern=r"^[0-9]{1,40}$",
        description="The DynamoDB stream SequenceNumber: compare as integers (by length, then lexically) to order "
        "one ticket's or conversation's events. Events of one change share it.",
    )


class TicketEventDetail(EventDetail):
    """Events about a ticket carry which ticket it is, whose, and its version after the change."""

    ticket_id: Id = Field(description="The ticket's id.")
    ticket_number: int = Field(ge=1, description="The number the customer knows the ticket by (#1042).")
    ticket_type_id: Id = Field(description="The ticket type, as configured in the workspace (ticket_types/<id>.yaml).")
    category: TicketCategory = Field(
        description="customer: shared with the customer; back_office: internal work serving a ticket or "
        "conversation; tracker: one incident many customer tickets are linked to."
    )
    team_id: Id = Field(description="The team the ticket belongs to (after this change).")
    customer_id: Id | None = Field(description="Null for back-office and tracker tickets without a customer.")
    version: int = Field(ge=0, description="The ticket's version after this change: orders changes of one ticket.")


class ConversationStarted(EventDetail):
    detail_type = DetailType.CONVERSATION_STARTED
    summary = "A customer (or visitor) started a conversation in the messenger."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        conversation_id="01KSAMPLECONVERSATION000000",
        customer_id="demo-customer-1",
        customer_is_visitor=False,
        identity_verified=False,
        team_id="frontline",
        assignee_id=None,
        status="bot",
        viewed_object_type="order",
    )

    conversation_id: Id = Field(description="The conversation's id.")
    customer_id: Id = Field(description="The customer's id in the business's systems (or a visitor's id).")
    customer_is_visitor: bool = Field(description="True for an anonymous visitor, not yet a signed-in customer.")
    identity_verified: bool = Field(description="Whether the customer verified their identity in the app.")
    team_id: Id = Field(description="The team the conversation went to.")
    assignee_id: Id | None = Field(description="The agent it was assigned to at once, if any.")
    status: ConversationStatus = Field(
        description="bot: the bot is talking with the customer; open: waiting for or with an agent; snoozed; closed."
    )
    viewed_object_type: Id | None = Field(
        description="Type of what the customer was looking at (e.g. order), if the messenger said."
    )


class MessageReceived(EventDetail):
    detail_type = DetailType.MESSAGE_RECEIVED
    summary = (
        "A message was added to a conversation: by the customer, an agent or a bot, or an internal note between "
        "agents (`internal`). The text is not included: fetch the conversation."
    )
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        conversation_id="01KSAMPLECONVERSATION000000",
        message_id="01KSAMPLEMESSAGE00000000000",
        customer_id="demo-customer-1",
        author_type="customer",
        author_id="demo-customer-1",
        internal=False,
        message_kind="text",
        body_length=26,
        attachment_count=1,
    )

    conversation_id: Id = Field(description="The conversation's id.")
    message_id: Id = Field(description="The message's id (time-ordered).")
    customer_id: Id = Field(description="Whose conversation it is.")
    author_type: AuthorType = Field(description="Who wrote it: the customer, an agent or the bot.")
    author_id: Id | None = Field(description="The customer's or agent's id; null for the bot.")
    internal: bool = Field(description="An internal note between agents: the customer never sees it.")
    message_kind: MessageKind = Field(
        description="text: a message someone wrote; action: an internal record of a custom action the bot called; "
        "kb_answer: an answer from the knowledge base; status_update: a proactive update about a ticket; the "
        "others record what happened in the conversation (ticket created, verification, assignment, hand-off, "
        "status change)."
    )
    body_length: Count = Field(description="Characters in the message.")
    attachment_count: Count = Field(description="Files attached to the message.")


class TicketCreated(TicketEventDetail):
    detail_type = DetailType.TICKET_CREATED
    summary = "A ticket was created (directly, from a conversation, or as back-office work or a tracker)."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        version=1,
        state_id="received",
        state_category="submitted",
        priority="normal",
        assignee_id=None,
        conversation_id="01KSAMPLECONVERSATION000000",
        linked_ticket_id=None,
        tracker_id=None,
        created_by_type="agent",
    )

    state_id: Id = Field(description="The state it starts in (one of its type's states).")
    state_category: StateCategory = Field(description="The category of that state.")
    priority: Priority = Field(description="Its priority.")
    assignee_id: Id | None = Field(description="The agent it was assigned to, if any.")
    conversation_id: Id | None = Field(description="The conversation it was opened from, if any.")
    linked_ticket_id: Id | None = Field(description="For back-office work: the customer ticket it serves.")
    tracker_id: Id | None = Field(description="The tracker it is linked to, if any.")
    created_by_type: AuthorType = Field(description="Who opened it: an agent, the bot, or the customer.")


class TicketStateChanged(TicketEventDetail):
    detail_type = DetailType.TICKET_STATE_CHANGED
    summary = "A ticket moved to another state of its type."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        from_state_id="received",
        to_state_id="investigating",
        from_state_category="submitted",
        to_state_category="in_progress",
    )

    from_state_id: Id = Field(description="The state it left.")
    to_state_id: Id = Field(description="The state it is in now.")
    from_state_category: StateCategory = Field(description="The category of the state it left.")
    to_state_category: StateCategory = Field(description="The category of the state it is in now.")


class TicketAssigned(TicketEventDetail):
    detail_type = DetailType.TICKET_ASSIGNED
    summary = "A ticket's assignee or team changed (an assignee of null is unassigned)."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        from_assignee_id=None,
        to_assignee_id="agent-returns",
        from_team_id="returns",
        to_team_id="returns",
    )

    from_assignee_id: Id | None = Field(description="The agent it was assigned to before; null: unassigned.")
    to_assignee_id: Id | None = Field(description="The agent it is assigned to now; null: unassigned.")
    from_team_id: Id = Field(description="The team it belonged to before.")
    to_team_id: Id = Field(description="The team it belongs to now.")


class TicketReplied(EventDetail):
    detail_type = DetailType.TICKET_REPLIED
    summary = (
        "A reply was added to a ticket's timeline, by an agent or the customer (internal notes are not replies). "
        "The text is not included: fetch the ticket."
    )
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        ticket_id="01KSAMPLETICKET000000000000",
        part_id="01KSAMPLEPART00000000000000",
        author_type="agent",
        author_id="agent-returns",
        visible_to_customer=True,
        body_length=120,
        attachment_count=0,
    )

    ticket_id: Id = Field(description="The ticket's id.")
    part_id: Id = Field(description="The reply's id on the ticket's timeline.")
    author_type: AuthorType = Field(description="Who replied: an agent, the customer or the bot.")
    author_id: Id | None = Field(description="The agent's or customer's id; null for the bot.")
    visible_to_customer: bool = Field(description="Whether the customer sees the reply.")
    body_length: Count = Field(description="Characters in the reply.")
    attachment_count: Count = Field(description="Files attached to the reply.")


class TicketResolved(TicketEventDetail):
    detail_type = DetailType.TICKET_RESOLVED
    summary = "A ticket entered a state of category `resolved` (it also gets a TicketStateChanged)."
    model_config = _example(_ENVELOPE_EXAMPLE, _TICKET_EXAMPLE, state_id="replaced", from_state_category="in_progress")

    state_id: Id = Field(description="The resolved state it entered.")
    from_state_category: StateCategory = Field(description="The category of the state it left.")


class SlaWarning(TicketEventDetail):
    detail_type = DetailType.SLA_WARNING
    summary = "One of a ticket's SLA clocks is close to its deadline (one event per clock)."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        clock="first_response",
        due_at="2026-11-23T12:00:00Z",
        warned_at="2026-11-23T11:30:00Z",
    )

    clock: SlaClock = Field(description="Which SLA clock (the ticket type's sla policy).")
    due_at: UtcTime | None = Field(description="The clock's deadline, in business time made real (UTC).")
    warned_at: UtcTime = Field(description="When the warning was given (UTC).")


class SlaBreached(TicketEventDetail):
    detail_type = DetailType.SLA_BREACHED
    summary = "One of a ticket's SLA clocks passed its deadline (one event per clock)."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        clock="first_response",
        due_at="2026-11-23T12:00:00Z",
        breached_at="2026-11-23T12:00:05Z",
    )

    clock: SlaClock = Field(description="Which SLA clock (the ticket type's sla policy).")
    due_at: UtcTime | None = Field(description="The clock's deadline (UTC).")
    breached_at: UtcTime = Field(description="When the breach was recorded (UTC).")


class BotResolved(EventDetail):
    detail_type = DetailType.BOT_RESOLVED
    summary = "The bot resolved a conversation without a human."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        conversation_id="01KSAMPLECONVERSATION000000",
        customer_id="demo-customer-1",
        team_id="frontline",
        resolved_by="custom_action",
        path_id="delivery-slot",
    )

    conversation_id: Id = Field(description="The conversation's id.")
    customer_id: Id = Field(description="Whose conversation it is.")
    team_id: Id = Field(description="The team the conversation belongs to.")
    resolved_by: Literal[ResolvedBy.KB, ResolvedBy.CUSTOM_ACTION, ResolvedBy.BOT] = Field(
        description="What resolved it: kb (a knowledge-base answer the customer said helped), custom_action (a "
        "bot path that called the business's system), bot (a bot path that answered by itself)."
    )
    path_id: Id | None = Field(description="The bot path that resolved it (bot.yaml), if one did.")


class CsatRated(TicketEventDetail):
    detail_type = DetailType.CSAT_RATED
    summary = "The customer rated how their resolved ticket was handled. The comment is not included: fetch the ticket."
    model_config = _example(_ENVELOPE_EXAMPLE, _TICKET_EXAMPLE, score=5, has_comment=True)

    score: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy).")
    has_comment: bool = Field(description="Whether the customer left a comment with the score.")


DETAIL_MODELS: dict[DetailType, type[EventDetail]] = {
    model.detail_type: model
    for model in (
        ConversationStarted,
        MessageReceived,
        TicketCreated,
        TicketStateChanged,
        TicketAssigned,
        TicketReplied,
        TicketResolved,
        SlaWarning,
        SlaBreached,
        BotResolved,
        CsatRated,
    )
}
"""Every detail type's model; a detail type without one is a test failure."""


def event_detail(detail_type: DetailType, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` validated by ``detail_type``'s model, as the JSON the bus carries.

    Raises pydantic's ``ValidationError`` naming the model and the fields it refused.
    """
    return DETAIL_MODELS[detail_type].model_validate(fields).model_dump(mode="json")
