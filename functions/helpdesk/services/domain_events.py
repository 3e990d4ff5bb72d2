"""Domain events and customer status updates derived from one change committed to the table.

The table's DynamoDB stream (new and old images) is the only source: an event exists if and only if
its change was committed. Delivery is at least once, so everything here is deterministic for one
stream record: a redelivered record yields the same events with the same ids.

Every event's ``detail`` starts with the same envelope:

``event_id``
    uuid5 of the stream record's ``eventID`` and the detail type (and the SLA clock, for SLA events):
    the key consumers de-duplicate on.
``occurred_at``
    When the change happened: the domain's own timestamp where the item has one, else the stream
    record's approximate creation time.
``sequence``
    The stream record's ``SequenceNumber``. A ticket's items share one partition key, so its events
    come from one shard, in commit order; compare sequences as integers to order them.

Ticket events also carry the ticket's ``version`` where the ticket item itself changed.

What events hold: ids, states, counts and lengths. No names, emails, phone numbers or message text:
consumers that need the words fetch them with the ids. Status updates are different: they exist to
pass words on to the customer, so an agent's reply or a reminder travels in ``StatusUpdate.body``
on the status topic, whose only subscriber is the notifier.

The stream images are decoded with boto3's ``TypeDeserializer`` (a pure data-format helper: no
client, no AWS call), and items whose layout we own are turned into domain models with the same
mappers the repository uses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from helpdesk.domain.changes import (
    CommittedChange,
    StreamRecordError,
    bot_finished,
    iso,
    json_list,
    json_map,
    unreadable,
    when,
    workflow_to_wake,
)
from helpdesk.domain.events import DetailType, event_detail
from helpdesk.domain.models import AuthorType, Channel, Conversation, Message, Ticket, TicketCategory
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind
from helpdesk.domain.workspace import StateCategory, Workspace
from helpdesk.services.progress_events import bot_progress, sla_clocks

__all__ = [
    "CommittedChange",
    "DetailType",
    "DomainEvent",
    "MappedChange",
    "StreamRecordError",
    "bot_finished",
    "map_change",
    "workflow_to_wake",
]

EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c52-8a2b-4c59-9a53-5d0f1e2b7c41")
"""Fixed namespace of the uuid5 ids: changing it would change every id a consumer has seen."""

REMINDER_PART = "reminder"
EXTERNAL_UPDATE_PART = "external_update"

TicketLookup = Callable[[str], Ticket | None]
"""Reads a ticket by id: a timeline part's image doesn't say whose ticket it is on."""


class DomainEvent(BaseModel):
    """One event for the bus: ``detail`` as its model (``helpdesk.domain.events``) validated and serialized it."""

    model_config = ConfigDict(frozen=True)

    detail_type: DetailType
    detail: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])


@dataclass(frozen=True)
class MappedChange:
    events: list[DomainEvent] = field(default_factory=list)
    status_updates: list[StatusUpdate] = field(default_factory=list)


# --- ids ------------------------------------------------------------------------------------------


def event_id(stream_event_id: str, detail_type: DetailType, qualifier: str = "") -> str:
    """Stable id of one event of one stream record (``qualifier`` tells apart several of one type)."""
    name = f"{stream_event_id}/{detail_type.value}" + (f"/{qualifier}" if qualifier else "")
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


def status_update_id(stream_event_id: str, kind: StatusUpdateKind) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream_event_id}/status/{kind.value}"))


# --- the mapping ----------------------------------------------------------------------------------


class _Builder:
    """Collects the events and status updates of one change, with ids derived from its record."""

    def __init__(self, change: CommittedChange) -> None:
        self.change = change
        self.result = MappedChange()

    def event(self, detail_type: DetailType, at: datetime, data: dict[str, Any], qualifier: str = "") -> None:
        envelope = {
            "event_id": event_id(self.change.event_id, detail_type, qualifier),
            "occurred_at": iso(at),
            "sequence": self.change.sequence,
        }
        # Built through the detail type's model: a value its published schema refuses never goes out.
        detail = event_detail(detail_type, envelope | data)
        self.result.events.append(DomainEvent(detail_type=detail_type, detail=detail))

    def update(self, kind: StatusUpdateKind, ticket: Ticket, at: datetime, **fields: Any) -> None:
        assert ticket.customer_id is not None
        self.result.status_updates.append(
            StatusUpdate(
                id=status_update_id(self.change.event_id, kind),
                kind=kind,
                customer_id=ticket.customer_id,
                ticket_id=ticket.id,
                ticket_number=ticket.number,
                title=ticket.title,
                occurred_at=at,
                **(
                    {
                        "conversation_id": ticket.conversation_id,
                        "state_id": ticket.state_id,
                        "state_category": ticket.state_category.value,
                        "locale": ticket.context.locale if ticket.context else None,
                    }
                    | fields
                ),
            )
        )

    def conversation_reply(self, message: Message, customer_id: str) -> None:
        """An agent's reply in an email conversation: it goes out by email (the messenger has it already)."""
        self.result.status_updates.append(
            StatusUpdate(
                id=status_update_id(self.change.event_id, StatusUpdateKind.CONVERSATION_REPLY),
                kind=StatusUpdateKind.CONVERSATION_REPLY,
                customer_id=customer_id,
                conversation_id=message.conversation_id,
                message_id=message.id,
                body=message.body,
                author_name=message.author.name,
                occurred_at=message.created_at,
            )
        )


