"""Converts between the table's items (PynamoDB models) and the domain's pydantic models.

Also holds the key-building functions, so the key design in ``table.py`` is applied in one place.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pydantic import BaseModel

from helpdesk.adapters.table import (
    AgentItem,
    AttachmentItem,
    ConversationItem,
    MessageItem,
    TicketItem,
    TicketPartItem,
)
from helpdesk.domain.models import (
    Agent,
    Approval,
    Attachment,
    AttachmentRef,
    Author,
    AuthorType,
    Availability,
    BotState,
    Capsule,
    Channel,
    ContextPackage,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    MessageOption,
    PartType,
    Priority,
    Rating,
    Ticket,
    TicketCategory,
    TicketPart,
)
from helpdesk.domain.workspace import StateCategory

META = "~META"
UNASSIGNED = "unassigned"


# --- keys -----------------------------------------------------------------------------------------


def conversation_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def ticket_pk(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def object_pk(object_type: str, object_id: str) -> str:
    return f"OBJECT#{object_type}#{object_id}"


def ticket_objects(ticket: Ticket) -> set[tuple[str, str]]:
    """The business's objects a ticket is about: the one the customer was viewing, and ``<type>_id`` attributes."""
    objects: set[tuple[str, str]] = set()
    if ticket.context is not None and ticket.context.object is not None:
        objects.add((ticket.context.object.type, ticket.context.object.id))
    for key, value in ticket.attributes.items():
        if key.endswith("_id") and isinstance(value, str) and value and len(value) <= 200:
            objects.add((key.removesuffix("_id"), value))
    return objects


def attachment_pk(attachment_id: str) -> str:
    return f"ATTACHMENT#{attachment_id}"


def customer_pk(user_id: str) -> str:
    return f"CUSTOMER#{user_id}"


CUSTOMER_CONVERSATIONS = "CONV#"
CUSTOMER_TICKETS = "TICKET#"
"""Sort-key prefixes of a customer's conversations and tickets in the ``by_customer`` index."""
CUSTOMER_PROFILE = "~PROFILE"
"""The profile's sort key in the ``by_customer`` index: after every ``TICKET#``, so one Query from the
newest end returns the profile and then the customer's tickets, newest first."""


def customer_key(customer_id: str) -> str:
    """A customer's partition of the ``by_customer`` index: their conversations and their tickets."""
    return f"CUSTOMER#{customer_id}"


def team_conversations_key(team_id: str, status: str) -> str:
    return f"TEAM#{team_id}#CONV#{status}"


def team_tickets_key(team_id: str, category: str) -> str:
    return f"TEAM#{team_id}#TICKET#{category}"


def assignee_tickets_key(assignee_id: str | None) -> str:
    return f"ASSIGNEE#{assignee_id or UNASSIGNED}#TICKET"


def type_tickets_key(ticket_type_id: str) -> str:
    return f"TYPE#{ticket_type_id}#TICKET"


def assignee_conversations_key(assignee_id: str | None) -> str:
    return f"ASSIGNEE#{assignee_id or UNASSIGNED}#CONV"


def state_tickets_key(team_id: str, ticket_type_id: str, state_id: str) -> str:
    return f"TEAM#{team_id}#STATE#{ticket_type_id}/{state_id}"


def priority_tickets_key(team_id: str, priority: str) -> str:
    return f"TEAM#{team_id}#PRIORITY#{priority}"


def sla_due_tickets_key(team_id: str) -> str:
    return f"TEAM#{team_id}#OPEN"


def sla_due_sort_key(ticket: Ticket) -> str | None:
    """Unresolved tickets with a deadline, soonest first; resolved ones leave the index."""
    if ticket.sla_due_at is None or ticket.state_category is StateCategory.RESOLVED:
        return None
    return f"{ticket.sla_due_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')}#{ticket.id}"


def wake_keys(conversation: Conversation) -> tuple[str, str] | None:
    """Where a snoozed conversation waits to be woken: partitioned by day, sorted by time."""
    if conversation.status is not ConversationStatus.SNOOZED or conversation.snoozed_until is None:
        return None
    at = conversation.snoozed_until.astimezone(UTC)
    return f"SNOOZED#{at.strftime('%Y-%m-%d')}", f"{at.strftime('%Y-%m-%dT%H:%M:%S')}#{conversation.id}"


CONVERSATION_TAGS, TICKET_TAGS = "CONV", "TICKET"


def tag_pk(subject: str, tag: str) -> str:
    """The partition of the conversations (``CONVERSATION_TAGS``) or tickets (``TICKET_TAGS``) with a tag."""
    return f"TAG#{subject}#{tag}"


def macro_pk(macro_id: str) -> str:
    return f"MACRO#{macro_id}"


def agent_macros_key(agent_id: str) -> str:
    return f"AGENT#{agent_id}#MACROS"


