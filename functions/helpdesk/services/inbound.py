"""Events from the business's own systems (e.g. ``OrderUpdated``), put on the bus by them.

Every ticket about the object (the order the customer was looking at, or named in an ``order_id``
attribute) gets a timeline part; when the change matters to the customer (the event says
``customer_visible``), that part is visible to them, which sends them a status update through the
event stream like any other customer-visible change. A redelivered event adds nothing: the part's
id is derived from the event's id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from ulid import ULID

from helpdesk.domain.models import Author, AuthorType, PartType, TicketCategory, TicketPart, utc_now
from helpdesk.services.ports import TicketRecords

MAX_TICKETS_PER_EVENT = 100


class ObjectUpdate(BaseModel):
    """The ``detail`` of an inbound event about one object (``OrderUpdated``: ``object_type`` is ``order``)."""

    model_config = ConfigDict(extra="allow")

    object_id: str = Field(min_length=1, max_length=200, validation_alias=AliasChoices("object_id", "order_id"))
    status: str = Field(min_length=1, max_length=100)
    message: str = Field(min_length=1, max_length=2000, description="What to tell the customer")
    customer_visible: bool = True


INBOUND_TYPES = {"OrderUpdated": "order"}
"""Inbound detail-type -> the object type it is about."""


def stable_part_id(event_id: str, ticket_id: str, at: datetime) -> str:
    """A ULID with the event's time and randomness from (event, ticket): the same event maps to the same id."""
    digest = hashlib.sha256(f"{event_id}:{ticket_id}".encode()).digest()
    timestamp = int(at.timestamp() * 1000).to_bytes(6, "big")
    return str(ULID.from_bytes(timestamp + digest[:10]))


class InboundEventService:
    def __init__(self, tickets: TicketRecords) -> None:
        self._store = tickets

    def apply(self, event: dict[str, Any]) -> int:
        """Record the event on the tickets about its object; returns how many tickets got a new part."""
        detail_type = str(event.get("detail-type", ""))
        object_type = INBOUND_TYPES.get(detail_type)
        if object_type is None:
            raise ValueError(f"no inbound event of type '{detail_type}' is handled")
        update = ObjectUpdate.model_validate(event.get("detail") or {})
        source = str(event.get("source", "external"))
        at = _event_time(event.get("time"))
        author = Author(type=AuthorType.BOT, id=source, name=source)
        added = 0
        for ticket_id in self._store.tickets_about(object_type, update.object_id, limit=MAX_TICKETS_PER_EVENT):
            ticket = self._store.get_ticket(ticket_id)
            if ticket is None:
                continue
            part = TicketPart(
                id=stable_part_id(str(event.get("id", "")), ticket_id, at),
                ticket_id=ticket_id,
                type=PartType.EXTERNAL_UPDATE,
                author=author,
                body=update.message,
                changes={"object": {"type": object_type, "id": update.object_id}, "status": update.status},
                visible_to_customer=update.customer_visible and ticket.category is TicketCategory.CUSTOMER,
                created_at=at,
            )
            added += self._store.add_ticket_part(part)
        return added


def _event_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return utc_now()
