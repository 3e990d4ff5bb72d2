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
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, ConfigDict, ValidationError

from helpdesk.adapters import mapping
from helpdesk.adapters.table import ConversationItem, MessageItem, TableItem, TicketItem
from helpdesk.domain.events import DetailType, event_detail
from helpdesk.domain.models import AuthorType, Conversation, Message, Ticket, TicketCategory
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind
from helpdesk.domain.workspace import StateCategory, Workspace

EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c52-8a2b-4c59-9a53-5d0f1e2b7c41")
"""Fixed namespace of the uuid5 ids: changing it would change every id a consumer has seen."""

_NOT_A_VALID = re.compile(r"is not a valid (\w+)$")
SLA_CLOCKS = ("first_response", "next_response", "resolution")
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


# --- images ---------------------------------------------------------------------------------------

_deserializer = TypeDeserializer()


def _plain(image: Mapping[str, Any] | None) -> dict[str, Any]:
    if not image:
        return {}
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def _item(image: Mapping[str, Any]) -> TableItem:
    return TableItem.from_raw_data(dict(image))


def _json_map(value: Any) -> dict[str, Any]:
    """A map attribute, stored either as a DynamoDB map or (``JSONAttribute``) as a JSON string."""
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, dict) else {}


def _when(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the mapping ----------------------------------------------------------------------------------


class _Builder:
    """Collects the events and status updates of one change, with ids derived from its record."""

    def __init__(self, change: StreamChange) -> None:
        self.change = change
        self.result = MappedChange()

    def event(self, detail_type: DetailType, at: datetime, data: dict[str, Any], qualifier: str = "") -> None:
        envelope = {
            "event_id": event_id(self.change.event_id, detail_type, qualifier),
            "occurred_at": _iso(at),
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
                **({"conversation_id": ticket.conversation_id} | fields),
            )
        )


def map_change(change: StreamChange, workspace: Workspace, tickets: TicketLookup) -> MappedChange:
    """The domain events and status updates one committed change stands for (often none).

    ``tickets`` is asked only for a customer-visible reply or reminder part, to find whose ticket it is.
    Raises ``StreamRecordError`` naming the fields of an item that doesn't match its model (without
    their values: items hold customers' details).
    """
    try:
        return _map(change, workspace, tickets)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(item)'}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False)
        )
        raise StreamRecordError(
            f"stream record {change.event_id}: {error.title} doesn't validate: {problems}"
        ) from None
    except (KeyError, ValueError, TypeError) as error:
        if isinstance(error, StreamRecordError):
            raise
        raise StreamRecordError(
            f"stream record {change.event_id}: item {_keys(change)} can't be read: {_safe_reason(error)}"
        ) from None


def _safe_reason(error: Exception) -> str:
    """What went wrong, without the offending value (it may be a customer's detail)."""
    if isinstance(error, KeyError):
        return f"attribute {error.args[0]!r} is missing"
    enum = _NOT_A_VALID.search(str(error))
    if enum:
        return f"a value is not a valid {enum.group(1)}"
    return type(error).__name__


def _keys(change: StreamChange) -> str:
    image = change.new_image or change.old_image or {}
    return "/".join(str(next(iter(image.get(key, {}).values()), "?")) for key in ("PK", "SK"))


def _map(change: StreamChange, workspace: Workspace, tickets: TicketLookup) -> MappedChange:
    builder = _Builder(change)
    new, old = _plain(change.new_image), _plain(change.old_image)
    kind = (new or old).get("kind")
    if change.event_name == "REMOVE":
        return builder.result  # nothing in the domain is a deletion (expiring items are housekeeping)
    assert change.new_image is not None
    if kind == "conversation":
        _conversation(builder, change, new, old)
    elif kind == "message" and change.event_name == "INSERT":
        item = _item(change.new_image)
        assert isinstance(item, MessageItem)
        _message(builder, mapping.message_from_item(item), item.customer_id)
    elif kind == "ticket":
        _ticket(builder, change, new, old, workspace)
    elif kind == "ticket_part" and change.event_name == "INSERT":
        _part(builder, change, new, tickets)
    return builder.result


