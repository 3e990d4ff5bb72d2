"""Converts between the table's items (PynamoDB models) and the domain's pydantic models.

Also holds the key-building functions, so the key design in ``table.py`` is applied in one place.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

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


def agent_from_item(item: AgentItem) -> Agent:
    return Agent(
        id=item.id,
        name=item.name,
        email=item.email,
        teams=list(item.teams or []),
        availability=Availability(item.availability),
        updated_at=item.updated_at,
    )


def conversation_from_item(item: ConversationItem) -> Conversation:
    return Conversation(
        id=item.id,
        customer_id=item.customer_id,
        customer_name=item.customer_name,
        customer_email=item.customer_email,
        customer_is_visitor=bool(item.customer_is_visitor),
        verified_attributes=dict(item.verified_attributes or {}),
        identity_verified_at=item.identity_verified_at,
        status=ConversationStatus(item.status),
        team_id=item.team_id,
        assignee_id=item.assignee_id,
        ticket_id=item.ticket_id,
        context=_context(item.context),
        preview=item.preview,
        snoozed_until=item.snoozed_until,
        capsule=Capsule.model_validate(item.capsule) if item.capsule else None,
        bot=BotState.model_validate(item.bot) if item.bot else None,
        channel=Channel(item.channel or Channel.MESSENGER.value),
        email_subject=item.email_subject,
        tags=list(item.tags or []),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def conversation_item(conversation: Conversation) -> ConversationItem:
    return ConversationItem(
        pk=conversation_pk(conversation.id),
        sk=META,
        id=conversation.id,
        customer_id=conversation.customer_id,
        customer_name=conversation.customer_name,
        customer_email=conversation.customer_email,
        customer_is_visitor=conversation.customer_is_visitor,
        verified_attributes=conversation.verified_attributes or None,
        identity_verified_at=conversation.identity_verified_at,
        status=conversation.status.value,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
        ticket_id=conversation.ticket_id,
        context=_dump_context(conversation.context),
        preview=conversation.preview,
        snoozed_until=conversation.snoozed_until,
        capsule=conversation.capsule.model_dump(mode="json") if conversation.capsule else None,
        bot=conversation.bot.model_dump(mode="json") if conversation.bot else None,
        channel=conversation.channel.value if conversation.channel is not Channel.MESSENGER else None,
        email_subject=conversation.email_subject,
        tags=conversation.tags or None,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        gsi1pk=customer_key(conversation.customer_id),
        gsi1sk=CUSTOMER_CONVERSATIONS + conversation.id,
        gsi2pk=team_conversations_key(conversation.team_id, conversation.status.value),
        gsi2sk=conversation.id,
        gsi3pk=assignee_conversations_key(conversation.assignee_id),
        gsi3sk=conversation.id,
        gsi8pk=wake[0] if (wake := wake_keys(conversation)) else None,
        gsi8sk=wake[1] if wake else None,
    )


def message_from_item(item: MessageItem) -> Message:
    return Message(
        id=item.id,
        conversation_id=item.conversation_id,
        author=author(item.author_type, item.author_id, item.author_name),
        body=item.body,
        kind=MessageKind(item.message_kind or MessageKind.TEXT.value),
        attachments=_refs(item.attachments),
        mentions=list(item.mentions or []),
        options=[MessageOption.model_validate(o) for o in item.options or []],
        internal=bool(item.internal),
        channel=Channel(item.channel) if item.channel else None,
        created_at=item.created_at,
    )


def message_item(message: Message, customer_id: str) -> MessageItem:
    return MessageItem(
        pk=conversation_pk(message.conversation_id),
        sk=f"MSG#{message.id}",
        id=message.id,
        conversation_id=message.conversation_id,
        customer_id=customer_id,
        internal=message.internal,
        author_type=message.author.type.value,
        author_id=message.author.id,
        author_name=message.author.name,
        body=message.body,
        message_kind=message.kind.value,
        attachments=_dump_refs(message.attachments),
        mentions=message.mentions or None,
        options=[o.model_dump() for o in message.options] or None,
        channel=message.channel.value if message.channel else None,
        created_at=message.created_at,
    )


def ticket_from_item(item: TicketItem) -> Ticket:
    return Ticket(
        id=item.id,
        number=int(item.number),
        category=TicketCategory(item.category or TicketCategory.CUSTOMER.value),
        linked_ticket_id=item.linked_ticket_id,
        tracker_id=item.tracker_id,
        ticket_type_id=item.ticket_type_id,
        title=item.title,
        state_id=item.state_id,
        state_category=StateCategory(item.state_category),
        attributes=dict(item.attributes or {}),
        team_id=item.team_id,
        assignee_id=item.assignee_id,
        priority=Priority(item.priority),
        customer_id=item.customer_id,
        customer_name=item.customer_name,
        customer_email=item.customer_email,
        conversation_id=item.conversation_id,
        context=_context(item.context),
        verified_attributes=dict(item.verified_attributes or {}),
        rating=Rating.model_validate(item.rating) if item.rating else None,
        capsule=Capsule.model_validate(item.capsule) if item.capsule else None,
        sla_due_at=item.sla_due_at,
        sla=item.sla or None,
        waiting_since=item.waiting_since,
        reminded_at=item.reminded_at,
        approval=Approval.model_validate(item.approval) if item.approval else None,
        workflow_token=item.workflow_token,
        workflow_version=int(item.workflow_version) if item.workflow_version is not None else None,
        tags=list(item.tags or []),
        created_by=author(item.created_by_type, item.created_by_id, None),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
    )


def ticket_item(ticket: Ticket) -> TicketItem:
    item = TicketItem(
        pk=ticket_pk(ticket.id),
        sk=META,
        id=ticket.id,
        number=ticket.number,
        category=ticket.category.value,
        linked_ticket_id=ticket.linked_ticket_id,
        tracker_id=ticket.tracker_id,
        ticket_type_id=ticket.ticket_type_id,
        title=ticket.title,
        state_id=ticket.state_id,
        state_category=ticket.state_category.value,
        attributes=ticket.attributes,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        priority=ticket.priority.value,
        customer_id=ticket.customer_id,
        customer_name=ticket.customer_name,
        customer_email=ticket.customer_email,
        conversation_id=ticket.conversation_id,
        context=_dump_context(ticket.context),
        verified_attributes=ticket.verified_attributes or None,
        rating=ticket.rating.model_dump(mode="json") if ticket.rating else None,
        capsule=ticket.capsule.model_dump(mode="json") if ticket.capsule else None,
        sla_due_at=ticket.sla_due_at,
        sla=ticket.sla,
        waiting_since=ticket.waiting_since,
        reminded_at=ticket.reminded_at,
        approval=ticket.approval.model_dump(mode="json") if ticket.approval else None,
        workflow_token=ticket.workflow_token,
        workflow_version=ticket.workflow_version,
        tags=ticket.tags or None,
        created_by_type=ticket.created_by.type.value,
        created_by_id=ticket.created_by.id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
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


def part_from_item(item: TicketPartItem) -> TicketPart:
    return TicketPart(
        id=item.id,
        ticket_id=item.ticket_id,
        type=PartType(item.part_type),
        author=author(item.author_type, item.author_id, item.author_name),
        body=item.body,
        changes=item.changes,
        attachments=_refs(item.attachments),
        visible_to_customer=bool(item.visible_to_customer),
        created_at=item.created_at,
    )


def part_item(part: TicketPart) -> TicketPartItem:
    return TicketPartItem(
        pk=ticket_pk(part.ticket_id),
        sk=f"PART#{part.id}",
        id=part.id,
        ticket_id=part.ticket_id,
        part_type=part.type.value,
        author_type=part.author.type.value,
        author_id=part.author.id,
        author_name=part.author.name,
        body=part.body,
        changes=part.changes,
        attachments=_dump_refs(part.attachments),
        visible_to_customer=part.visible_to_customer,
        created_at=part.created_at,
    )


def attachment_from_item(item: AttachmentItem) -> Attachment:
    return Attachment(
        id=item.id,
        customer_id=item.customer_id,
        filename=item.filename,
        content_type=item.content_type,
        size=int(item.size),
        uploaded_by=author(item.uploaded_by_type, item.uploaded_by_id, None),
        conversation_id=item.conversation_id,
        ticket_id=item.ticket_id,
        created_at=item.created_at,
    )


def attachment_item(attachment: Attachment) -> AttachmentItem:
    return AttachmentItem(
        pk=attachment_pk(attachment.id),
        sk=META,
        id=attachment.id,
        customer_id=attachment.customer_id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        uploaded_by_type=attachment.uploaded_by.type.value,
        uploaded_by_id=attachment.uploaded_by.id,
        conversation_id=attachment.conversation_id,
        ticket_id=attachment.ticket_id,
        created_at=attachment.created_at,
    )