def map_change(change: CommittedChange, workspace: Workspace, tickets: TicketLookup) -> MappedChange:
    """The domain events and status updates one committed change stands for (often none).

    ``tickets`` is asked only for a customer-visible reply or reminder part, to find whose ticket it is.
    Raises ``StreamRecordError`` naming the fields of an item that doesn't match its model (without
    their values: items hold customers' details).
    """
    try:
        return _map(change, workspace, tickets)
    except (ValidationError, KeyError, ValueError, TypeError) as error:
        raise unreadable(change.event_id, change.keys, error) from None


def _map(change: CommittedChange, workspace: Workspace, tickets: TicketLookup) -> MappedChange:
    builder = _Builder(change)
    new, old = dict(change.new), dict(change.old)
    kind = change.kind
    if change.event_name == "REMOVE":
        return builder.result  # nothing in the domain is a deletion (expiring items are housekeeping)
    if kind == "conversation":
        _conversation(builder, change, new, old)
    elif kind == "message" and change.event_name == "INSERT":
        assert change.message is not None
        assert change.message_customer_id is not None
        _message(builder, change.message, change.message_customer_id)
    elif kind == "ticket":
        _ticket(builder, change, new, old, workspace)
    elif kind == "ticket_part" and change.event_name == "INSERT":
        _part(builder, change, new, tickets)
    elif kind == "link_renewal":
        _link_renewal(builder, new, change.approximate_at)
    elif kind == "data_request" and change.event_name == "MODIFY":
        _erasure_finished(builder, new, old, change.approximate_at)
    return builder.result


def _erasure_finished(builder: _Builder, new: dict[str, Any], old: dict[str, Any], at: datetime) -> None:
    """An erasure's audit entry was written (``services/customer_data.py``): announce ``CustomerErased``.
    The customer's id is in the image before the change only: the audit entry keeps none."""
    if new.get("request_kind") != "erasure" or new.get("status") != "done" or old.get("status") == "done":
        return
    customer_id = old.get("customer_id")
    if not customer_id:
        return
    counts = new.get("counts") or {}
    if isinstance(counts, str):
        counts = json.loads(counts)
    fields = ("items_deleted", "items_anonymized", "files_deleted", "lake_events_removed")
    builder.event(
        DetailType.CUSTOMER_ERASED,
        at,
        {"erasure_id": new["id"], "customer_id": customer_id} | {name: int(counts.get(name, 0)) for name in fields},
    )


def _link_renewal(builder: _Builder, new: dict[str, Any], at: datetime) -> None:
    """A customer asked for a fresh link (``email_links``): the notifier emails it to their address."""
    about_ticket = new.get("thread_kind") == "t"
    builder.result.status_updates.append(
        StatusUpdate(
            id=status_update_id(builder.change.event_id, StatusUpdateKind.LINK_RENEWAL),
            kind=StatusUpdateKind.LINK_RENEWAL,
            customer_id=str(new["customer_id"]),
            ticket_id=str(new["thread_id"]) if about_ticket else None,
            conversation_id=None if about_ticket else str(new["thread_id"]),
            locale=str(new["locale"]) if new.get("locale") else None,
            occurred_at=when(new.get("requested_at"), at),
        )
    )


