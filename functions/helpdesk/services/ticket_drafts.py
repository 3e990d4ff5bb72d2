"""Drafting a ticket from a conversation for the agent to confirm: a title and pre-filled attributes.

One Query (the conversation with its latest ``DRAFT_MESSAGES`` messages: for all but very long
conversations, the customer's first message is among them); the agent must be allowed to read the
conversation. Nothing is written: the agent converts with what they kept (``POST …/ticket``).
"""

from __future__ import annotations

from helpdesk.domain.errors import NotFound
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.ticket_drafts import TicketDraft, draft_ticket
from helpdesk.domain.ticket_opening import known_ticket_type
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import ConversationReader

DRAFT_MESSAGES = 100


class TicketDrafts:
    def __init__(self, conversations: ConversationReader, workspace: Workspace) -> None:
        self._conversations = conversations
        self._workspace = workspace

    def for_conversation(self, agent: AgentPrincipal, conversation_id: str, ticket_type_id: str) -> TicketDraft:
        ticket_type = known_ticket_type(self._workspace, ticket_type_id)
        conversation, messages, _ = self._conversations.conversation_page(
            conversation_id, after=None, limit=DRAFT_MESSAGES
        )
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        authorize(agent, Action.READ, Resource.conversation(conversation), self._workspace.agent_visibility)
        return draft_ticket(ticket_type, conversation, messages, self._workspace.bot)
