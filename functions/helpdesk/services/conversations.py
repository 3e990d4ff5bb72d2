"""Conversations: a customer (or anonymous visitor) starts one in the messenger; agents work it from the inbox."""

from __future__ import annotations

from helpdesk.adapters.repository import ConditionFailed, TableRepository
from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.models import (
    AttachmentRef,
    Author,
    AuthorType,
    ContextPackage,
    Conversation,
    ConversationPage,
    ConversationStatus,
    Customer,
    Message,
    MessageKind,
    Page,
    PartType,
    TicketPart,
    new_id,
    utc_now,
)
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.workspace import Workspace

PREVIEW_LENGTH = 140
FRESH_TOKEN_SECONDS = 10 * 60
"""In-app verification needs a token issued this recently: the app just vouched for the customer."""


def _clean_body(body: str, *, attachments: list[AttachmentRef] | None = None) -> str:
    text = body.strip()
    if not text and not attachments:
        raise InvalidInput("message body can't be empty", [("body", "must contain some text")])
    return text


def _preview(body: str, attachments: list[AttachmentRef]) -> str:
    text = body or ", ".join(f"📎 {a.filename}" for a in attachments)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def customer_record(customer: CustomerPrincipal) -> Customer:
    return Customer(user_id=customer.user_id, email=customer.email, name=customer.name, phone=customer.phone)


