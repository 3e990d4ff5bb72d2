"""The live channel's vocabulary: frames, topics, who is listening, and what each audience may see.

A **frame** is one JSON text message pushed to a browser: ``{"id", "type", "data"}``. Its ``id`` is
derived from the committed change it reports (the table's stream record) or, for typing, from the
moment it was typed, so a change delivered twice yields the same id and the page drops the
duplicate. Frames never carry what the receiver couldn't read through the API: a customer's frames
are shaped like the messenger API's views (customer-facing state labels, attributes visible to
customers, never an internal note), an agent's like the inbox API's.

A **topic** names what a connection listens to; a connection subscribes to topics when it connects
(a customer: their own conversations and tickets; an agent: themselves and the teams the policy lets
them read) and when it opens a conversation or ticket (``watch``). Fan-out queries the connections
of a topic and checks each against the policy again before posting, so a subscription that outlived
the right to read (a conversation handed to another team) receives nothing more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from helpdesk.domain.models import Conversation, Message, Ticket, TicketPart
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.roles import Role
from helpdesk.domain.workspace import Workspace

FRAME_NAMESPACE = uuid.UUID("0c1f8a4e-5b7d-4f0a-9d3e-7a2c6b1e9f54")
"""Fixed namespace of the frames' uuid5 ids (changing it would change every id a page has seen)."""
MAX_CONNECTION_SECONDS = 2 * 60 * 60
"""API Gateway closes a WebSocket connection after 2 hours, whatever happens on it."""
IDLE_SECONDS = 10 * 60
"""... and after 10 minutes without a message from the client: pages send ``ping`` more often."""
CONNECTION_TTL_SLACK_SECONDS = 10 * 60
"""A connection's items expire (table TTL) this long after the connection must have ended, in case
``$disconnect`` never came (API Gateway doesn't promise it)."""
TYPING_INTERVAL_SECONDS = 2.0
"""At most one typing frame per connection and conversation in this interval (the pages send one
every 3 seconds while someone types)."""
PROTOCOL = "helpdesk-live"
"""The subprotocol pages ask for; the token rides beside it in ``Sec-WebSocket-Protocol``."""


class FrameType(StrEnum):
    MESSAGE_CREATED = "message.created"
    CONVERSATION_UPDATED = "conversation.updated"
    TICKET_UPDATED = "ticket.updated"
    TICKET_REPLY_CREATED = "ticket.reply_created"
    """A new entry on a ticket's timeline: a reply, a note (agents only), a state change..."""
    TYPING = "typing"
    PRESENCE = "presence"
    """An agent's availability (online/away), or who has a conversation or ticket open."""
    UNREAD = "unread"
    """How many of a conversation's messages or a ticket's updates the customer hasn't read."""
    WELCOME = "welcome"
    """The first frame on a connection: who the channel thinks you are and what you listen to."""
    ERROR = "error"
    """A request over the socket that was refused (``data``: ``error``, ``message``, ``details``)."""
    PONG = "pong"


class Frame(dict[str, Any]):
    """``{"id", "type", "data"}``: a plain dict, so it is posted as JSON without a model in between."""

    @classmethod
    def of(cls, frame_id: str, frame_type: FrameType, data: dict[str, Any]) -> Frame:
        return cls(id=frame_id, type=frame_type.value, data=data)

    @classmethod
    def caused_by(
        cls, source: str, frame_type: FrameType, subject: str, data: dict[str, Any], audience: str = ""
    ) -> Frame:
        """The ``frame_type`` frame about ``subject`` caused by ``source``, under its stable ``frame_id``."""
        return cls.of(frame_id(source, frame_type, subject, audience), frame_type, data)

    @property
    def type(self) -> str:
        return str(self["type"])


def frame_id(source: str, frame_type: FrameType, subject: str, audience: str = "") -> str:
    """The stable id of the ``frame_type`` frame about ``subject`` caused by ``source`` (a stream record id)."""
    return str(uuid.uuid5(FRAME_NAMESPACE, f"{source}/{frame_type.value}/{subject}/{audience}"))


