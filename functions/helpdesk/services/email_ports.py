"""What the email services need from the outside world, as Protocols (ports); adapters implement them
(``adapters/email_records.py``, ``adapters/mail_transport.py``), tests may hand in fakes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from helpdesk.auth.reply_addresses import Thread
from helpdesk.domain.email_threads import EmailThread, KnownAddress, LinkUse, ReceiptStart, Suppression, ThreadRef
from helpdesk.domain.models import (
    Attachment,
    AttachmentRef,
    Customer,
    Rating,
    Ticket,
    TicketPart,
)
from helpdesk.domain.principals import CustomerPrincipal


class EmailRecords(Protocol):
    def thread(self, thread: Thread) -> EmailThread | None: ...

    def remember_email(
        self,
        thread: Thread,
        customer_id: str,
        message_id: str,
        *,
        at: datetime,
        keep_for: timedelta,
        subject: str | None = None,
        customer_address: str | None = None,
    ) -> None: ...

    def remember_alias(
        self, thread: Thread, customer_id: str, message_id: str, *, at: datetime, keep_for: timedelta
    ) -> None: ...

    def thread_of(self, message_id: str) -> ThreadRef | None: ...

    def customer_for(self, address: str) -> KnownAddress | None: ...

    def claim_address(self, address: str, customer_id: str, *, verified: bool, at: datetime) -> KnownAddress: ...

    def suppression(self, address: str) -> Suppression | None: ...

    def suppress(self, suppression: Suppression) -> None: ...

    def start_receipt(
        self, receipt_id: str, *, at: datetime, lease: timedelta, keep_for: timedelta
    ) -> ReceiptStart: ...

    def create_attachment_once(self, attachment: Attachment) -> None: ...

    def finish_receipt(self, receipt_id: str, outcome: str, *, thread: Thread | None) -> None: ...


class MailSender(Protocol):
    def send_raw(self, raw: bytes, *, source: str, to: str, message_id: str) -> str:
        """Send a complete MIME message; returns the Message-ID its recipient sees (no brackets)."""
        ...


class MailFiles(Protocol):
    def raw_message(self, bucket: str, key: str) -> bytes: ...

    def copy_original(self, bucket: str, key: str, filed_key: str) -> None:
        """Copy a received email to ``filed_key`` in the same bucket."""
        ...

    def delete_original(self, bucket: str, key: str) -> None: ...

    def put_attachment(self, key: str, data: bytes, content_type: str) -> None: ...


class LinkUses(Protocol):
    """A link's single use, checked and recorded with what it opens (see ``adapters/email_link_uses``)."""

    def use(self, nonce: str, *, thread: Thread, customer_id: str, at: datetime, expires_at: datetime) -> LinkUse: ...

    def rate(
        self,
        nonce: str,
        *,
        ticket_id: str,
        customer_id: str,
        rating: Rating,
        part: TicketPart,
        at: datetime,
        expires_at: datetime,
    ) -> LinkUse: ...

    def request_renewal(
        self, thread: Thread, customer_id: str, *, locale: str | None, at: datetime, quiet_for: timedelta
    ) -> bool: ...


# --- what ingestion needs of tickets and customers (of conversations: services.ports.ConversationRecords)


class TicketReplies(Protocol):
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    def has_part(self, ticket_id: str, part_id: str) -> bool: ...

    def add_ticket_part(self, part: TicketPart) -> bool: ...


class CustomerReplies(Protocol):
    """The ticket service's customer side: a reply on their ticket (resuming it if it waited on them)."""

    def reply_as_customer(
        self,
        customer: CustomerPrincipal,
        ticket_id: str,
        body: str,
        attachments: list[AttachmentRef] | None = None,
        *,
        reply_id: str | None = None,
    ) -> TicketPart: ...


class CustomerLookup(Protocol):
    def get_customer(self, user_id: str) -> Customer | None: ...
