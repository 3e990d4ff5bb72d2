"""Tags: agents tag conversations (tickets are tagged through their update), and the inbox's tag views.

A view lists what carries a tag across teams, newest first, leaving out what the caller may not read
(``policy.decide`` on each item, as the inbox's other cross-team views do). A conversation's tags are
changed with an optimistic write (re-read and decided again when someone else wrote first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from helpdesk.domain.errors import ConditionFailed, Conflict, NotFound
from helpdesk.domain.macros import Macro
from helpdesk.domain.models import Conversation, Message, Page, Ticket, utc_now
from helpdesk.domain.policy import Action, Resource, authorize, decide
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.tags import clean_tags, retagged
from helpdesk.domain.workspace import Workspace
from helpdesk.services.retries import retry_on_conflict

TAG_ATTEMPTS = 5


class TaggedRecords(Protocol):
    def tagged_conversations(self, tag: str, *, cursor: str | None, limit: int) -> Page[Conversation]: ...

    def tagged_tickets(self, tag: str, *, cursor: str | None, limit: int) -> Page[Ticket]: ...


class ConversationRewrites(Protocol):
    def read_conversation_and_macro(
        self, conversation_id: str, macro_id: str | None
    ) -> tuple[Conversation | None, Macro | None]: ...

    def rewrite_conversation(self, before: Conversation, after: Conversation, messages: Sequence[Message]) -> None: ...


class TagService:
    def __init__(self, tagged: TaggedRecords, conversations: ConversationRewrites, workspace: Workspace) -> None:
        self._tagged = tagged
        self._conversations = conversations
        self._workspace = workspace

    def _tag(self, tag: str) -> str:
        return clean_tags([tag], self._workspace.tags, "tag")[0]

    def conversations(self, agent: AgentPrincipal, tag: str, *, cursor: str | None, limit: int) -> Page[Conversation]:
        """The conversations with ``tag`` that the agent may read, newest first (two requests)."""
        page = self._tagged.tagged_conversations(self._tag(tag), cursor=cursor, limit=limit)
        visibility = self._workspace.agent_visibility
        readable = [c for c in page.items if decide(agent, Action.READ, Resource.conversation(c), visibility).allowed]
        return Page[Conversation](items=readable, next_cursor=page.next_cursor)

    def tickets(self, agent: AgentPrincipal, tag: str, *, cursor: str | None, limit: int) -> Page[Ticket]:
        """The tickets with ``tag`` that the agent may read, newest first (two requests)."""
        page = self._tagged.tagged_tickets(self._tag(tag), cursor=cursor, limit=limit)
        visibility = self._workspace.agent_visibility
        readable = [t for t in page.items if decide(agent, Action.READ, Resource.ticket(t), visibility).allowed]
        return Page[Ticket](items=readable, next_cursor=page.next_cursor)

    def retag_conversation(
        self, agent: AgentPrincipal, conversation_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> Conversation:
        """Add and remove tags on a conversation the agent works on: one read and one write."""
        added = clean_tags(add, self._workspace.tags, "add_tags")
        removed = clean_tags(remove, self._workspace.tags, "remove_tags")

        def attempt() -> Conversation:
            conversation, _ = self._conversations.read_conversation_and_macro(conversation_id, None)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} not found")
            authorize(agent, Action.WORK, Resource.conversation(conversation), self._workspace.agent_visibility)
            tags = retagged(conversation.tags, added, removed)
            if tags == conversation.tags:
                return conversation
            after = conversation.model_copy(update={"tags": tags, "updated_at": utc_now()})
            self._conversations.rewrite_conversation(conversation, after, [])
            return after

        return retry_on_conflict(
            attempt,
            attempts=TAG_ATTEMPTS,
            conflicts=(ConditionFailed,),
            gave_up=lambda: Conflict(f"conversation {conversation_id} is changing too fast: try again"),
        )