def agent_pk(agent_id: str) -> str:
    return f"AGENT#{agent_id}"


def roster_pk(team_id: str) -> str:
    return f"TEAM#{team_id}"


# --- items <-> domain -----------------------------------------------------------------------------


def author(author_type: str, author_id: str | None, author_name: str | None) -> Author:
    return Author(type=AuthorType(author_type), id=author_id, name=author_name)


def _refs(raw: Any) -> list[AttachmentRef]:
    return [AttachmentRef.model_validate(a) for a in raw or []]


def _dump_refs(refs: list[AttachmentRef]) -> list[dict[str, Any]] | None:
    return [r.model_dump() for r in refs] or None


def _context(raw: Any) -> ContextPackage | None:
    return ContextPackage.model_validate(raw) if raw else None


def _dump_context(context: ContextPackage | None) -> dict[str, Any] | None:
    return context.model_dump(mode="json", exclude_none=True) if context else None


def _load[M: BaseModel](model: type[M], raw: Any) -> M | None:
    """A model kept as JSON on an item (a rating, a capsule, an approval, the bot's state), if any."""
    return model.model_validate(raw) if raw else None


def _dump(value: BaseModel | None) -> dict[str, Any] | None:
    return value.model_dump(mode="json") if value else None


def _same(source: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields an item and its domain model hold alike (same name, same value), read from ``source``."""
    return {name: getattr(source, name) for name in names}


def agent_from_item(item: AgentItem) -> Agent:
    return Agent(
        id=item.id,
        name=item.name,
        email=item.email,
        teams=list(item.teams or []),
        availability=Availability(item.availability),
        updated_at=item.updated_at,
    )


_CONVERSATION_FIELDS = (
    "id",
    "customer_id",
    "customer_name",
    "customer_email",
    "identity_verified_at",
    "team_id",
    "assignee_id",
    "ticket_id",
    "preview",
    "snoozed_until",
    "email_subject",
    "created_at",
    "updated_at",
)


def conversation_from_item(item: ConversationItem) -> Conversation:
    return Conversation(
        **_same(item, _CONVERSATION_FIELDS),
        customer_is_visitor=bool(item.customer_is_visitor),
        verified_attributes=dict(item.verified_attributes or {}),
        status=ConversationStatus(item.status),
        context=_context(item.context),
        capsule=_load(Capsule, item.capsule),
        bot=_load(BotState, item.bot),
        channel=Channel(item.channel or Channel.MESSENGER.value),
        tags=list(item.tags or []),
    )


def conversation_item(conversation: Conversation) -> ConversationItem:
    return ConversationItem(
        pk=conversation_pk(conversation.id),
        sk=META,
        **_same(conversation, _CONVERSATION_FIELDS),
        customer_is_visitor=conversation.customer_is_visitor,
        verified_attributes=conversation.verified_attributes or None,
        status=conversation.status.value,
        context=_dump_context(conversation.context),
        capsule=_dump(conversation.capsule),
        bot=_dump(conversation.bot),
        channel=conversation.channel.value if conversation.channel is not Channel.MESSENGER else None,
        tags=conversation.tags or None,
        gsi1pk=customer_key(conversation.customer_id),
        gsi1sk=CUSTOMER_CONVERSATIONS + conversation.id,
        gsi2pk=team_conversations_key(conversation.team_id, conversation.status.value),
        gsi2sk=conversation.id,
        gsi3pk=assignee_conversations_key(conversation.assignee_id),
        gsi3sk=conversation.id,
        gsi8pk=wake[0] if (wake := wake_keys(conversation)) else None,
        gsi8sk=wake[1] if wake else None,
    )


_MESSAGE_FIELDS = ("id", "conversation_id", "body", "created_at")


def message_from_item(item: MessageItem) -> Message:
    return Message(
        **_same(item, _MESSAGE_FIELDS),
        author=author(item.author_type, item.author_id, item.author_name),
        kind=MessageKind(item.message_kind or MessageKind.TEXT.value),
        attachments=_refs(item.attachments),
        mentions=list(item.mentions or []),
        options=[MessageOption.model_validate(o) for o in item.options or []],
        internal=bool(item.internal),
        channel=Channel(item.channel) if item.channel else None,
    )


def message_item(message: Message, customer_id: str) -> MessageItem:
    return MessageItem(
        pk=conversation_pk(message.conversation_id),
        sk=f"MSG#{message.id}",
        **_same(message, _MESSAGE_FIELDS),
        customer_id=customer_id,
        internal=message.internal,
        author_type=message.author.type.value,
        author_id=message.author.id,
        author_name=message.author.name,
        message_kind=message.kind.value,
        attachments=_dump_refs(message.attachments),
        mentions=message.mentions or None,
        options=[o.model_dump() for o in message.options] or None,
        channel=message.channel.value if message.channel else None,
    )


_TICKET_FIELDS = (
    "id",
    "linked_ticket_id",
    "tracker_id",
    "ticket_type_id",
    "title",
    "state_id",
    "team_id",
    "assignee_id",
    "customer_id",
    "customer_name",
    "customer_email",
    "conversation_id",
    "sla_due_at",
    "waiting_since",
    "reminded_at",
    "workflow_token",
    "created_at",
    "updated_at",
)


def ticket_from_item(item: TicketItem) -> Ticket:
    return Ticket(
        **_same(item, _TICKET_FIELDS),
        number=int(item.number),
        category=TicketCategory(item.category or TicketCategory.CUSTOMER.value),
        state_category=StateCategory(item.state_category),
        attributes=dict(item.attributes or {}),
        priority=Priority(item.priority),
        context=_context(item.context),
        verified_attributes=dict(item.verified_attributes or {}),
        rating=_load(Rating, item.rating),
        capsule=_load(Capsule, item.capsule),
        sla=item.sla or None,
        approval=_load(Approval, item.approval),
        workflow_version=int(item.workflow_version) if item.workflow_version is not None else None,
        tags=list(item.tags or []),
        created_by=author(item.created_by_type, item.created_by_id, None),
        version=int(item.version or 0),
    )


def ticket_item(ticket: Ticket) -> TicketItem:
    item = TicketItem(
        pk=ticket_pk(ticket.id),
        sk=META,
        **_same(ticket, _TICKET_FIELDS),
        number=ticket.number,
        category=ticket.category.value,
        state_category=ticket.state_category.value,
        attributes=ticket.attributes,
        priority=ticket.priority.value,
        context=_dump_context(ticket.context),
        verified_attributes=ticket.verified_attributes or None,
        rating=_dump(ticket.rating),
        capsule=_dump(ticket.capsule),
        sla=ticket.sla,
        approval=_dump(ticket.approval),
        workflow_version=ticket.workflow_version,
        tags=ticket.tags or None,
        created_by_type=ticket.created_by.type.value,
        created_by_id=ticket.created_by.id,
        gsi2pk=team_tickets_key(ticket.team_id, ticket.state_category.value),
        gsi2sk=ticket.id,
        gsi3pk=assignee_tickets_key(ticket.assignee_id),
        gsi3sk=ticket.id,
        gsi4pk=type_tickets_key(ticket.ticket_type_id),
        gsi4sk=ticket.id,
        gsi5pk=state_tickets_key(ticket.team_id, ticket.ticket_type_id, ticket.state_id),
        gsi5sk=ticket.id,
        gsi6pk=priority_tickets_key(ticket.team_id, ticket.priority.value),
        gsi6sk=ticket.id,
    )
    if ticket.customer_id:
        item.gsi1pk = customer_key(ticket.customer_id)
        item.gsi1sk = CUSTOMER_TICKETS + ticket.id
    due = sla_due_sort_key(ticket)
    if due is not None:
        item.gsi7pk = sla_due_tickets_key(ticket.team_id)
        item.gsi7sk = due
    return item


_PART_FIELDS = ("id", "ticket_id", "body", "changes", "created_at")


def part_from_item(item: TicketPartItem) -> TicketPart:
    return TicketPart(
        **_same(item, _PART_FIELDS),
        type=PartType(item.part_type),
        author=author(item.author_type, item.author_id, item.author_name),
        attachments=_refs(item.attachments),
        visible_to_customer=bool(item.visible_to_customer),
    )


def part_item(part: TicketPart) -> TicketPartItem:
    return TicketPartItem(
        pk=ticket_pk(part.ticket_id),
        sk=f"PART#{part.id}",
        **_same(part, _PART_FIELDS),
        part_type=part.type.value,
        author_type=part.author.type.value,
        author_id=part.author.id,
        author_name=part.author.name,
        attachments=_dump_refs(part.attachments),
        visible_to_customer=part.visible_to_customer,
    )


_ATTACHMENT_FIELDS = ("id", "customer_id", "filename", "content_type", "conversation_id", "ticket_id", "created_at")


def attachment_from_item(item: AttachmentItem) -> Attachment:
    return Attachment(
        **_same(item, _ATTACHMENT_FIELDS),
        size=int(item.size),
        uploaded_by=author(item.uploaded_by_type, item.uploaded_by_id, None),
    )


def attachment_item(attachment: Attachment) -> AttachmentItem:
    return AttachmentItem(
        pk=attachment_pk(attachment.id),
        sk=META,
        **_same(attachment, _ATTACHMENT_FIELDS),
        size=attachment.size,
        uploaded_by_type=attachment.uploaded_by.type.value,
        uploaded_by_id=attachment.uploaded_by.id,
    )
