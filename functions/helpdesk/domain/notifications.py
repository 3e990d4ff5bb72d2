"""Status updates: what the customer is told proactively when something they care about changes.

Every customer-visible change (ticket created with its number, state label changed, agent reply,
reminder, resolution, CSAT request, an update from the business's systems) becomes one
``StatusUpdate``. The event publisher derives them from committed changes (the table's stream) and
publishes them to the status-update SNS topic; the notifier delivers each one per the customer's
preferences: email (SES), SMS (SNS) and a message in the messenger.

``id`` is stable for one change: the same change delivered twice carries the same id, which is what
lets the notifier deliver it once per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class StatusUpdateKind(StrEnum):
    TICKET_CREATED = "ticket_created"
    STATE_CHANGED = "state_changed"
    AGENT_REPLY = "agent_reply"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    CSAT_REQUEST = "csat_request"
    EXTERNAL_UPDATE = "external_update"
    """A change in the business's own systems that matters to the customer (e.g. replacement shipped)."""


class StatusUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    """Stable per change: the de-duplication key (with the channel) for delivery."""
    kind: StatusUpdateKind
    customer_id: str
    ticket_id: str | None = None
    ticket_number: int | None = None
    conversation_id: str | None = None
    title: str | None = None
    """The ticket's title."""
    state_label: str | None = None
    """The customer-facing label of the ticket's state."""
    body: str | None = None
    """The words to pass on: an agent's reply, a reminder, the external update."""
    occurred_at: datetime


class Undeliverable(Exception):
    """This message can never be delivered on this channel; ``code`` says why (no address in it)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"undeliverable: {code}")
        self.code = code


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    PENDING = "pending"
    """Handed back after a failed attempt: the next attempt may claim it."""


@dataclass(frozen=True)
class Claim:
    """What a claim attempt found: ``won`` (go and send) or the status someone else left."""

    won: bool
    status: DeliveryStatus
    claim_id: str | None = None
    message_id: str | None = None
    attempts: int = 0
