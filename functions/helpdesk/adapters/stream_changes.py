"""Reads one record of the table's DynamoDB stream into the domain's ``CommittedChange``.

``StreamChange`` holds the record's parts; ``read_change`` decodes its images (DynamoDB JSON, with
boto3's ``TypeDeserializer``: a pure data-format helper, no client, no AWS call) into plain values and,
for the items that are domain objects, into those objects with the same mappers the stores use. What is
derived from a change (``services/domain_events.py`` and the rest) reads only the ``CommittedChange``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from pydantic import ValidationError

from helpdesk.adapters import mapping
from helpdesk.adapters.table import ConversationItem, MessageItem, TableItem, TicketItem
from helpdesk.domain.changes import CommittedChange, StreamRecordError, unreadable

__all__ = ["CommittedChange", "StreamChange", "StreamRecordError", "plain", "read_change"]


@dataclass(frozen=True)
class StreamChange:
    """The parts of one DynamoDB stream record the mapping needs; images are in DynamoDB JSON."""

    event_id: str
    event_name: Literal["INSERT", "MODIFY", "REMOVE"]
    sequence: str
    approximate_at: datetime
    new_image: Mapping[str, Any] | None = None
    old_image: Mapping[str, Any] | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StreamChange:
        """From a record as Lambda delivers it, or as ``dynamodbstreams.get_records`` returns it."""
        event_id = record.get("eventID")
        event_name = record.get("eventName")
        body = record.get("dynamodb")
        if not event_id or not isinstance(event_id, str):
            raise StreamRecordError("stream record has no 'eventID'")
        if event_name not in ("INSERT", "MODIFY", "REMOVE"):
            raise StreamRecordError(f"stream record {event_id}: 'eventName' must be INSERT, MODIFY or REMOVE")
        if not isinstance(body, Mapping) or not body.get("SequenceNumber"):
            raise StreamRecordError(f"stream record {event_id}: 'dynamodb.SequenceNumber' is missing")
        return cls(
            event_id=event_id,
            event_name=event_name,
            sequence=str(body["SequenceNumber"]),
            approximate_at=_approximate_time(body.get("ApproximateCreationDateTime"), event_id),
            new_image=body.get("NewImage"),
            old_image=body.get("OldImage"),
        )


def _approximate_time(value: Any, event_id: str) -> datetime:
    if isinstance(value, datetime):  # boto3 parses it
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):  # Lambda: epoch seconds
        return datetime.fromtimestamp(float(value), UTC)
    raise StreamRecordError(f"stream record {event_id}: 'dynamodb.ApproximateCreationDateTime' is missing")


_deserializer = TypeDeserializer()


def plain(image: Mapping[str, Any] | None) -> dict[str, Any]:
    if not image:
        return {}
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def _item(image: Mapping[str, Any]) -> TableItem:
    return TableItem.from_raw_data(dict(image))


def read_change(record: Mapping[str, Any]) -> CommittedChange:
    """The committed change a stream record stands for (as Lambda delivers it, or as
    ``dynamodbstreams.get_records`` returns it). Raises ``StreamRecordError`` naming the fields of an
    item that doesn't match its model, never their values."""
    change = StreamChange.from_record(record)
    new, old = plain(change.new_image), plain(change.old_image)
    try:
        return CommittedChange(
            event_id=change.event_id,
            event_name=change.event_name,
            sequence=change.sequence,
            approximate_at=change.approximate_at,
            new=new,
            old=old,
            **_domain_objects(change, (new or old).get("kind")),
        )
    except (ValidationError, KeyError, ValueError, TypeError) as error:
        keys = "/".join(str((new or old).get(key, "?")) for key in ("PK", "SK"))
        raise unreadable(change.event_id, keys, error) from None


def _domain_objects(change: StreamChange, kind: Any) -> dict[str, Any]:
    """The conversation, a new message, or the ticket (before and after) a change's images are, if any;
    or the conversation or ticket a removal took away."""
    if change.event_name == "REMOVE" and kind in ("conversation", "ticket") and change.old_image is not None:
        gone = _item(change.old_image)
        if isinstance(gone, ConversationItem):
            return {"removed": mapping.conversation_from_item(gone)}
        if isinstance(gone, TicketItem):
            return {"removed": mapping.ticket_from_item(gone)}
    if change.event_name == "REMOVE" or change.new_image is None:
        return {}
    if kind not in ("conversation", "ticket") and not (kind == "message" and change.event_name == "INSERT"):
        return {}
    item = _item(change.new_image)
    if isinstance(item, ConversationItem):
        return {"conversation": mapping.conversation_from_item(item)}
    if isinstance(item, MessageItem):
        return {"message": mapping.message_from_item(item), "message_customer_id": item.customer_id}
    if isinstance(item, TicketItem):
        objects: dict[str, Any] = {"ticket": mapping.ticket_from_item(item)}
        if change.old_image is not None:
            before = _item(change.old_image)
            assert isinstance(before, TicketItem)
            objects["ticket_before"] = mapping.ticket_from_item(before)
        return objects
    return {}