# --- topics --------------------------------------------------------------------------------------

TopicKind = Literal["customer", "agent", "team", "conversation", "ticket"]


def topic(kind: TopicKind, ident: str) -> str:
    return f"{kind}#{ident}"


def topic_kind(name: str) -> str:
    return name.split("#", 1)[0]


def watch_topic(conversation_id: str | None = None, ticket_id: str | None = None) -> str:
    if (conversation_id is None) == (ticket_id is None):
        raise ValueError("watch exactly one conversation or ticket")
    return topic("conversation", conversation_id) if conversation_id else topic("ticket", str(ticket_id))


# --- who listens ---------------------------------------------------------------------------------

SubscriberKind = Literal["customer", "visitor", "agent"]


@dataclass(frozen=True)
class Subscriber:
    """A connection and who holds it, as stored with each of its subscriptions."""

    connection_id: str
    kind: SubscriberKind
    id: str
    name: str | None = None
    teams: frozenset[str] = field(default_factory=frozenset)
    role: Role = Role.AGENT

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"

    def as_agent(self) -> AgentPrincipal:
        assert self.is_agent
        return AgentPrincipal(id=self.id, name=self.name, teams=self.teams, role=self.role)


# --- what each audience sees ---------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_data(message: Message, *, for_agent: bool) -> dict[str, Any]:
    """The message as ``MessageView`` (customers) or ``AgentMessageView`` (agents) shows it."""
    data: dict[str, Any] = {
        "conversation_id": message.conversation_id,
        "id": message.id,
        "author": message.author.model_dump(mode="json"),
        "body": message.body,
        "kind": message.kind.value,
        "attachments": [a.model_dump(mode="json") for a in message.attachments],
        "options": [o.model_dump(mode="json") for o in message.options],
        "created_at": _iso(message.created_at),
    }
    if for_agent:
        data |= {"internal": message.internal, "mentions": list(message.mentions)}
    return data


def customer_conversation_data(conversation: Conversation) -> dict[str, Any]:
    """What the customer's messenger lists: never the team, the assignee or anything internal."""
    return {
        "id": conversation.id,
        "status": conversation.status.value,
        "ticket_id": conversation.ticket_id,
        "preview": conversation.preview,
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
    }


def agent_conversation_data(conversation: Conversation) -> dict[str, Any]:
    """What an inbox list shows of a conversation (a subset of ``AgentConversationSummary``)."""
    return {
        "id": conversation.id,
        "status": conversation.status.value,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "ticket_id": conversation.ticket_id,
        "preview": conversation.preview,
        "snoozed_until": _iso(conversation.snoozed_until),
        "customer": {
            "id": conversation.customer_id,
            "name": conversation.customer_name,
            "email": conversation.customer_email,
            "is_visitor": conversation.customer_is_visitor,
        },
        "tags": list(conversation.tags),
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
    }


def moved_away_data(conversation: Conversation) -> dict[str, Any]:
    """For agents who could see it before a hand-off and can't now: only that it left, and where to."""
    return {
        "id": conversation.id,
        "status": conversation.status.value,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "moved_away": True,
    }


def _state(ticket: Ticket, workspace: Workspace, *, for_customer: bool) -> dict[str, Any]:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    state = ticket_type.state(ticket.state_id) if ticket_type else None
    if state is None:
        category = ticket.state_category.value
        return {"id": ticket.state_id, "category": category, "label": category}
    label = state.customer_label if for_customer else state.label
    return {"id": state.id, "category": state.category.value, "label": label}


def customer_ticket_data(ticket: Ticket, workspace: Workspace) -> dict[str, Any]:
    """The ticket as the messenger API's ``TicketView`` shows it to its customer."""
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "ticket_type_id": ticket.ticket_type_id,
        "title": ticket.title,
        "state": _state(ticket, workspace, for_customer=True),
        "attributes": ticket_type.customer_visible(ticket.attributes) if ticket_type else {},
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "priority": ticket.priority.value,
        "conversation_id": ticket.conversation_id,
        "rating": ticket.rating.model_dump(mode="json") if ticket.rating else None,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "version": ticket.version,
    }


