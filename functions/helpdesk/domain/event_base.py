"""What every domain event shares: the detail types, the envelope (id, time, stream sequence), the
field types and the schema examples. The events themselves: ``helpdesk.domain.events``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


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
    SLA_CLOCK_STOPPED = "SlaClockStopped"
    BOT_CONVERSATION_ENDED = "BotConversationEnded"
    KNOWLEDGE_ANSWER_SHOWN = "KnowledgeAnswerShown"
    KNOWLEDGE_ANSWER_RATED = "KnowledgeAnswerRated"
    CUSTOMER_ERASED = "CustomerErased"


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
    "assignee_id": "agent-returns",
    "version": 3,
}
_CONVERSATION_EXAMPLE: dict[str, Any] = {
    "conversation_id": "01KSAMPLECONVERSATION000000",
    "customer_id": "demo-customer-1",
    "team_id": "frontline",
    "channel": "messenger",
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