def _conversation(builder: _Builder, change: CommittedChange, new: dict[str, Any], old: dict[str, Any]) -> None:
    conversation = change.conversation
    assert conversation is not None
    if change.event_name == "INSERT":
        builder.event(DetailType.CONVERSATION_STARTED, conversation.created_at, _conversation_started(conversation))
    bot, was = json_map(new.get("bot")), json_map(old.get("bot"))
    bot_progress(builder, conversation, bot, was, conversation.updated_at)
    if bot.get("outcome") == "resolved" and was.get("outcome") != "resolved":
        builder.event(
            DetailType.BOT_RESOLVED,
            when(bot.get("resolved_at"), change.approximate_at),
            {
                "conversation_id": conversation.id,
                "customer_id": conversation.customer_id,
                "team_id": conversation.team_id,
                "resolved_by": bot.get("resolved_by"),
                "path_id": str(bot["path_id"]) if bot.get("path_id") else None,
            },
        )


def _conversation_started(conversation: Conversation) -> dict[str, Any]:
    context = conversation.context
    return {
        "conversation_id": conversation.id,
        "customer_id": conversation.customer_id,
        "channel": conversation.channel.value,
        "customer_is_visitor": conversation.customer_is_visitor,
        "identity_verified": conversation.identity_verified_at is not None,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "status": conversation.status.value,
        "viewed_object_type": context.object.type if context and context.object else None,
    }


def _message(builder: _Builder, message: Message, customer_id: str) -> None:
    builder.event(
        DetailType.MESSAGE_RECEIVED,
        message.created_at,
        {
            "conversation_id": message.conversation_id,
            "message_id": message.id,
            "customer_id": customer_id,
            "author_type": message.author.type.value,
            "author_id": message.author.id,
            "internal": message.internal,
            "message_kind": message.kind.value,
            "body_length": len(message.body),
            "attachment_count": len(message.attachments),
            "channel": (message.channel or Channel.MESSENGER).value,
        },
    )
    emailed = message.channel is Channel.EMAIL and message.author.type is AuthorType.AGENT and not message.internal
    if emailed:
        builder.conversation_reply(message, customer_id)


def _ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "ticket_type_id": ticket.ticket_type_id,
        "category": ticket.category.value,
        "team_id": ticket.team_id,
        "customer_id": ticket.customer_id,
        "assignee_id": ticket.assignee_id,
        "version": ticket.version,
    }


def _customer_ticket(ticket: Ticket) -> bool:
    return ticket.category is TicketCategory.CUSTOMER and bool(ticket.customer_id)


def _customer_label(workspace: Workspace, ticket: Ticket, state_id: str) -> str | None:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    state = ticket_type.state(state_id) if ticket_type else None
    return state.customer_label if state else None