def agent_ticket_data(ticket: Ticket, workspace: Workspace) -> dict[str, Any]:
    """What the inbox shows of a ticket in lists and in its form (a subset of ``AgentTicketView``)."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "ticket_type_id": ticket.ticket_type_id,
        "category": ticket.category.value,
        "title": ticket.title,
        "state": _state(ticket, workspace, for_customer=False),
        "attributes": dict(ticket.attributes),
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "priority": ticket.priority.value,
        "customer_id": ticket.customer_id,
        "conversation_id": ticket.conversation_id,
        "sla_due_at": _iso(ticket.sla_due_at),
        "tags": list(ticket.tags),
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "version": ticket.version,
    }


TICKET_FORM_FIELDS = ("state", "priority", "team_id", "assignee_id", "attributes", "title")


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Which of the fields a ticket form edits differ between two views of the same ticket."""
    if before is None:
        return []
    return [name for name in TICKET_FORM_FIELDS if before.get(name) != after.get(name)]


def part_data(part: TicketPart, *, for_agent: bool) -> dict[str, Any]:
    """A timeline entry as ``PartView`` (customers) or ``AgentPartView`` (agents) shows it."""
    data: dict[str, Any] = {
        "ticket_id": part.ticket_id,
        "id": part.id,
        "type": part.type.value,
        "author": part.author.model_dump(mode="json"),
        "body": part.body,
        "changes": part.changes,
        "attachments": [a.model_dump(mode="json") for a in part.attachments],
        "created_at": _iso(part.created_at),
    }
    if for_agent:
        data["visible_to_customer"] = part.visible_to_customer
    return data


# --- unread counters -----------------------------------------------------------------------------

ThreadType = Literal["conversation", "ticket"]


@dataclass(frozen=True)
class UnreadCount:
    """How many messages of a conversation (or updates of a ticket) its customer hasn't seen yet."""

    thread_type: ThreadType
    thread_id: str
    unread: int
    updated_at: datetime

    def as_data(self) -> dict[str, Any]:
        return {
            "thread_type": self.thread_type,
            "thread_id": self.thread_id,
            "unread": self.unread,
            "updated_at": _iso(self.updated_at),
        }


SEQUENCE_DIGITS = 40
"""DynamoDB stream sequence numbers have 21 to 40 digits: padded, they compare as text."""


def padded_sequence(sequence: str) -> str:
    if not sequence.isdigit() or len(sequence) > SEQUENCE_DIGITS:
        raise ValueError(f"not a stream sequence number: {sequence[:50]!r}")
    return sequence.zfill(SEQUENCE_DIGITS)


# --- the committed changes fan-out reads (decoded from the table's stream by an adapter) ----------


@dataclass(frozen=True)
class LiveConnection:
    """A connection as its item records it: who holds it, and the presence they asked for."""

    subscriber: Subscriber
    presence: str | None
    connected_at: datetime


@dataclass(frozen=True)
class LiveSubscription:
    subscriber: Subscriber
    topic: str


@dataclass(frozen=True)
class StoredMessage:
    """A message with the customer its conversation belongs to (message items carry it)."""

    message: Message
    customer_id: str


@dataclass(frozen=True)
class TableChange:
    """One committed change of an item we push live, as the domain sees it.

    ``new`` / ``old``: the item after and before (``None`` for an insert's before and a removal's
    after), as a domain object: ``Conversation``, ``StoredMessage``, ``Ticket``, ``TicketPart``,
    ``Agent``, ``UnreadCount`` (with ``customer_id``), ``LiveConnection`` or ``LiveSubscription``.
    """

    event_id: str
    event_name: Literal["INSERT", "MODIFY", "REMOVE"]
    sequence: str
    kind: str
    new: Any = None
    old: Any = None
    customer_id: str | None = None
    """For unread counters: whose."""

    @property
    def current(self) -> Any:
        return self.new if self.new is not None else self.old
