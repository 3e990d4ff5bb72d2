"""Decodes the table's DynamoDB stream records into the domain's ``TableChange`` for the live fan-out.

Images are DynamoDB JSON (as Lambda delivers them, or as ``dynamodbstreams.get_records`` returns
them); each becomes the item's PynamoDB model (chosen by its ``kind``) and then the domain object the
repositories map it to. Items the live channel doesn't push (profiles, counters, deliveries...) are
skipped: ``decode`` returns None for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpdesk.adapters import mapping
from helpdesk.adapters.live_items import LiveConnectionItem, LiveSubscriptionItem, UnreadItem
from helpdesk.adapters.live_subscribers import subscriber_from_item
from helpdesk.adapters.table import (
    AgentItem,
    ConversationItem,
    MessageItem,
    TableItem,
    TicketItem,
    TicketPartItem,
)
from helpdesk.domain.live import (
    LiveConnection,
    LiveSubscription,
    StoredMessage,
    TableChange,
    UnreadCount,
)

PUSHED_KINDS = frozenset(
    {"conversation", "message", "ticket", "ticket_part", "agent", "unread", "live_connection", "live_subscription"}
)
"""The item kinds whose changes the live channel pushes (the fan-out's event source filter too)."""


class StreamRecordInvalid(ValueError):
    """A record that isn't one of the table's stream records; says what is missing, never item values."""


def _domain(item: TableItem) -> Any:
    match item:
        case ConversationItem():
            return mapping.conversation_from_item(item)
        case MessageItem():
            return StoredMessage(message=mapping.message_from_item(item), customer_id=item.customer_id)
        case TicketItem():
            return mapping.ticket_from_item(item)
        case TicketPartItem():
            return mapping.part_from_item(item)
        case AgentItem():
            return mapping.agent_from_item(item)
        case UnreadItem():
            return UnreadCount(
                thread_type="ticket" if item.thread_type == "ticket" else "conversation",
                thread_id=item.thread_id,
                unread=int(item.unread or 0),
                updated_at=item.updated_at,
            )
        case LiveConnectionItem():
            return LiveConnection(
                subscriber=subscriber_from_item(item), presence=item.presence, connected_at=item.connected_at
            )
        case LiveSubscriptionItem():
            return LiveSubscription(subscriber=subscriber_from_item(item), topic=item.topic)
    return None


def _kind(image: Mapping[str, Any] | None) -> str | None:
    if not image:
        return None
    value = image.get("kind")
    return str(value.get("S")) if isinstance(value, Mapping) and value.get("S") else None


def decode(record: Mapping[str, Any]) -> TableChange | None:
    """The change one stream record stands for, or None when the live channel doesn't push its item."""
    event_id, event_name, body = record.get("eventID"), record.get("eventName"), record.get("dynamodb")
    if (
        not isinstance(event_id, str)
        or event_name not in ("INSERT", "MODIFY", "REMOVE")
        or not isinstance(body, Mapping)
    ):
        raise StreamRecordInvalid("not a DynamoDB stream record: eventID, eventName and dynamodb are required")
    sequence = body.get("SequenceNumber")
    if not sequence:
        raise StreamRecordInvalid(f"stream record {event_id}: dynamodb.SequenceNumber is missing")
    new_image, old_image = body.get("NewImage"), body.get("OldImage")
    kind = _kind(new_image) or _kind(old_image)
    if kind not in PUSHED_KINDS:
        return None
    new = _domain(TableItem.from_raw_data(dict(new_image))) if new_image else None
    old = _domain(TableItem.from_raw_data(dict(old_image))) if old_image else None
    image = new_image or old_image or {}
    customer = image.get("customer_id", {}).get("S") if kind == "unread" else None
    return TableChange(
        event_id=event_id,
        event_name=event_name,
        sequence=str(sequence),
        kind=kind,
        new=new,
        old=old,
        customer_id=customer,
    )
