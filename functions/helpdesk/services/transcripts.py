"""The conversation transcript on a ticket: what the customer, the bot and agents wrote before (and after) the
ticket was opened from the conversation, for whoever may read the ticket.

Reading the ticket is what grants the transcript: a team that now works a ticket converted from another
team's conversation reads that conversation's messages through the ticket, without being allowed the
conversation itself (under ``agent_visibility: team``). Two reads: the ticket, then one Query of the
conversation's messages, oldest first.
"""

from __future__ import annotations

from pydantic import BaseModel

from helpdesk.domain.errors import NotFound
from helpdesk.domain.models import Message, Ticket
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import ConversationReader, TicketReader

FROM_THE_START = ""
"""The cursor of the first page: every message sorts after ``MSG#``."""


class TicketTranscript(BaseModel):
    ticket: Ticket
    messages: list[Message]
    """Oldest first, internal notes included (the reader is an agent)."""
    next_cursor: str | None = None


class TranscriptService:
    def __init__(self, tickets: TicketReader, conversations: ConversationReader, workspace: Workspace) -> None:
        self._tickets = tickets
        self._conversations = conversations
        self._workspace = workspace

    def for_ticket(self, agent: AgentPrincipal, ticket_id: str, *, cursor: str | None, limit: int) -> TicketTranscript:
        ticket = self._tickets.get_ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        authorize(agent, Action.READ, Resource.ticket(ticket), self._workspace.agent_visibility)
        if ticket.conversation_id is None:
            return TicketTranscript(ticket=ticket, messages=[])
        _, messages, has_more = self._conversations.conversation_page(
            ticket.conversation_id, after=cursor or FROM_THE_START, limit=limit
        )
        return TicketTranscript(
            ticket=ticket, messages=messages, next_cursor=messages[-1].id if has_more and messages else None
        )
