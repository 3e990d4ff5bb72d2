"""Bounces and complaints about the email we sent: the address is suppressed, and agents see why.

SES publishes the configuration set's ``Bounce`` and ``Complaint`` events to a topic whose queue
feeds the email-feedback worker. A permanent bounce (the mailbox doesn't exist) or a complaint (the
customer marked us as spam) suppresses the address: no status update, reply or link goes to it any
more (``email_delivery`` refuses it as undeliverable) and the inbox shows the address as suppressed.
A transient bounce (mailbox full, greylisting) suppresses nothing: SES retries those itself.
The configuration set also keeps SES's own account-level suppression list for these reasons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.domain.email_messages import normalize_address
from helpdesk.domain.email_threads import Suppression
from helpdesk.domain.errors import NotFound
from helpdesk.domain.models import Channel, Conversation, utc_now
from helpdesk.domain.policy import Action, Resource, Visibility, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.services.email_ports import EmailRecords


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Recipient(_Open):
    email_address: str = Field(alias="emailAddress", min_length=3, max_length=320)


class Bounce(_Open):
    bounce_type: str = Field(alias="bounceType")
    bounce_sub_type: str = Field(default="", alias="bounceSubType")
    bounced_recipients: list[_Recipient] = Field(default_factory=list, alias="bouncedRecipients")


class Complaint(_Open):
    complained_recipients: list[_Recipient] = Field(default_factory=list, alias="complainedRecipients")
    complaint_feedback_type: str = Field(default="", alias="complaintFeedbackType")


class SesEvent(_Open):
    """A configuration set event (``eventType``) or an identity notification (``notificationType``)."""

    event_type: str | None = Field(default=None, alias="eventType")
    notification_type: str | None = Field(default=None, alias="notificationType")
    bounce: Bounce | None = None
    complaint: Complaint | None = None

    @property
    def kind(self) -> str:
        return (self.event_type or self.notification_type or "").strip()


class FeedbackOutcome(StrEnum):
    SUPPRESSED = "suppressed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Feedback:
    outcome: FeedbackOutcome
    kind: str
    addresses: int = 0


class ConversationLookup(Protocol):
    def get_conversation(self, conversation_id: str) -> Conversation | None: ...


class EmailFeedback:
    def __init__(
        self,
        records: EmailRecords,
        conversations: ConversationLookup | None = None,
        *,
        visibility: Visibility = Visibility.TEAM,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._conversations = conversations
        self._visibility = visibility
        self._clock = clock

    def handle(self, event: SesEvent) -> Feedback:
        now = self._clock()
        if event.kind == "Bounce" and event.bounce is not None:
            if event.bounce.bounce_type != "Permanent":
                return Feedback(FeedbackOutcome.IGNORED, f"bounce:{event.bounce.bounce_type.lower() or 'unknown'}")
            detail = event.bounce.bounce_sub_type or None
            addresses = [r.email_address for r in event.bounce.bounced_recipients]
            reason = "bounce"
        elif event.kind == "Complaint" and event.complaint is not None:
            detail = event.complaint.complaint_feedback_type or None
            addresses = [r.email_address for r in event.complaint.complained_recipients]
            reason = "complaint"
        else:
            return Feedback(FeedbackOutcome.IGNORED, event.kind.lower() or "unknown")
        for address in dict.fromkeys(normalize_address(a) for a in addresses):
            self._records.suppress(Suppression(address=address, reason=reason, detail=detail, since=now))
        return Feedback(FeedbackOutcome.SUPPRESSED, reason, len(addresses))

    def conversation_email(
        self, agent: AgentPrincipal, conversation_id: str
    ) -> tuple[Conversation, str | None, Suppression | None]:
        """A conversation the agent may read, the address its replies are emailed to, and that address's
        suppression (2 GetItems)."""
        assert self._conversations is not None
        conversation = self._conversations.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        authorize(agent, Action.READ, Resource.conversation(conversation), self._visibility)
        address = conversation.customer_email if conversation.channel is Channel.EMAIL else None
        return conversation, address, self.suppression(address)

    def suppression(self, address: str | None) -> Suppression | None:
        """One GetItem: whether nothing may be emailed to ``address`` any more, and why."""
        return self._records.suppression(address) if address else None


def parse_feedback(body: str | dict[str, Any]) -> SesEvent:
    """An SQS record's body: the SES event itself (raw delivery), or an SNS envelope around it."""
    data = json.loads(body) if isinstance(body, str) else body
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        data = json.loads(data["Message"])
    return SesEvent.model_validate(data)
