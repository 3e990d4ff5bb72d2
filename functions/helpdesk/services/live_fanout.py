"""Turns the table's committed changes into live frames and posts them to the connections entitled to them.

One batch of stream records at a time, in stream order:

- a message: ``message.created`` to its customer (never an internal note) and to the agents watching
  the conversation; it also counts as unread for the customer, and an agent's first reply is timed
  (for the messenger's expected reply time);
- a conversation or ticket that changed (or got a message): one ``conversation.updated`` /
  ``ticket.updated`` per batch to the agents of its team (old and new), its assignee and whoever
  watches it, with the form fields that changed; to its customer only what they can see, when it changed;
- a ticket timeline entry: ``ticket.reply_created`` to the agents watching it, and to its customer
  when it is meant for them;
- an unread counter: ``unread`` to its customer; an agent's availability: ``presence`` to their teams;
- a connection opening or closing: the agent's presence follows (online while connected, unless they
  chose away); someone starting or stopping watching: ``presence`` (who is viewing) to the viewers.

Every recipient is checked against the policy on the item as it is now (``SUBSCRIBE``), whatever
topic brought them; agents who lost sight of a conversation in a hand-off get only that it moved.
Delivery is at least once: a retried batch posts frames with the same ids (pages drop duplicates),
and the counters it writes are guarded by the record's sequence number. A connection that is gone
is forgotten.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from helpdesk.domain.live import (
    Frame,
    FrameType,
    LiveConnection,
    LiveSubscription,
    StoredMessage,
    Subscriber,
    TableChange,
    UnreadCount,
    agent_conversation_data,
    agent_ticket_data,
    changed_fields,
    customer_conversation_data,
    customer_ticket_data,
    frame_id,
    message_data,
    moved_away_data,
    part_data,
    topic,
    topic_kind,
)
from helpdesk.domain.models import (
    Agent,
    AuthorType,
    Availability,
    Conversation,
    MessageKind,
    Ticket,
    TicketCategory,
    TicketPart,
    utc_now,
)
from helpdesk.domain.policy import Resource
from helpdesk.domain.workspace import Workspace
from helpdesk.services.live_audience import Audience
from helpdesk.services.ports import AgentRecords, ConversationReader, LiveConnections, LiveRecords, TicketReader

log = logging.getLogger(__name__)
POST_WORKERS = 8
CONVERSATION_FIELDS = ("status", "team_id", "assignee_id", "ticket_id")
"""What an inbox tells apart in a conversation's change (``changed`` in its frame)."""


@dataclass
class FanOutReport:
    frames: int = 0
    posted: int = 0
    gone: set[str] = field(default_factory=set)
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Touched:
    """A conversation or ticket that changed in this batch: as it was first, and as it is now."""

    before: Any = None
    after: Any = None
    source: str = ""
    inserted: bool = False
    last_message: dict[str, Any] | None = None


class LiveFanOut:
    def __init__(
        self,
        records: LiveRecords,
        conversations: ConversationReader,
        tickets: TicketReader,
        agents: AgentRecords,
        workspace: Workspace,
        connections: LiveConnections,
    ) -> None:
        self._records = records
        self._conversations = conversations
        self._tickets = tickets
        self._agents = agents
        self._workspace = workspace
        self._connections = connections

    def process(self, changes: Sequence[TableChange]) -> FanOutReport:
        batch = _Batch(self, changes)
        for change in changes:
            batch.apply(change)
        batch.coalesced()
        return self._send(batch.audience.outbox)

    # --- posting ---------------------------------------------------------------------------------

    def _send(self, outbox: list[tuple[Frame, dict[str, Subscriber]]]) -> FanOutReport:
        report = FanOutReport()
        per_connection: dict[str, list[Frame]] = defaultdict(list)
        for frame, recipients in outbox:
            report.frames += 1
            for connection_id in recipients:
                per_connection[connection_id].append(frame)
        failures: list[BaseException] = []

        def deliver(connection_id: str) -> None:
            for frame in per_connection[connection_id]:
                if not self._connections.post(connection_id, frame):
                    report.gone.add(connection_id)
                    return
                report.posted += 1
                report.by_type[frame.type] += 1

        with ThreadPoolExecutor(max_workers=POST_WORKERS) as pool:
            for future in [pool.submit(deliver, c) for c in per_connection]:
                error = future.exception()
                if error is not None:
                    failures.append(error)
        for connection_id in report.gone:
            self._records.close_connection(connection_id)
        if failures:
            raise failures[0]  # the batch is retried; frames already posted come again with the same ids
        return report