class ConversationService:
    def __init__(self, repository: TableRepository, workspace: Workspace) -> None:
        self._repository = repository
        self._workspace = workspace

    # --- the customer's side ---------------------------------------------------------------------

    def start(
        self,
        customer: CustomerPrincipal,
        body: str,
        context: ContextPackage | None,
        attachments: list[AttachmentRef] | None = None,
    ) -> ConversationPage:
        refs = attachments or []
        text = _clean_body(body, attachments=refs)
        now = utc_now()
        conversation = Conversation(
            id=new_id(),
            customer_id=customer.user_id,
            customer_name=customer.name,
            customer_email=customer.email,
            customer_is_visitor=customer.is_visitor,
            verified_attributes=dict(customer.verified_attributes),
            status=ConversationStatus.OPEN,
            team_id=self._workspace.default_team,
            context=context,
            preview=_preview(text, refs),
            created_at=now,
            updated_at=now,
        )
        message = Message(
            id=new_id(),
            conversation_id=conversation.id,
            author=customer.author,
            body=text,
            attachments=refs,
            created_at=now,
        )
        try:
            self._repository.start_conversation(customer_record(customer), conversation, message)
        except ConditionFailed as failure:
            raise Conflict("an attachment was already sent: upload it again") from failure
        return ConversationPage(conversation=conversation, messages=[message], next_cursor=message.id)

    def page_for_customer(
        self, customer: CustomerPrincipal, conversation_id: str, *, after: str | None, limit: int
    ) -> ConversationPage:
        conversation, messages, _ = self._repository.conversation_page(conversation_id, after=after, limit=limit)
        if conversation is None:
            # More new messages than a page: the conversation item is beyond it.
            conversation = self._repository.get_conversation(conversation_id)
        if conversation is None or conversation.customer_id != customer.user_id:
            raise NotFound(f"conversation {conversation_id} not found")
        visible = [m for m in messages if not m.internal]
        cursor = messages[-1].id if messages else after
        return ConversationPage(conversation=conversation, messages=visible, next_cursor=cursor)

    def send_as_customer(
        self,
        customer: CustomerPrincipal,
        conversation_id: str,
        body: str,
        attachments: list[AttachmentRef] | None = None,
    ) -> Message:
        refs = attachments or []
        text = _clean_body(body, attachments=refs)
        ticket_id = None
        if refs:
            # Files shared in a conversation that has a ticket go on the ticket's timeline too.
            conversation = self._repository.get_conversation(conversation_id)
            if conversation is None or conversation.customer_id != customer.user_id:
                raise NotFound(f"conversation {conversation_id} not found")
            ticket_id = conversation.ticket_id
        return self._append(
            conversation_id, customer.user_id, customer.author, text, refs, as_owner=True, ticket_id=ticket_id
        )

    def close(self, customer: CustomerPrincipal, conversation_id: str) -> Conversation:
        conversation = self._repository.get_conversation(conversation_id)
        if conversation is None or conversation.customer_id != customer.user_id:
            raise NotFound(f"conversation {conversation_id} not found")
        if conversation.status is ConversationStatus.CLOSED:
            return conversation
        try:
            self._repository.set_conversation_status(conversation, ConversationStatus.CLOSED, customer.user_id)
        except ConditionFailed as failure:
            raise NotFound(f"conversation {conversation_id} not found") from failure
        return conversation.model_copy(update={"status": ConversationStatus.CLOSED, "updated_at": utc_now()})

    def verify_identity(self, customer: CustomerPrincipal, conversation_id: str) -> Message:
        """The customer's app vouched for them again with a fresh token: record it for the agent."""
        if customer.is_visitor:
            raise InvalidInput(
                "a visitor can't be verified", [("authorization", "send a token signed by the business")]
            )
        now = utc_now()
        issued = customer.token_issued_at
        if issued is None or now.timestamp() - issued > FRESH_TOKEN_SECONDS:
            raise InvalidInput(
                "verification needs a freshly issued token",
                [("authorization", f"the token's 'iat' must be within the last {FRESH_TOKEN_SECONDS // 60} minutes")],
            )
        message = Message(
            id=new_id(),
            conversation_id=conversation_id,
            author=customer.author,
            body="Identity verified in the app",
            kind=MessageKind.IDENTITY_VERIFIED,
            created_at=now,
        )
        try:
            self._repository.record_verification(conversation_id, customer.user_id, message)
        except ConditionFailed as failure:
            raise NotFound(f"conversation {conversation_id} not found") from failure
        return message

    def merge_visitor(self, customer: CustomerPrincipal, visitor: CustomerPrincipal) -> int:
        """A visitor identified themselves: their conversations and tickets become the customer's."""
        if customer.is_visitor or not visitor.is_visitor:
            raise InvalidInput(
                "merge a visitor into an identified customer",
                [("visitor_token", "must be a visitor token, sent with the customer's own token")],
            )
        return self._repository.merge_visitor(visitor.user_id, customer_record(customer))

    def list_for_customer(self, customer: CustomerPrincipal, *, cursor: str | None, limit: int) -> Page[Conversation]:
        return self._repository.list_customer_conversations(customer.user_id, cursor=cursor, limit=limit)

    # --- the agent's side ------------------------------------------------------------------------

    def inbox(self, team_id: str, status: ConversationStatus, *, cursor: str | None, limit: int) -> Page[Conversation]:
        if self._workspace.team(team_id) is None:
            raise InvalidInput(f"unknown team '{team_id}'", [("team_id", f"'{team_id}' is not a team")])
        return self._repository.list_team_conversations(team_id, status, cursor=cursor, limit=limit)

    def page_for_agent(self, conversation_id: str, *, after: str | None, limit: int) -> ConversationPage:
        conversation, messages, _ = self._repository.conversation_page(conversation_id, after=after, limit=limit)
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
        return self._append(
            conversation_id, conversation.customer_id, agent.author, text, [], as_owner=False, internal=internal
        )

    def request_verification(self, agent: AgentPrincipal, conversation_id: str) -> Message:
        """Ask the customer's app to vouch for them again; the messenger answers with a fresh token."""
        conversation = self._repository.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        if conversation.customer_is_visitor:
            raise Conflict("this customer is an anonymous visitor: they must sign in before they can be verified")
        return self._append(
            conversation_id,
            conversation.customer_id,
            agent.author,
            "To keep your account safe, please confirm it's you.",
            [],
            as_owner=False,
            kind=MessageKind.VERIFICATION_REQUEST,
        )

    # --- shared ----------------------------------------------------------------------------------

    def _append(
        self,
        conversation_id: str,
        customer_id: str,
        author: Author,
        text: str,
        attachments: list[AttachmentRef],
        *,
        as_owner: bool,
        internal: bool = False,
        kind: MessageKind = MessageKind.TEXT,
        ticket_id: str | None = None,
    ) -> Message:
        now = utc_now()
        message = Message(
            id=new_id(),
            conversation_id=conversation_id,
            author=author,
            body=text,
            kind=kind,
            attachments=attachments,
            internal=internal,
            created_at=now,
        )
        part = (
            TicketPart(
                id=new_id(),
                ticket_id=ticket_id,
                type=PartType.ATTACHMENT,
                author=author,
                body=text or None,
                attachments=attachments,
                visible_to_customer=True,
                created_at=now,
            )
            if ticket_id and attachments
            else None
        )
        try:
            self._repository.add_message(
                customer_id,
                message,
                preview=None if internal else _preview(text, attachments),
                owner=customer_id if as_owner else None,
                must_be_open=as_owner and author.type is AuthorType.CUSTOMER,
                ticket_part=part,
            )
        except ConditionFailed as failure:
            current = self._repository.get_conversation(conversation_id)
            if current is None or current.customer_id != customer_id:
                raise NotFound(f"conversation {conversation_id} not found") from failure
            if current.status is ConversationStatus.CLOSED:
                raise Conflict(f"conversation {conversation_id} is closed: start a new conversation") from failure
            raise Conflict("an attachment was already sent: upload it again") from failure
        return message