def _conversation(builder: _Builder, change: StreamChange, new: dict[str, Any], old: dict[str, Any]) -> None:
    assert change.new_image is not None
    item = _item(change.new_image)
    assert isinstance(item, ConversationItem)
    conversation = mapping.conversation_from_item(item)
    if change.event_name == "INSERT":
        builder.event(DetailType.CONVERSATION_STARTED, conversation.created_at, _conversation_started(conversation))
    bot, was = _json_map(new.get("bot")), _json_map(old.get("bot"))
    if bot.get("outcome") == "resolved" and was.get("outcome") != "resolved":
        builder.event(
            DetailType.BOT_RESOLVED,
            _when(bot.get("resolved_at"), change.approximate_at),
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
        },
    )


def _ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "ticket_type_id": ticket.ticket_type_id,
        "category": ticket.category.value,
        "team_id": ticket.team_id,
        "customer_id": ticket.customer_id,
        "version": ticket.version,
    }


def _customer_ticket(ticket: Ticket) -> bool:
    return ticket.category is TicketCategory.CUSTOMER and bool(ticket.customer_id)


def _customer_label(workspace: Workspace, ticket: Ticket, state_id: str) -> str | None:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    state = ticket_type.state(state_id) if ticket_type else None
    return state.customer_label if state else None


def _ticket(
    builder: _Builder, change: StreamChange, new: dict[str, Any], old: dict[str, Any], workspace: Workspace
) -> None:
    assert change.new_image is not None
    new_item = _item(change.new_image)
    assert isinstance(new_item, TicketItem)
    ticket = mapping.ticket_from_item(new_item)
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
    assert change.old_image is not None
    old_item = _item(change.old_image)
    assert isinstance(old_item, TicketItem)
    before = mapping.ticket_from_item(old_item)
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
    _sla(builder, ref, _json_map(old.get("sla")), _json_map(new.get("sla")), change.approximate_at)
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
        # The customer hears "resolved" (with the state's label) and is asked to rate, not told twice.
        builder.update(StatusUpdateKind.RESOLVED, ticket, at, state_label=label)
        if ticket.rating is None:
            builder.update(StatusUpdateKind.CSAT_REQUEST, ticket, at, state_label=label)
    elif label is not None and label != _customer_label(workspace, before, before.state_id):
        builder.update(StatusUpdateKind.STATE_CHANGED, ticket, at, state_label=label)


def _sla(builder: _Builder, ref: dict[str, Any], old: dict[str, Any], new: dict[str, Any], fallback: datetime) -> None:
    old_clocks, new_clocks = _json_map(old.get("clocks")), _json_map(new.get("clocks"))
    for clock in SLA_CLOCKS:
        now, was = _json_map(new_clocks.get(clock)), _json_map(old_clocks.get(clock))
        for mark, detail_type in (("warned_at", DetailType.SLA_WARNING), ("breached_at", DetailType.SLA_BREACHED)):
            if now.get(mark) and not was.get(mark):
                at = _when(now[mark], fallback)
                due = now.get("due_at")
                builder.event(
                    detail_type,
                    at,
                    ref | {"clock": clock, "due_at": _iso(_when(due, at)) if due else None, mark: _iso(at)},
                    qualifier=clock,
                )


def _part(builder: _Builder, change: StreamChange, part: dict[str, Any], tickets: TicketLookup) -> None:
    # Read from the plain image, not the PartType enum: part types added later (reminders) must map too.
    part_type = str(part.get("part_type", ""))
    at = _when(part.get("created_at"), change.approximate_at)
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
                "attachment_count": len(_json_list(part.get("attachments"))),
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
    builder.update(kind, ticket, at, body=body)


def _json_list(value: Any) -> list[Any]:
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
    new, old = _plain(change.new_image), _plain(change.old_image)
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
    new = _plain(change.new_image)
    if new.get("kind") != "conversation":
        return None
    old = _plain(change.old_image) if change.old_image is not None else {}
    now, before = _json_map(new.get("bot")), _json_map(old.get("bot"))
    if not now.get("outcome") or before.get("outcome"):
        return None
    return str(now["outcome"]), str(now.get("resolved_by") or "unknown")
