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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from helpdesk.domain.live import (
    Frame,
    FrameType,
    LiveSubscription,
    StoredMessage,
    Subscriber,
    TableChange,
    UnreadCount,
    message_data,
    part_data,
    topic,
    topic_kind,
)
from helpdesk.domain.models import (
    AuthorType,
    Conversation,
    MessageKind,
    Ticket,
    TicketPart,
)
from helpdesk.domain.policy import Resource
from helpdesk.domain.workspace import Workspace
from helpdesk.services import live_presence, live_updates
from helpdesk.services.live_audience import Audience
from helpdesk.services.ports import AgentRecords, ConversationReader, LiveConnections, LiveRecords, TicketReader

log = logging.getLogger(__name__)
POST_WORKERS = 8


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
        report = self._send(batch.audience.outbox)
        for keep in batch.bookkeeping:  # after the frames are out: the pages don't wait for the counters
            keep()
        return report

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
        self.bookkeeping: list[Callable[[], object]] = []
        """Counter writes (unread counts, first replies), done once the batch's frames are posted."""
        for change in changes:  # the newest image of each conversation and ticket in the batch
            if change.kind in ("conversation", "ticket") and change.new is not None:
                self.latest[f"{change.kind}#{change.new.id}"] = change.new

    def _newest[T](self, kind: str, item_id: str, read: Callable[[str], T | None], of: type[T]) -> T | None:
        """The batch's newest image of it, or else what ``read`` finds (once a batch)."""
        key = f"{kind}#{item_id}"
        if key not in self.latest:
            self.latest[key] = read(item_id)
        found = self.latest[key]
        return found if isinstance(found, of) else None

    def conversation(self, conversation_id: str) -> Conversation | None:
        return self._newest("conversation", conversation_id, self.f._conversations.get_conversation, Conversation)

    def ticket(self, ticket_id: str) -> Ticket | None:
        return self._newest("ticket", ticket_id, self.f._tickets.get_ticket, Ticket)

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
                live_presence.availability(self, change)
            case "live_connection":
                live_presence.connection(self, change)
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
        created = partial(Frame.caused_by, change.event_id, FrameType.MESSAGE_CREATED, message.id)
        if not message.internal:
            customer = audience.customer(conversation.customer_id)
            audience.add(created(message_data(message, for_agent=False), "customer"), customer)
        watchers = audience.agents([topic("conversation", conversation.id)], Resource.conversation(conversation))
        audience.add(created(message_data(message, for_agent=True), "agent"), watchers)
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
            self.bookkeeping.append(
                partial(
                    records.count_unread,
                    stored.customer_id,
                    "conversation",
                    conversation.id,
                    sequence=change.sequence,
                    at=message.created_at,
                    add=1,
                )
            )
        if message.author.type is AuthorType.AGENT and not message.internal and message.kind is MessageKind.TEXT:
            seconds = max(0.0, (message.created_at - conversation.created_at).total_seconds())
            self.bookkeeping.append(
                partial(records.record_first_reply, conversation.id, conversation.team_id, seconds, message.created_at)
            )

    def part(self, change: TableChange, part: TicketPart) -> None:
        ticket = self.ticket(part.ticket_id)
        if ticket is None:
            return
        audience = self.audience
        created = partial(Frame.caused_by, change.event_id, FrameType.TICKET_REPLY_CREATED, part.id)
        if live_updates.shared_with_customer(ticket) and part.visible_to_customer:
            assert ticket.customer_id is not None
            customer = audience.customer(ticket.customer_id)
            audience.add(created(part_data(part, for_agent=False), "customer"), customer)
            if part.author.type is not AuthorType.CUSTOMER:
                self.bookkeeping.append(
                    partial(
                        self.f._records.count_unread,
                        ticket.customer_id,
                        "ticket",
                        ticket.id,
                        sequence=change.sequence,
                        at=part.created_at,
                        add=1,
                    )
                )
        watchers = audience.agents([topic("ticket", ticket.id)], Resource.ticket(ticket))
        audience.add(created(part_data(part, for_agent=True), "agent"), watchers)

    def unread(self, change: TableChange) -> None:
        count: UnreadCount = change.new
        if change.customer_id is None:
            return
        was: UnreadCount | None = change.old
        if was is not None and was.unread == count.unread:
            return
        self.audience.add(
            Frame.caused_by(change.event_id, FrameType.UNREAD, count.thread_id, count.as_data()),
            self.audience.customer(change.customer_id),
        )

    def coalesced(self) -> None:
        for touched in self.conversations.values():
            if touched.after is not None:
                live_updates.conversation_updated(self, touched)
        for touched in self.tickets.values():
            if touched.after is not None:
                live_updates.ticket_updated(self, touched)
        for name, source in self.watched.items():
            live_presence.viewers(self, name, source)
