"""The live channel's requests: a page connects, opens (watches) a conversation or ticket, types, leaves.

What a connection listens to is decided here, by the one policy for agents
(``helpdesk.domain.policy``, action ``SUBSCRIBE``: the same rule as reading) and by ownership for
customers: a customer's connection listens to their own conversations and tickets and may watch
only their own; an agent's listens to themselves and to the teams the policy lets them read, and
may watch what they may read. A refusal is the same as over the API: 404 for a customer (nothing
says it exists), 403 for an agent.

Typing is never stored: it goes straight to the connections watching the conversation, at most
once every ``TYPING_INTERVAL_SECONDS`` per connection and conversation. An agent typing an internal
note is shown to other agents only.

Each request is at most two DynamoDB calls: the object (to authorize), then the write or the
watchers' Query. Frames about committed changes come from the table's stream (``live_fanout``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from helpdesk.domain.errors import ConditionFailed, InvalidInput, NotFound
from helpdesk.domain.live import (
    TYPING_INTERVAL_SECONDS,
    Frame,
    FrameType,
    Subscriber,
    topic,
    topic_kind,
    watch_topic,
)
from helpdesk.domain.models import Conversation, ConversationStatus, Ticket, utc_now
from helpdesk.domain.policy import Action, Resource, allowed, authorize
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import ConversationReader, LiveConnections, LiveRecords, TicketReader

WATCHABLE = ("conversation", "ticket")
MAX_TYPING_ENTRIES = 10_000

_typing_lock = threading.Lock()
_last_typed: dict[tuple[str, str], float] = {}
"""(connection, conversation) -> when its last typing frame went out, in this container."""


def typing_allowed(connection_id: str, conversation_id: str, now: float) -> bool:
    """The rate limit on typing frames (best effort: per container, as typing isn't stored)."""
    key = (connection_id, conversation_id)
    with _typing_lock:
        last = _last_typed.get(key)
        if last is not None and now - last < TYPING_INTERVAL_SECONDS:
            return False
        if len(_last_typed) >= MAX_TYPING_ENTRIES:
            _last_typed.clear()
        _last_typed[key] = now
        return True


def is_watch_topic(name: str | None) -> bool:
    return bool(name) and topic_kind(str(name)) in WATCHABLE and "#" in str(name)


class LiveService:
    def __init__(
        self,
        records: LiveRecords,
        conversations: ConversationReader,
        tickets: TicketReader,
        workspace: Workspace,
        connections: LiveConnections,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._records = records
        self._conversations = conversations
        self._tickets = tickets
        self._workspace = workspace
        self._connections = connections
        self._monotonic = monotonic

    # --- connecting ------------------------------------------------------------------------------

    def topics_for(self, subscriber: Subscriber) -> list[str]:
        """What a connection listens to from the start: a customer's own things; an agent's own
        assignments and the views of every team the policy lets them read."""
        if not subscriber.is_agent:
            return [topic("customer", subscriber.id)]
        agent = subscriber.as_agent()
        visibility = self._workspace.agent_visibility
        teams = [
            t.id for t in self._workspace.teams if allowed(agent, Action.SUBSCRIBE, Resource.team(t.id), visibility)
        ]
        return [topic("agent", subscriber.id), *(topic("team", t) for t in teams)]

    def connect(self, subscriber: Subscriber, *, presence: str | None = None) -> list[str]:
        """Record the connection and its topics (one transaction); an agent's presence follows from it."""
        if presence not in (None, "online", "away"):
            raise InvalidInput("presence must be online or away", [("presence", "must be online or away")])
        topics = self.topics_for(subscriber)
        self._records.open_connection(subscriber, topics, utc_now(), presence=presence if subscriber.is_agent else None)
        return topics

    def disconnect(self, connection_id: str) -> list[str]:
        return self._records.close_connection(connection_id)

    def welcome(self, subscriber: Subscriber, topics: list[str]) -> Frame:
        return Frame.of(
            str(uuid.uuid4()),
            FrameType.WELCOME,
            {"connection_id": subscriber.connection_id, "as": subscriber.kind, "id": subscriber.id, "topics": topics},
        )

    # --- watching --------------------------------------------------------------------------------

    def watch(
        self,
        subscriber: Subscriber,
        *,
        conversation_id: str | None = None,
        ticket_id: str | None = None,
        previous: str | None = None,
    ) -> str:
        """Listen to one conversation or ticket (the one on screen), instead of ``previous``."""
        if (conversation_id is None) == (ticket_id is None):
            raise InvalidInput(
                "say what to watch", [("conversation_id", "give a conversation_id or a ticket_id, not both")]
            )
        if conversation_id is not None:
            self._readable_conversation(subscriber, conversation_id)
        else:
            self._readable_ticket(subscriber, str(ticket_id))
        target = watch_topic(conversation_id=conversation_id, ticket_id=ticket_id)
        try:
            self._records.subscribe(
                subscriber, target, utc_now(), replacing=previous if is_watch_topic(previous) else None
            )
        except ConditionFailed as failure:
            raise NotFound("this connection is closed: connect again") from failure
        return target

    def unwatch(self, subscriber: Subscriber, name: str) -> None:
        if not is_watch_topic(name):
            raise InvalidInput("not something watched", [("topic", "must be conversation#<id> or ticket#<id>")])
        self._records.unsubscribe(subscriber.connection_id, name)

    def _readable_conversation(
        self, subscriber: Subscriber, conversation_id: str, *, to_write: bool = False
    ) -> Conversation:
        conversation = self._conversations.get_conversation(conversation_id)
        if subscriber.is_agent:
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} not found")
            action = Action.WORK if to_write else Action.SUBSCRIBE
            authorize(
                subscriber.as_agent(), action, Resource.conversation(conversation), self._workspace.agent_visibility
            )
            return conversation
        if conversation is None or conversation.customer_id != subscriber.id:
            raise NotFound(f"conversation {conversation_id} not found")
        return conversation

    def _readable_ticket(self, subscriber: Subscriber, ticket_id: str) -> Ticket:
        ticket = self._tickets.get_ticket(ticket_id)
        if subscriber.is_agent:
            if ticket is None:
                raise NotFound(f"ticket {ticket_id} not found")
            authorize(
                subscriber.as_agent(), Action.SUBSCRIBE, Resource.ticket(ticket), self._workspace.agent_visibility
            )
            return ticket
        if ticket is None or ticket.customer_id != subscriber.id:
            raise NotFound(f"ticket {ticket_id} not found")
        return ticket

    # --- typing ----------------------------------------------------------------------------------

    def typing(self, subscriber: Subscriber, conversation_id: str, *, internal: bool = False) -> int:
        """Tell the others watching the conversation that ``subscriber`` is typing; how many were told."""
        if not typing_allowed(subscriber.connection_id, conversation_id, self._monotonic()):
            return 0
        conversation = self._readable_conversation(subscriber, conversation_id, to_write=True)
        if not subscriber.is_agent and conversation.status is ConversationStatus.CLOSED:
            return 0
        internal = internal and subscriber.is_agent
        author = {"type": "agent" if subscriber.is_agent else "customer", "id": subscriber.id, "name": subscriber.name}
        told = 0
        sent_at = utc_now().isoformat()
        for listener in self._records.listeners(watch_topic(conversation_id=conversation_id)):
            if listener.connection_id == subscriber.connection_id:
                continue
            if listener.is_agent:
                visible = allowed(
                    listener.as_agent(),
                    Action.SUBSCRIBE,
                    Resource.conversation(conversation),
                    self._workspace.agent_visibility,
                )
            else:  # the customer sees agents typing a reply, never a note, and never themselves elsewhere
                visible = subscriber.is_agent and not internal and listener.id == conversation.customer_id
            if not visible:
                continue
            data: dict[str, Any] = {"conversation_id": conversation_id, "author": author, "at": sent_at}
            if listener.is_agent:
                data["internal"] = internal
            frame = Frame.of(str(uuid.uuid4()), FrameType.TYPING, data)
            if self._connections.post(listener.connection_id, frame):
                told += 1
        return told