class _Batch:
    """One batch's worth of fan-out: snapshots of what changed, and the frames to post."""

    def __init__(self, fanout: LiveFanOut, changes: Sequence[TableChange]) -> None:
        self.f = fanout
        self.visibility = fanout._workspace.agent_visibility
        self.audience = Audience(fanout._records, self.visibility)
        self.conversations: dict[str, _Touched] = {}
        self.tickets: dict[str, _Touched] = {}
        self.watched: dict[str, str] = {}
        """Watch topics whose viewers changed -> the stream record that changed them last."""
        self.latest: dict[str, Any] = {}
        for change in changes:  # the newest image of each conversation and ticket in the batch
            if change.kind in ("conversation", "ticket") and change.new is not None:
                self.latest[f"{change.kind}#{change.new.id}"] = change.new

    def conversation(self, conversation_id: str) -> Conversation | None:
        key = f"conversation#{conversation_id}"
        if key not in self.latest:
            self.latest[key] = self.f._conversations.get_conversation(conversation_id)
        found = self.latest[key]
        return found if isinstance(found, Conversation) else None

    def ticket(self, ticket_id: str) -> Ticket | None:
        key = f"ticket#{ticket_id}"
        if key not in self.latest:
            self.latest[key] = self.f._tickets.get_ticket(ticket_id)
        found = self.latest[key]
        return found if isinstance(found, Ticket) else None

    def _touch(self, table: dict[str, _Touched], change: TableChange, ident: str) -> _Touched:
        touched = table.setdefault(ident, _Touched())
        if change.old is not None and touched.before is None and not touched.inserted:
            touched.before = change.old
        touched.inserted = touched.inserted or change.event_name == "INSERT"
        touched.source = change.event_id
        return touched

    # --- one record ------------------------------------------------------------------------------

    def apply(self, change: TableChange) -> None:
        if change.event_name == "REMOVE" and change.kind not in ("live_connection", "live_subscription"):
            return
        match change.kind:
            case "message" if change.event_name == "INSERT":
                self.message(change, change.new)
            case "conversation":
                touched = self._touch(self.conversations, change, change.new.id)
                touched.after = change.new
            case "ticket":
                touched = self._touch(self.tickets, change, change.new.id)
                touched.after = change.new
            case "ticket_part" if change.event_name == "INSERT":
                self.part(change, change.new)
            case "unread":
                self.unread(change)
            case "agent":
                self.availability(change)
            case "live_connection":
                self.connection(change)
            case "live_subscription":
                subscription: LiveSubscription = change.current
                if topic_kind(subscription.topic) in ("conversation", "ticket"):
                    self.watched[subscription.topic] = change.event_id
                    self.audience.forget(subscription.topic)

    def message(self, change: TableChange, stored: StoredMessage) -> None:
        message = stored.message
        conversation = self.conversation(message.conversation_id)
        if conversation is None:
            return
        audience = self.audience
        if not message.internal:
            audience.add(
                Frame.of(
                    frame_id(change.event_id, FrameType.MESSAGE_CREATED, message.id, "customer"),
                    FrameType.MESSAGE_CREATED,
                    message_data(message, for_agent=False),
                ),
                audience.customer(conversation.customer_id),
            )
        watchers = audience.agents([topic("conversation", conversation.id)], Resource.conversation(conversation))
        audience.add(
            Frame.of(
                frame_id(change.event_id, FrameType.MESSAGE_CREATED, message.id, "agent"),
                FrameType.MESSAGE_CREATED,
                message_data(message, for_agent=True),
            ),
            watchers,
        )
        touched = self.conversations.setdefault(conversation.id, _Touched())
        touched.source = change.event_id
        touched.after = touched.after or conversation
        touched.last_message = {
            "id": message.id,
            "author": message.author.model_dump(mode="json"),
            "internal": message.internal,
            "kind": message.kind.value,
        }
        records = self.f._records
        by_customer = message.author.type is AuthorType.CUSTOMER
        if not message.internal and not by_customer:
            records.count_unread(
                stored.customer_id,
                "conversation",
                conversation.id,
                sequence=change.sequence,
                at=message.created_at,
                add=1,
            )
        if message.author.type is AuthorType.AGENT and not message.internal and message.kind is MessageKind.TEXT:
            seconds = max(0.0, (message.created_at - conversation.created_at).total_seconds())
            records.record_first_reply(conversation.id, conversation.team_id, seconds, message.created_at)

    def part(self, change: TableChange, part: TicketPart) -> None:
        ticket = self.ticket(part.ticket_id)
        if ticket is None:
            return
        audience = self.audience
        if _shared_with_customer(ticket) and part.visible_to_customer:
            assert ticket.customer_id is not None
            audience.add(
                Frame.of(
                    frame_id(change.event_id, FrameType.TICKET_REPLY_CREATED, part.id, "customer"),
                    FrameType.TICKET_REPLY_CREATED,
                    part_data(part, for_agent=False),
                ),
                audience.customer(ticket.customer_id),
            )
            if part.author.type is not AuthorType.CUSTOMER:
                self.f._records.count_unread(
                    ticket.customer_id, "ticket", ticket.id, sequence=change.sequence, at=part.created_at, add=1
                )
        audience.add(
            Frame.of(
                frame_id(change.event_id, FrameType.TICKET_REPLY_CREATED, part.id, "agent"),
                FrameType.TICKET_REPLY_CREATED,
                part_data(part, for_agent=True),
            ),
            audience.agents([topic("ticket", ticket.id)], Resource.ticket(ticket)),
        )

    def unread(self, change: TableChange) -> None:
        count: UnreadCount = change.new
        if change.customer_id is None:
            return
        was: UnreadCount | None = change.old
        if was is not None and was.unread == count.unread:
            return
        self.audience.add(
            Frame.of(frame_id(change.event_id, FrameType.UNREAD, count.thread_id), FrameType.UNREAD, count.as_data()),
            self.audience.customer(change.customer_id),
        )

    def availability(self, change: TableChange) -> None:
        agent: Agent = change.new
        was: Agent | None = change.old
        if was is not None and was.availability == agent.availability:
            return
        data = {"agent_id": agent.id, "name": agent.name, "availability": agent.availability.value}
        for team_id in agent.teams:
            self.audience.add(
                Frame.of(frame_id(change.event_id, FrameType.PRESENCE, agent.id, team_id), FrameType.PRESENCE, data),
                self.audience.agents([topic("team", team_id)], Resource.team(team_id)),
            )

    def connection(self, change: TableChange) -> None:
        """An agent is online while connected (unless they chose away), and away once no connection is left."""
        connection: LiveConnection = change.current
        subscriber = connection.subscriber
        if not subscriber.is_agent:
            return
        agents = self.f._agents
        if change.event_name == "INSERT":
            wanted = Availability.AWAY if connection.presence == "away" else Availability.ONLINE
        elif change.event_name == "REMOVE":
            left = [
                s
                for s in self.f._records.listeners(topic("agent", subscriber.id))
                if s.connection_id != subscriber.connection_id
            ]
            if left:
                return
            wanted = Availability.AWAY
        else:
            return
        stored = agents.get_agent(subscriber.id)
        if stored is not None and stored.availability is wanted:
            return
        teams = sorted(t for t in subscriber.teams if self.f._workspace.team(t) is not None)
        agents.save_agent(
            Agent(
                id=subscriber.id,
                name=subscriber.name if stored is None else stored.name or subscriber.name,
                email=stored.email if stored else None,
                teams=stored.teams if stored else teams,
                availability=wanted,
                updated_at=utc_now(),
            )
        )

    # --- once per batch --------------------------------------------------------------------------

    def coalesced(self) -> None:
        for touched in self.conversations.values():
            if touched.after is not None:
                self.conversation_updated(touched)
        for touched in self.tickets.values():
            if touched.after is not None:
                self.ticket_updated(touched)
        for name, source in self.watched.items():
            self.viewers(name, source)

    def conversation_updated(self, touched: _Touched) -> None:
        now: Conversation = touched.after
        before: Conversation | None = touched.before
        audience = self.audience
        resource = Resource.conversation(now)
        topics = _topics("conversation", now.id, now.team_id, now.assignee_id)
        if before is not None:
            topics += _topics(None, None, before.team_id, before.assignee_id)
        data = agent_conversation_data(now) | ({"last_message": touched.last_message} if touched.last_message else {})
        data["changed"] = [
            f for f in CONVERSATION_FIELDS if before is not None and getattr(before, f) != getattr(now, f)
        ]
        fid = frame_id(touched.source, FrameType.CONVERSATION_UPDATED, now.id, "agent")
        audience.add(Frame.of(fid, FrameType.CONVERSATION_UPDATED, data), audience.agents(topics, resource))
        if before is not None:
            lost = audience.lost(topics, Resource.conversation(before), resource)
            moved = frame_id(touched.source, FrameType.CONVERSATION_UPDATED, now.id, "moved")
            audience.add(Frame.of(moved, FrameType.CONVERSATION_UPDATED, moved_away_data(now)), lost)
        changed = before is None or (before.status, before.ticket_id) != (now.status, now.ticket_id)
        if touched.inserted or changed:
            fid = frame_id(touched.source, FrameType.CONVERSATION_UPDATED, now.id, "customer")
            frame = Frame.of(fid, FrameType.CONVERSATION_UPDATED, customer_conversation_data(now))
            audience.add(frame, audience.customer(now.customer_id))

    def ticket_updated(self, touched: _Touched) -> None:
        now: Ticket = touched.after
        before: Ticket | None = touched.before
        audience = self.audience
        workspace = self.f._workspace
        resource = Resource.ticket(now)
        topics = _topics("ticket", now.id, now.team_id, now.assignee_id)
        if before is not None:
            topics += _topics(None, None, before.team_id, before.assignee_id)
        data = agent_ticket_data(now, workspace)
        data["changed"] = changed_fields(agent_ticket_data(before, workspace) if before else None, data)
        data["new"] = touched.inserted
        fid = frame_id(touched.source, FrameType.TICKET_UPDATED, now.id, "agent")
        audience.add(Frame.of(fid, FrameType.TICKET_UPDATED, data), audience.agents(topics, resource))
        if before is not None:
            lost = audience.lost(topics, Resource.ticket(before), resource)
            moved = {"id": now.id, "team_id": now.team_id, "assignee_id": now.assignee_id, "moved_away": True}
            fid = frame_id(touched.source, FrameType.TICKET_UPDATED, now.id, "moved")
            audience.add(Frame.of(fid, FrameType.TICKET_UPDATED, moved), lost)
        if not _shared_with_customer(now):
            return
        assert now.customer_id is not None
        seen_now = _customer_visible(customer_ticket_data(now, workspace))
        seen_before = _customer_visible(customer_ticket_data(before, workspace)) if before else None
        if touched.inserted or seen_now != seen_before:
            fid = frame_id(touched.source, FrameType.TICKET_UPDATED, now.id, "customer")
            frame = Frame.of(fid, FrameType.TICKET_UPDATED, customer_ticket_data(now, workspace))
            audience.add(frame, audience.customer(now.customer_id))

    def viewers(self, name: str, source: str) -> None:
        """Who has the conversation or ticket open now, to everyone who has it open (agents only)."""
        kind, ident = name.split("#", 1)
        item: Conversation | Ticket | None = self.conversation(ident) if kind == "conversation" else self.ticket(ident)
        if item is None:
            return
        resource = Resource.conversation(item) if isinstance(item, Conversation) else Resource.ticket(item)
        watching = self.audience.agents([name], resource)
        viewers = {s.id: s.name for s in watching.values()}
        data = {f"{kind}_id": ident, "viewers": [{"id": i, "name": n} for i, n in sorted(viewers.items())]}
        self.audience.add(Frame.of(frame_id(source, FrameType.PRESENCE, name), FrameType.PRESENCE, data), watching)


def _topics(kind: str | None, ident: str | None, team_id: str, assignee_id: str | None) -> list[str]:
    found = [topic("team", team_id)]
    if kind is not None and ident is not None:
        found.append(f"{kind}#{ident}")
    if assignee_id:
        found.append(topic("agent", assignee_id))
    return found


def _shared_with_customer(ticket: Ticket) -> bool:
    return ticket.category is TicketCategory.CUSTOMER and bool(ticket.customer_id)


def _customer_visible(data: dict[str, Any]) -> dict[str, Any]:
    """What a customer would notice changing (not the version or the time of an internal change)."""
    return {k: v for k, v in data.items() if k not in ("version", "updated_at")}