def _ticket(
    builder: _Builder, change: CommittedChange, new: dict[str, Any], old: dict[str, Any], workspace: Workspace
) -> None:
    ticket = change.ticket
    assert ticket is not None
    ref = _ticket_ref(ticket)
    if change.event_name == "INSERT":
        builder.event(
            DetailType.TICKET_CREATED,
            ticket.created_at,
            ref
            | {
                "state_id": ticket.state_id,
                "state_category": ticket.state_category.value,
                "priority": ticket.priority.value,
                "assignee_id": ticket.assignee_id,
                "conversation_id": ticket.conversation_id,
                "linked_ticket_id": ticket.linked_ticket_id,
                "tracker_id": ticket.tracker_id,
                "created_by_type": ticket.created_by.type.value,
            },
        )
        if _customer_ticket(ticket):
            label = _customer_label(workspace, ticket, ticket.state_id)
            # A ticket opened from a conversation already said so there: email and SMS only.
            builder.update(
                StatusUpdateKind.TICKET_CREATED, ticket, ticket.created_at, state_label=label, conversation_id=None
            )
        return
    before = change.ticket_before
    assert before is not None
    at = ticket.updated_at
    if before.state_id != ticket.state_id:
        _state_changed(builder, workspace, before, ticket, ref, at)
    if before.assignee_id != ticket.assignee_id or before.team_id != ticket.team_id:
        builder.event(
            DetailType.TICKET_ASSIGNED,
            at,
            ref
            | {
                "from_assignee_id": before.assignee_id,
                "to_assignee_id": ticket.assignee_id,
                "from_team_id": before.team_id,
                "to_team_id": ticket.team_id,
            },
        )
    sla_clocks(builder, ref, json_map(old.get("sla")), json_map(new.get("sla")), change.approximate_at)
    if before.rating is None and ticket.rating is not None:
        builder.event(
            DetailType.CSAT_RATED,
            ticket.rating.rated_at,
            ref | {"score": ticket.rating.score, "has_comment": bool(ticket.rating.comment)},
        )


def _state_changed(
    builder: _Builder, workspace: Workspace, before: Ticket, ticket: Ticket, ref: dict[str, Any], at: datetime
) -> None:
    builder.event(
        DetailType.TICKET_STATE_CHANGED,
        at,
        ref
        | {
            "from_state_id": before.state_id,
            "to_state_id": ticket.state_id,
            "from_state_category": before.state_category.value,
            "to_state_category": ticket.state_category.value,
        },
    )
    resolved = ticket.state_category is StateCategory.RESOLVED and before.state_category is not StateCategory.RESOLVED
    if resolved:
        builder.event(
            DetailType.TICKET_RESOLVED,
            at,
            ref | {"state_id": ticket.state_id, "from_state_category": before.state_category.value},
        )
    if not _customer_ticket(ticket):
        return
    label = _customer_label(workspace, ticket, ticket.state_id)
    if resolved:
        # The customer hears "resolved" (with the state's label) and is asked to rate, not told twice: by
        # email the resolution carries the score links, in the messenger the rating prompt follows it.
        asks = ticket.rating is None
        builder.update(StatusUpdateKind.RESOLVED, ticket, at, state_label=label, asks_for_rating=asks)
        if asks:
            builder.update(StatusUpdateKind.CSAT_REQUEST, ticket, at, state_label=label)
    elif label is not None and label != _customer_label(workspace, before, before.state_id):
        builder.update(StatusUpdateKind.STATE_CHANGED, ticket, at, state_label=label)


def _part(builder: _Builder, change: CommittedChange, part: dict[str, Any], tickets: TicketLookup) -> None:
    # Read from the plain image, not the PartType enum: part types added later (reminders) must map too.
    part_type = str(part.get("part_type", ""))
    at = when(part.get("created_at"), change.approximate_at)
    visible = bool(part.get("visible_to_customer"))
    author_type = str(part.get("author_type", ""))
    body = part.get("body") or None
    if part_type == "reply":
        builder.event(
            DetailType.TICKET_REPLIED,
            at,
            {
                "ticket_id": str(part["ticket_id"]),
                "part_id": str(part["id"]),
                "author_type": author_type,
                "author_id": part.get("author_id"),
                "visible_to_customer": visible,
                "body_length": len(body or ""),
                "attachment_count": len(json_list(part.get("attachments"))),
            },
        )
    tells_customer = visible and (
        part_type in (REMINDER_PART, EXTERNAL_UPDATE_PART)
        or (part_type == "reply" and author_type != AuthorType.CUSTOMER.value)
    )
    if not tells_customer:
        return
    ticket = tickets(str(part["ticket_id"]))
    if ticket is None or not _customer_ticket(ticket):
        return
    kind = {
        REMINDER_PART: StatusUpdateKind.REMINDER,
        EXTERNAL_UPDATE_PART: StatusUpdateKind.EXTERNAL_UPDATE,
    }.get(part_type, StatusUpdateKind.AGENT_REPLY)
    author = part.get("author_name") if author_type == AuthorType.AGENT.value else None
    builder.update(kind, ticket, at, body=body, author_name=str(author) if author else None)
