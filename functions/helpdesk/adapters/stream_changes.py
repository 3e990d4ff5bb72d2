"""One change from the table's DynamoDB stream, read: the record's parts and its images as plain values.

``StreamChange`` is what the mapping to domain events (``domain_events``) and the stream consumer's
other duties need of a stream record; the image helpers decode DynamoDB JSON with boto3's
``TypeDeserializer`` (a pure data-format helper: no client, no AWS call). ``workflow_to_wake`` and
``bot_finished`` are the two other things the stream consumer reads off a change: a parked workflow
to wake, and the end of the bot's part in a conversation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer

from helpdesk.adapters.table import TableItem


class StreamRecordError(ValueError):
    """A stream record that doesn't look like one from the table's stream; says what is missing."""


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


def table_item(image: Mapping[str, Any]) -> TableItem:
    return TableItem.from_raw_data(dict(image))


def json_map(value: Any) -> dict[str, Any]:
    """A map attribute, stored either as a DynamoDB map or (``JSONAttribute``) as a JSON string."""
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, dict) else {}


def when(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, list) else []


WORKFLOW_FIELDS = ("state_category", "sla", "approval", "waiting_since")
"""Ticket fields whose change a parked workflow must look at (its next deadline may have moved)."""


def workflow_to_wake(change: StreamChange) -> str | None:
    """The task token of a ticket's parked workflow, when this committed change matters to it.

    The write that parks the workflow (a new token) wakes nothing; a change to the state, the clocks
    or the approval does, so the workflow re-checks at once instead of at its old deadline.
    """
    if change.event_name != "MODIFY" or change.new_image is None or change.old_image is None:
        return None
    new, old = plain(change.new_image), plain(change.old_image)
    if new.get("kind") != "ticket" or not new.get("workflow_token"):
        return None
    if new.get("workflow_token") != old.get("workflow_token"):
        return None
    if all(new.get(name) == old.get(name) for name in WORKFLOW_FIELDS):
        return None
    return str(new["workflow_token"])


def bot_finished(change: StreamChange) -> tuple[str, str] | None:
    """(outcome, resolved_by) when this change ends the bot's part in a conversation, for the
    bot-resolution-rate metric: ``resolved`` by ``kb``/``custom_action``/``bot``, or ``handed_off``
    and ``ticket_created``."""
    if change.new_image is None:
        return None
    new = plain(change.new_image)
    if new.get("kind") != "conversation":
        return None
    old = plain(change.old_image) if change.old_image is not None else {}
    now, before = json_map(new.get("bot")), json_map(old.get("bot"))
    if not now.get("outcome") or before.get("outcome"):
        return None
    return str(now["outcome"]), str(now.get("resolved_by") or "unknown")
