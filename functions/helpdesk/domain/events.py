"""The domain events this system publishes: one pydantic model per EventBridge detail type.

These models are the contract with the business's systems. The publisher builds every event's
``detail`` through its model (a value the model refuses never reaches the bus), and the JSON Schemas
in ``events/schemas/`` are generated from them (``helpdesk.domain.event_schemas``), so the documents
consumers read can't drift from what is sent.

What events hold: ids, states, counts and lengths. No names, emails, phone numbers or message text:
consumers that need the words fetch them with the ids.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

# The envelope every event shares, and the bot's events, in modules of their own; named here too, as
# this module is where consumers of the events look.
from helpdesk.domain.bot_events import (
    BotConversationEnded,
    ConversationEventDetail,
    KnowledgeAnswerRated,
    KnowledgeAnswerShown,
)
from helpdesk.domain.event_base import (
    _ENVELOPE_EXAMPLE,
    _TICKET_EXAMPLE,
    Count,
    DetailType,
    EventDetail,
    Id,
    SlaClock,
    UtcTime,
    _example,
)
from helpdesk.domain.models import (
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    Priority,
    ResolvedBy,
    TicketCategory,
)
from helpdesk.domain.workspace import StateCategory

__all__ = [
    "BotConversationEnded",
    "ConversationEventDetail",
    "Count",
    "DetailType",
    "EventDetail",
    "Id",
    "KnowledgeAnswerRated",
    "KnowledgeAnswerShown",
    "SlaClock",
    "UtcTime",
]


_RUN_STARTED = (
    "When this run of the clock started: with ticket_id and clock it names one run (next_response runs again "
    "after each reply)."
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
    assignee_id: Id | None = Field(description="The ticket's assignee when this happened (null: unassigned).")
    version: int = Field(ge=0, description="The ticket's version after this change: orders changes of one ticket.")


class ConversationStarted(EventDetail):
    detail_type = DetailType.CONVERSATION_STARTED
    summary = "A customer (or visitor) started a conversation, in the messenger or by email."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        conversation_id="01KSAMPLECONVERSATION000000",
        customer_id="demo-customer-1",
        channel="messenger",
        customer_is_visitor=False,
        identity_verified=False,
        team_id="frontline",
        assignee_id=None,
        status="bot",
        viewed_object_type="order",
    )

    conversation_id: Id = Field(description="The conversation's id.")
    customer_id: Id = Field(description="The customer's id in the business's systems (or a visitor's id).")
    channel: Channel = Field(
        description="How the conversation started (email: it came in by email, and agents' replies go out by email)."
    )
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
        channel="messenger",
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
    channel: Channel = Field(
        description="email: the customer wrote it by email, or an agent's reply goes out by email too; "
        "messenger otherwise."
    )


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


class SlaClockEventDetail(TicketEventDetail):
    """Events about one run of one of a ticket's SLA clocks (one event per clock)."""

    clock: SlaClock = Field(description="Which SLA clock (the ticket type's sla policy).")
    started_at: UtcTime = Field(description=_RUN_STARTED)
    due_at: UtcTime | None = Field(description="The clock's deadline (UTC).")


def _sla_example(**moment: str) -> Any:
    """An SLA event's example: a first-response clock due two hours after it started."""
    return _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        clock="first_response",
        started_at="2026-11-23T10:00:00Z",
        due_at="2026-11-23T12:00:00Z",
        **moment,
    )


class SlaWarning(SlaClockEventDetail):
    detail_type = DetailType.SLA_WARNING
    summary = "One of a ticket's SLA clocks is close to its deadline (one event per clock)."
    model_config = _sla_example(warned_at="2026-11-23T11:30:00Z")

    due_at: UtcTime | None = Field(description="The clock's deadline, in business time made real (UTC).")
    warned_at: UtcTime = Field(description="When the warning was given (UTC).")


class SlaBreached(SlaClockEventDetail):
    detail_type = DetailType.SLA_BREACHED
    summary = "One of a ticket's SLA clocks passed its deadline (one event per clock)."
    model_config = _sla_example(breached_at="2026-11-23T12:00:05Z")

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


class SlaClockStopped(TicketEventDetail):
    detail_type = DetailType.SLA_CLOCK_STOPPED
    summary = (
        "One of a ticket's SLA clocks stopped: met by a reply or the resolution, or stopped because the ticket was "
        "resolved."
    )
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _TICKET_EXAMPLE,
        clock="first_response",
        started_at="2026-11-23T10:00:00Z",
        stopped_at="2026-11-23T10:40:00Z",
        fulfilled=True,
        elapsed_seconds=2400,
        target_seconds=7200,
        breached_at=None,
    )

    clock: SlaClock = Field(description="Which SLA clock (the ticket type's sla policy).")
    started_at: UtcTime = Field(description=_RUN_STARTED)
    stopped_at: UtcTime = Field(description="When the clock stopped (UTC).")
    fulfilled: bool = Field(
        description="True when the promise was delivered (the reply, or the resolution); false when the ticket was "
        "resolved while the clock's reply was still owed."
    )
    elapsed_seconds: Count = Field(
        description="Business time the clock ran (paused time left out), in seconds: first response and resolution "
        "times are these."
    )
    target_seconds: int = Field(ge=1, description="The SLA policy's target for this clock, in business seconds.")
    breached_at: UtcTime | None = Field(
        description="When the clock's breach was reported (its SlaBreached event); null if it never was. A clock "
        "stopped late without a reported breach has elapsed_seconds above target_seconds."
    )


class CustomerErased(EventDetail):
    detail_type = DetailType.CUSTOMER_ERASED
    summary = (
        "An admin's erasure of one customer finished: their data is gone from the table, the files and the "
        "lake. Erase them in your systems too."
    )
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        erasure_id="01KSAMPLEERASURE0000000000",
        customer_id="demo-customer-1",
        items_deleted=42,
        items_anonymized=0,
        files_deleted=3,
        lake_events_removed=17,
    )

    erasure_id: Id = Field(description="The erasure's audit entry.")
    customer_id: Id = Field(description="Who was erased (the business's id for them).")
    items_deleted: Count = Field(description="Table items deleted.")
    items_anonymized: Count = Field(description="Table items kept without the customer's identity.")
    files_deleted: Count = Field(description="Files deleted (attachments, exports).")
    lake_events_removed: Count = Field(description="Events removed from the lake.")


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
        SlaClockStopped,
        BotConversationEnded,
        KnowledgeAnswerShown,
        KnowledgeAnswerRated,
        CustomerErased,
    )
}
"""Every detail type's model; a detail type without one is a test failure."""


def event_detail(detail_type: DetailType, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` validated by ``detail_type``'s model, as the JSON the bus carries.

    Raises pydantic's ``ValidationError`` naming the model and the fields it refused.
    """
    return DETAIL_MODELS[detail_type].model_validate(fields).model_dump(mode="json")
