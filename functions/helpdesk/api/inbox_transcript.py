"""The conversation transcript on a ticket: ``GET /inbox/tickets/{id}/transcript``.

Included in the inbox API (``api/inbox.py``). Whoever may read the ticket reads the messages of the
conversation it was opened from, even when that conversation belongs to another team.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from helpdesk import wiring
from helpdesk.api import views
from helpdesk.api.identity import agent_from_event
from helpdesk.api.params import Id, Limit
from helpdesk.domain.models import TicketCategory

router = Router()

MessageCursor = Annotated[
    str | None,
    Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="The next_cursor of the previous page."),
]
"""A message id (the last one of the previous page): it becomes part of a key, so nothing else is accepted."""


class TicketTranscriptView(BaseModel):
    ticket_id: str
    conversation_id: str | None = Field(description="The conversation the ticket was opened from (null: none).")
    served_ticket_id: str | None = Field(
        default=None, description="Back-office tickets: the customer ticket this one serves (to link to)."
    )
    messages: list[views.AgentMessageView] = Field(
        description="Oldest first: the customer's, the bot's and agents' messages, internal notes included."
    )
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (newer) messages.")


@router.get("/inbox/tickets/<ticket_id>/transcript", summary="The transcript of the conversation a ticket came from")
def get_ticket_transcript(ticket_id: Id, cursor: MessageCursor = None, limit: Limit = 50) -> TicketTranscriptView:
    """For whoever may read the ticket, even when the conversation is another team's; empty for a ticket
    opened without a conversation."""
    agent = agent_from_event(router.current_event.raw_event)
    transcript = wiring.transcripts().for_ticket(agent, ticket_id, cursor=cursor, limit=limit)
    ticket = transcript.ticket
    return TicketTranscriptView(
        ticket_id=ticket.id,
        conversation_id=ticket.conversation_id,
        served_ticket_id=ticket.linked_ticket_id if ticket.category is TicketCategory.BACK_OFFICE else None,
        messages=[views.agent_message_view(m) for m in transcript.messages],
        next_cursor=transcript.next_cursor,
    )
