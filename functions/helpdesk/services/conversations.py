"""Conversations: a customer starts one from the messenger; agents work it from the inbox."""

from __future__ import annotations

from helpdesk.adapters.repository import ConditionFailed, TableRepository
from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.models import (
    Author,
    ContextPackage,
    Conversation,
    ConversationPage,
    ConversationStatus,
    Customer,
    Message,
    Page,
    new_id,
    utc_now,
)
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.workspace import Workspace

PREVIEW_LENGTH = 140


def _clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidInput("message body can't be empty", [("body", "must contain some text")])
    return text


def _preview(body: str) -> str:
    return body if len(body) <= PREVIEW_LENGTH else body[: PREVIEW_LENGTH - 1] + "…"


class ConversationService:
    def __init__(self, repository: TableRepository, workspace: Workspace) -> None:
        self._repository = repository
        self._workspace = workspace

    # --- the customer's side ---------------------------------------------------------------------

    def start(self, customer: CustomerPrincipal, body: str, context: ContextPackage | None) -> ConversationPage:
        text = _clean_body(body)
        now = utc_now()
        conversation = Conversation(
            id=new_id(),
            customer_id=customer.user_id,
            customer_name=customer.name,
            customer_email=customer.email,
            status=ConversationStatus.OPEN,
            team_id=self._workspace.default_team,
            context=context,
            preview=_preview(text),
            created_at=now,
            updated_at=now,
        )
        message = Message(
            id=new_id(), conversation_id=conversation.id, author=customer.author, body=text, created_at=now
        )
        self._repository.start_conversation(
            Customer(user_id=customer.user_id, email=customer.email, name=customer.name),
            conversation,
            message,
        )
        return ConversationPage(conversation=conversation, messages=[message], next_cursor=message.id)

    def page_for_customer(
        self, customer: CustomerPrincipal, conversation_id: str, *, after: str | None, limit: int
    ) -> ConversationPage:
        conversation, messages, owner, _ = self._repository.conversation_page(conversation_id, after=after, limit=limit)
        if owner is None and conversation is None and after is not None:
            # Nothing new since the cursor and the conversation item is out of this page.
            conversation = self._repository.get_conversation(conversation_id)
            owner = conversation.customer_id if conversation else None
        if owner != customer.user_id:
            raise NotFound(f"conversation {conversation_id} not found")
        if conversation is None:
            conversation = self._repository.get_conversation(conversation_id)
            if conversation is None:  # pragma: no cover - deleted between two reads
                raise NotFound(f"conversation {conversation_id} not found")
        visible = [m for m in messages if not m.internal]
        cursor = messages[-1].id if messages else after
        return ConversationPage(conversation=conversation, messages=visible, next_cursor=cursor)

    def send_as_customer(self, customer: CustomerPrincipal, conversation_id: str, body: str) -> Message:
        return self._append(
            conversation_id,
            customer.user_id,
            customer.author,
            _clean_body(body),
            internal=False,
            as_owner=True,
        )

    def list_for_customer(self, customer: CustomerPrincipal, *, cursor: str | None, limit: int) -> Page[Conversation]:
        return self._repository.list_customer_conversations(customer.user_id, cursor=cursor, limit=limit)

    # --- the agent's side ------------------------------------------------------------------------

    def inbox(self, team_id: str, status: ConversationStatus, *, cursor: str | None, limit: int) -> Page[Conversation]:
        if self._workspace.team(team_id) is None:
            raise InvalidInput(f"unknown team '{team_id}'", [("team_id", f"'{team_id}' is not a team")])
        return self._repository.list_team_conversations(team_id, status, cursor=cursor, limit=limit)

    def page_for_agent(self, conversation_id: str, *, after: str | None, limit: int) -> ConversationPage:
        conversation, messages, _, _ = self._repository.conversation_page(conversation_id, after=after, limit=limit)
        if conversation is None:
            conversation = self._repository.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        cursor = messages[-1].id if messages else after
        return ConversationPage(conversation=conversation, messages=messages, next_cursor=cursor)

    def reply_as_agent(self, agent: AgentPrincipal, conversation_id: str, body: str, *, internal: bool) -> Message:
        text = _clean_body(body)
        conversation = self._repository.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return self._append(conversation_id, conversation.customer_id, agent.author, text, internal, as_owner=False)

    def _append(
        self,
        conversation_id: str,
        customer_id: str,
        author: Author,
        text: str,
        internal: bool,
        *,
        as_owner: bool,
    ) -> Message:
        message = Message(
            id=new_id(),
            conversation_id=conversation_id,
            author=author,
            body=text,
            internal=internal,
            created_at=utc_now(),
        )
        try:
            self._repository.add_message(
                customer_id,
                message,
                preview=None if internal else _preview(text),
                owner=customer_id if as_owner else None,
                must_be_open=as_owner,
            )
        except ConditionFailed as failure:
            current = self._repository.get_conversation(conversation_id)
            if current is None or current.customer_id != customer_id:
                raise NotFound(f"conversation {conversation_id} not found") from failure
            raise Conflict(f"conversation {conversation_id} is closed: start a new conversation") from failure
        return message
