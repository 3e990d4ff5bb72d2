"""Data-protection requests about one customer: the export of everything we hold, and its erasure.

Both are long jobs (a customer's data spans many partitions of the table, S3 and the lake), so a
request is recorded first and worked on asynchronously: the export by the privacy worker, the
erasure by a Step Functions workflow whose steps the same worker runs. The request's record is what
the inbox polls; once an erasure is done it is the audit entry, and holds no personal data: the
customer is named by ``customer_ref`` (a SHA-256 of their id, so an auditor holding the id can
check it was erased), never by id, name, address or words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from helpdesk.domain.models import Attachment, Conversation, Customer, Message, Ticket, TicketPart
from helpdesk.surfaces import EMAIL_ORIGINALS_PREFIX

ERASED = "[erased]"
"""What replaces the customer's name, address or phone where an anonymized record keeps its place."""
ERASED_CUSTOMER_PREFIX = "erased-"
EXPORT_LINK_SECONDS = 15 * 60
"""How long an export's download link works."""


class RequestKind(StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class RequestStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ErasureCounts(BaseModel):
    """What an erasure removed or anonymized (counts only: the audit keeps nothing else)."""

    items_deleted: int = 0
    items_anonymized: int = 0
    files_deleted: int = 0
    lake_objects_rewritten: int = 0
    lake_events_removed: int = 0


class DataRequest(BaseModel):
    """One export or erasure of one customer's data, as recorded in the table."""

    id: str
    kind: RequestKind
    customer_id: str | None = Field(
        description="An erasure's until it finishes (the audit keeps only the ref); never an export's (its task)."
    )
    customer_ref: str
    status: RequestStatus = RequestStatus.RUNNING
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    object_key: str | None = None
    """The export's zip in S3."""
    counts: ErasureCounts | None = None
    failure: str | None = None


def customer_ref(customer_id: str) -> str:
    """The audit's name for a customer: not reversible without the id, and the same for the same id."""
    return hashlib.sha256(customer_id.encode()).hexdigest()


def erased_customer_id(customer_id: str) -> str:
    """What replaces a customer's id on the records kept anonymized (the same for all their records)."""
    return ERASED_CUSTOMER_PREFIX + customer_ref(customer_id)[:24]


def export_key(customer_id: str, request_id: str) -> str:
    """Where the export's zip is written (a prefix of its own, with a short lifecycle)."""
    return f"exports/{customer_ref(customer_id)[:16]}/{request_id}.zip"


def email_originals_prefix(customer_id: str) -> str:
    """Where the email ingest files the emails of a customer once it knows whose they are: under SES's
    own ``inbound/`` (the bucket's retention rule covers them), named by ``customer_ref`` (an id may
    hold their email address), so their export finds them and their erasure deletes them by prefix."""
    return f"{EMAIL_ORIGINALS_PREFIX}{customer_ref(customer_id)[:32]}/"


def email_original_key(customer_id: str, receipt_id: str) -> str:
    return email_originals_prefix(customer_id) + receipt_id


def belongs_to(event: Mapping[str, Any], customer_id: str, record_ids: frozenset[str]) -> bool:
    """Whether a lake event (the bus envelope) is about the customer: their id, or one of their
    conversations' or tickets' ids (``TicketReplied`` carries no customer id)."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return False
    if detail.get("customer_id") == customer_id:
        return True
    return any(detail.get(name) in record_ids for name in ("conversation_id", "ticket_id") if detail.get(name))


def scrub(text: str | None, secrets: Iterable[str | None]) -> str | None:
    """``text`` with every occurrence of the customer's name, address or phone replaced (case-insensitive)."""
    if not text:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(secret), ERASED, text, flags=re.IGNORECASE)
    return text


class CustomerHoldings(BaseModel):
    """Everything the table holds about one customer, as the export shows it and the erasure removes it."""

    customer_id: str
    profile: Customer | None = None
    conversations: list[ConversationRecord] = Field(default_factory=list)
    tickets: list[TicketRecord] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)

    @property
    def record_ids(self) -> frozenset[str]:
        """Their conversations' and tickets' ids: what lake events about them carry."""
        return frozenset([c.conversation.id for c in self.conversations] + [t.ticket.id for t in self.tickets])

    @property
    def secrets(self) -> list[str | None]:
        """What identifies them in free text: their name, email addresses and phone."""
        found: list[str | None] = []
        if self.profile is not None:
            found += [self.profile.name, self.profile.email, self.profile.phone]
        for record in self.conversations:
            found += [record.conversation.customer_name, record.conversation.customer_email]
        return found

    @property
    def email_addresses(self) -> set[str]:
        addresses = {self.profile.email} if self.profile and self.profile.email else set()
        return addresses | {c.conversation.customer_email for c in self.conversations if c.conversation.customer_email}


class ConversationRecord(BaseModel):
    conversation: Conversation
    messages: list[Message] = Field(default_factory=list)


class TicketRecord(BaseModel):
    ticket: Ticket
    parts: list[TicketPart] = Field(default_factory=list)


def said_by_customer(author_type: str) -> bool:
    """The customer's own words (deleted by an erasure) as opposed to an agent's, the bot's or the system's."""
    return author_type == "customer"


CustomerHoldings.model_rebuild()
