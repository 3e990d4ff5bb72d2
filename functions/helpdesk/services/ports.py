"""What the services need from the outside world, as Protocols (ports).

Services depend on these, never on an adapter: the composition root (``helpdesk.wiring``) hands
them the DynamoDB stores (``adapters/store``), the S3 files, the queues and engines; tests may hand
them in-memory fakes. A store method raises ``ConditionFailed`` (``helpdesk.domain.errors``) when a
guarded write finds its item changed, and ``VersionConflict`` when a ticket moved on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from helpdesk.domain.file_signatures import StoredFile
from helpdesk.domain.files import PresignedUpload
from helpdesk.domain.live import Subscriber, ThreadType, UnreadCount
from helpdesk.domain.metrics import BoundQuery, QueryResult, QueryState, StoredReport
from helpdesk.domain.models import (
    Agent,
    Attachment,
    AttachmentRef,
    Conversation,
    ConversationStatus,
    Customer,
    FanOutJob,
    Message,
    Page,
    Rating,
    Ticket,
    TicketPart,
    TicketView,
)
from helpdesk.domain.notifications import Claim
from helpdesk.domain.policy import Scope
from helpdesk.domain.search_terms import SearchHit
from helpdesk.domain.thumbnails import Shrunk


class CustomerRecords(Protocol):
    def get_customer(self, user_id: str) -> Customer | None: ...

    def save_preferences(self, customer: Customer) -> None: ...


class AgentRecords(Protocol):
    def get_agent(self, agent_id: str) -> Agent | None: ...

    def save_agent(self, agent: Agent, *, left_teams: Iterable[str] = ()) -> None: ...

    def team_roster(self, team_id: str) -> list[Agent]: ...


class ConversationReader(Protocol):
    def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    def conversation_page(
        self, conversation_id: str, *, after: str | None, limit: int
    ) -> tuple[Conversation | None, list[Message], bool]: ...


class ConversationRecords(ConversationReader, Protocol):
    def read_for_message(
        self, conversation_id: str, attachment_ids: Sequence[str]
    ) -> tuple[Conversation | None, list[Attachment]]: ...

    def start_conversation(
        self, customer: Customer, conversation: Conversation, message: Message, replies: Sequence[Message] = ()
    ) -> None: ...

    def save_bot_turn(self, before: Conversation, after: Conversation, messages: Sequence[Message]) -> None: ...

    def add_message(
        self,
        customer_id: str,
        message: Message,
        *,
        preview: str | None,
        owner: str | None,
        must_be_open: bool,
        ticket_part: TicketPart | None = None,
        files_owner: str | None = None,
    ) -> None: ...

    def set_conversation_status(
        self,
        conversation: Conversation,
        status: ConversationStatus,
        owner: str | None,
        message: Message | None = None,
        *,
        only_if_snoozed_until: Any = None,
    ) -> None: ...

    def conversations_due_to_wake(
        self, now: datetime, *, days_back: int = 7, limit: int = 100
    ) -> list[Conversation]: ...

    def assign_conversation(self, conversation: Conversation, message: Message) -> None: ...

    def record_verification(self, conversation_id: str, owner: str, message: Message) -> None: ...

    def merge_visitor(self, visitor_id: str, customer: Customer) -> int: ...

    def list_customer_conversations(
        self, customer_id: str, *, cursor: str | None, limit: int
    ) -> Page[Conversation]: ...

    def list_team_conversations(
        self, team_id: str, status: ConversationStatus, *, cursor: str | None, limit: int, oldest_first: bool = False
    ) -> Page[Conversation]: ...

    def list_assignee_conversations(
        self, assignee_id: str | None, *, cursor: str | None, limit: int, oldest_first: bool = False
    ) -> Page[Conversation]: ...


class AttachmentRecords(Protocol):
    def create_attachment(self, attachment: Attachment) -> None: ...

    def get_attachment(self, attachment_id: str) -> Attachment | None: ...

    def get_attachments(self, attachment_ids: Sequence[str]) -> list[Attachment]: ...


class TicketReader(Protocol):
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    def ticket_page(
        self, ticket_id: str, *, before: str | None, limit: int
    ) -> tuple[Ticket | None, list[TicketPart], bool]: ...

    def has_part(self, ticket_id: str, part_id: str) -> bool: ...

    def get_tickets(self, ticket_ids: Sequence[str]) -> list[Ticket]: ...


class TicketRecords(TicketReader, Protocol):
    def read_for_reply(
        self, ticket_id: str, attachment_ids: Sequence[str]
    ) -> tuple[Ticket | None, list[Attachment]]: ...

    def read_for_conversion(self, conversation_id: str) -> tuple[Conversation | None, int]: ...

    def next_ticket_number(self) -> int: ...

    def create_ticket(
        self,
        ticket: Ticket,
        parts: Sequence[TicketPart],
        *,
        from_conversation: Conversation | None = None,
        conversation_message: Message | None = None,
        conversation_status: ConversationStatus | None = None,
        claims_number: bool = False,
    ) -> None: ...

    def update_ticket(
        self,
        ticket: Ticket,
        *,
        based_on_version: int,
        parts: Iterable[TicketPart],
        attachment_owner: str | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> Ticket: ...

    def add_ticket_part(self, part: TicketPart) -> bool: ...

    def tickets_about(self, object_type: str, object_id: str, *, limit: int = 100) -> list[str]: ...

    def rate_ticket(self, ticket_id: str, customer_id: str, rating: Rating, part: TicketPart) -> None: ...

    def list_customer_tickets(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Ticket]: ...

    def list_tickets_in_view(
        self, view: TicketView, *, cursor: str | None, limit: int, oldest_first: bool = False
    ) -> Page[Ticket]: ...


class TrackerRecords(Protocol):
    def link_to_tracker(
        self, tracker_id: str, ticket_ids: Sequence[str], at: datetime, *, within: Scope | None = None
    ) -> None: ...

    def tracker_links(self, tracker_id: str, *, cursor: str | None, limit: int) -> tuple[list[str], str | None]: ...


class FanOutQueue(Protocol):
    """Carries tracker fan-out jobs, one page of linked tickets per message."""

    def send(self, job: FanOutJob) -> None: ...


class WorkflowEngine(Protocol):
    """Step Functions as the services see it."""

    def start(self, workflow: str, execution_name: str, payload: dict[str, Any]) -> bool:
        """Start an execution; False when one of that name already exists (a duplicate start)."""
        ...

    def complete(self, token: str, output: dict[str, Any]) -> bool:
        """Complete a waiting task; False when the token is no longer waiting (already completed, timed out)."""
        ...

    def heartbeat(self, token: str) -> bool:
        """Tell a waiting task it is still looked after; False when the token is no longer waiting."""
        ...


class ParkedWorkflowStore(Protocol):
    """Where a parked workflow's task token is kept on its ticket, and which tokens expect heartbeats."""

    def park(self, ticket_id: str, token: str, version: int, *, watched: bool) -> bool:
        """Keep the token on the ticket if it is still at ``version``; ``watched``: it expects heartbeats."""
        ...

    def watched(self, after: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
        """A page of (ticket id, token) expecting heartbeats, and where the next page starts (None: done)."""
        ...

    def forget(self, ticket_id: str, token: str) -> bool:
        """Drop the ticket's token unless a newer one replaced it."""
        ...


class AttachmentFiles(Protocol):
    """Where attachments' bytes live (S3): short-lived presigned links, and what was really uploaded."""

    def presigned_upload(self, key: str, content_type: str, size: int) -> PresignedUpload: ...

    def presigned_download(self, key: str, filename: str, content_type: str, *, inline: bool = False) -> str:
        """A short-lived GET link answering with ``content_type``, shown in the page only if ``inline``."""
        ...

    def stored_file(self, key: str) -> StoredFile | None:
        """What was really stored under ``key`` (size, type, first bytes), or None if nothing was."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key`` (one HEAD; e.g. a thumbnail made since)."""
        ...


class StoredObjects(Protocol):
    """The thumbnailer's view of the attachments bucket: read an upload, write its thumbnail."""

    def read_object(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's bytes, or None if it is gone or larger than ``max_bytes``."""
        ...

    def write_thumbnail(self, key: str, jpeg: bytes) -> None: ...


class ImageShrinker(Protocol):
    """Draws a thumbnail of an image file (``helpdesk.domain.thumbnails`` sets the limits)."""

    def thumbnail(self, original: bytes) -> Shrunk: ...


class DeliveryLedger(Protocol):
    """Per (status update, channel): claimed, sent, failed or handed back (see ``adapters/channels.py``)."""

    def claim(
        self, update_id: str, channel: str, *, now: datetime, lease: timedelta, message_id: str | None = None
    ) -> Claim: ...

    def mark_sent(self, update_id: str, channel: str, *, now: datetime) -> None: ...

    def mark_failed(self, update_id: str, channel: str, *, reason: str, now: datetime) -> None: ...

    def release(self, update_id: str, channel: str, claim: Claim, *, now: datetime) -> None: ...


class LiveRecords(Protocol):
    """The live channel's records (``adapters/store/live.py``): connections, subscriptions, unread
    counters and first-reply times."""

    def open_connection(
        self, subscriber: Subscriber, topics: Sequence[str], at: datetime, *, presence: str | None = None
    ) -> None: ...

    def subscribe(self, subscriber: Subscriber, topic: str, at: datetime, *, replacing: str | None = None) -> None: ...

    def unsubscribe(self, connection_id: str, topic: str) -> None: ...

    def close_connection(self, connection_id: str) -> list[str]: ...

    def listeners(self, topic: str) -> list[Subscriber]: ...

    def count_unread(
        self,
        customer_id: str,
        thread_type: ThreadType,
        thread_id: str,
        *,
        sequence: str,
        at: datetime,
        add: int | None,
    ) -> bool: ...

    def mark_read(self, customer_id: str, thread_type: ThreadType, thread_id: str, at: datetime) -> bool: ...

    def unread_counts(self, customer_id: str, *, limit: int = 200) -> list[UnreadCount]: ...

    def record_first_reply(self, conversation_id: str, team_id: str, seconds: float, at: datetime) -> bool: ...

    def reply_times(self, team_id: str, days: Iterable[str]) -> tuple[int, float]: ...


class LiveConnections(Protocol):
    """API Gateway's WebSocket management API: posts a frame to one connection (False: it is gone)."""

    def post(self, connection_id: str, frame: Mapping[str, Any]) -> bool: ...


class AttachmentChecker(Protocol):
    """Turns the attachment ids a message names into references, checking they are the customer's."""

    def refs_for_message(
        self, customer_id: str, attachment_ids: list[str], *, known: Sequence[Attachment] | None = None
    ) -> list[AttachmentRef]: ...


# --- the reports ---------------------------------------------------------------------------------


class LakeQueries(Protocol):
    def start(self, query: BoundQuery) -> str: ...

    def state(self, execution_id: str) -> QueryState: ...

    def results(self, execution_id: str) -> QueryResult: ...

    def failure(self, execution_id: str) -> str | None: ...


class ReportResults(Protocol):
    def get(self, key: str) -> StoredReport | None: ...

    def put(self, report: StoredReport) -> None: ...

    def forget_answers(self, at: datetime) -> None:
        """Every answer whose query started before ``at`` reads as missing from now on (an erasure)."""
        ...


class SearchKeys(Protocol):
    """The search keys written with customers, tickets and conversations (exact and prefix lookups)."""

    def find(self, term: str, *, limit: int) -> list[SearchHit]: ...

    def read_found(
        self, customer_ids: Sequence[str], ticket_ids: Sequence[str], conversation_ids: Sequence[str]
    ) -> tuple[list[Customer], list[Ticket], list[Conversation]]: ...


class MessageSearch(Protocol):
    """The full-text index of conversations' messages (kept up to date from the table's stream)."""

    def conversations_matching(self, text: str, *, limit: int) -> list[str]:
        """Ids of the conversations whose messages best match ``text``, best first."""
        ...
