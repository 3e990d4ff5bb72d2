"""The email channel's items in the single table: threads, the Message-IDs we know, the address
directory, suppressions, used links and received emails.

==============================  ==============================  ==========  =============================
item                            PK                              SK          what
==============================  ==============================  ==========  =============================
email thread                    ``EMAILTHREAD#<c|t>#<id>``      ``THREAD``  subject, the customer's address,
                                                                            the References chain (newest 20)
known Message-ID                ``EMAILID#<message-id>``        ``THREAD``  which thread an email we sent or
                                                                            received belongs to (TTL)
address directory               ``EMAILADDR#<address>``         ``CUSTOMER`` the customer an address is, and
                                                                            whether the business verified it
suppressed address              ``SUPPRESSED#<address>``        ``EMAIL``   why (bounce, complaint) and since
received email                  ``INBOUND#<SES message id>``    ``RECEIPT`` what became of it (TTL)
==============================  ==============================  ==========  =============================

Access patterns, each one GetItem or one conditional PutItem/UpdateItem, never a Query or Scan:
find a thread's state; find the thread a Message-ID belongs to (one GetItem per id tried, newest
first, at most a few); find the customer an address is; is an address suppressed; record a received
email's outcome. Links from emails have their own items (``email_link_uses``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from helpdesk.adapters import mapping
from helpdesk.adapters.table import TTL_ATTRIBUTE, AttachmentItem, TableItem
from helpdesk.auth.reply_addresses import Thread, ThreadKind
from helpdesk.domain.email_messages import normalize_address
from helpdesk.domain.email_threads import (
    EmailThread,
    KnownAddress,
    ReceiptStart,
    ReceiptStatus,
    Suppression,
    ThreadRef,
)
from helpdesk.domain.models import Attachment

MAX_REFERENCES = 20
ADDRESS_DIRECTORY_PREFIX = "EMAILADDR#"
RECEIVING = "receiving"
"""A received email's outcome while it is being handled (an attempt died if it stays so)."""
MAX_MESSAGE_ID_LENGTH = 900
"""A key can be up to 2 KB; Message-IDs are short, but they come from strangers."""


class EmailThreadItem(TableItem, discriminator="email_thread"):
    thread_kind = UnicodeAttribute()
    thread_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    customer_address = UnicodeAttribute(null=True)
    references = JSONAttribute(null=True)
    updated_at = UTCDateTimeAttribute()


class EmailIdItem(TableItem, discriminator="email_id"):
    thread_kind = UnicodeAttribute()
    thread_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


class EmailAddressItem(TableItem, discriminator="email_address"):
    customer_id = UnicodeAttribute()
    verified = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()


class SuppressionItem(TableItem, discriminator="email_suppression"):
    reason = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)
    since = UTCDateTimeAttribute()


class InboundReceiptItem(TableItem, discriminator="inbound_email"):
    outcome = UnicodeAttribute()
    thread_kind = UnicodeAttribute(null=True)
    thread_id = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    attempt_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


def thread_pk(thread: Thread) -> str:
    return f"EMAILTHREAD#{thread.kind.value}#{thread.id}"


def _message_id_pk(message_id: str) -> str:
    return f"EMAILID#{message_id.strip().strip('<>').lower()[:MAX_MESSAGE_ID_LENGTH]}"


def _created(error: PutError) -> bool:
    """False when a create-only put found the item there already (anything else is raised)."""
    if error.cause_response_code == "ConditionalCheckFailedException":
        return False
    raise error


class DynamoEmailRecords:
    """The email items of the table (see the module docstring for keys and access patterns)."""

    # --- threads ---------------------------------------------------------------------------------

    def thread(self, thread: Thread) -> EmailThread | None:
        """One GetItem."""
        try:
            item = EmailThreadItem.get(thread_pk(thread), "THREAD")
        except DoesNotExist:
            return None
        return EmailThread(
            thread=thread,
            customer_id=item.customer_id,
            subject=item.subject,
            customer_address=item.customer_address,
            references=tuple(item.references or ()),
        )

    def remember_alias(
        self, thread: Thread, customer_id: str, message_id: str, *, at: datetime, keep_for: timedelta
    ) -> None:
        """Record that ``message_id`` belongs to ``thread`` (one PutItem), without adding it to the chain."""
        EmailIdItem(
            pk=_message_id_pk(message_id),
            sk="THREAD",
            thread_kind=thread.kind.value,
            thread_id=thread.id,
            customer_id=customer_id,
            created_at=at,
            expires_at=at + keep_for,
        ).save()

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
    ) -> None:
        """Record that ``message_id`` belongs to ``thread`` and add it to the thread's References chain.

        Three requests (the id's own item, reading and updating the thread); ``subject`` is kept from
        the first email that names one, ``customer_address`` is where replies go from now on.
        """
        self.remember_alias(thread, customer_id, message_id, at=at, keep_for=keep_for)
        current = self.thread(thread)
        chain = [*(current.references if current else ()), f"<{message_id.strip('<>')}>"]
        actions: list[Any] = [
            EmailThreadItem.kind.set(EmailThreadItem),
            EmailThreadItem.thread_kind.set(thread.kind.value),
            EmailThreadItem.thread_id.set(thread.id),
            EmailThreadItem.customer_id.set(customer_id),
            EmailThreadItem.references.set(list(dict.fromkeys(chain))[-MAX_REFERENCES:]),
            EmailThreadItem.updated_at.set(at),
        ]
        if subject:
            actions.append(EmailThreadItem.subject.set(EmailThreadItem.subject | subject))
        if customer_address:
            actions.append(EmailThreadItem.customer_address.set(customer_address))
        EmailThreadItem(pk=thread_pk(thread), sk="THREAD").update(actions=actions)

    def thread_of(self, message_id: str) -> ThreadRef | None:
        """One GetItem: the thread an email id we sent or received belongs to, while it is kept."""
        try:
            item = EmailIdItem.get(_message_id_pk(message_id), "THREAD")
        except DoesNotExist:
            return None
        return ThreadRef(thread=Thread(ThreadKind(item.thread_kind), item.thread_id), customer_id=item.customer_id)

    # --- the address directory -------------------------------------------------------------------

    def customer_for(self, address: str) -> KnownAddress | None:
        """One GetItem."""
        try:
            item = EmailAddressItem.get(f"{ADDRESS_DIRECTORY_PREFIX}{normalize_address(address)}", "CUSTOMER")
        except DoesNotExist:
            return None
        return KnownAddress(customer_id=item.customer_id, verified=bool(item.verified))

    def claim_address(self, address: str, customer_id: str, *, verified: bool, at: datetime) -> KnownAddress:
        """Make ``address`` this customer's. An unverified claim (an email's sender) only takes a free
        address (else the existing owner is returned); a verified one (the business signed it) always
        takes it: the business's latest word wins.
        """
        pk = f"{ADDRESS_DIRECTORY_PREFIX}{normalize_address(address)}"
        item = EmailAddressItem(pk=pk, sk="CUSTOMER", customer_id=customer_id, verified=verified, created_at=at)
        if verified:
            item.save()
            return KnownAddress(customer_id=customer_id, verified=True)
        try:
            item.save(condition=EmailAddressItem.pk.does_not_exist())
        except PutError as error:
            _created(error)
            existing = self.customer_for(address)
            if existing is not None:
                return existing
            raise  # pragma: no cover - the item can't vanish between the two requests
        return KnownAddress(customer_id=customer_id, verified=verified)

    # --- suppressions ----------------------------------------------------------------------------

    def suppression(self, address: str) -> Suppression | None:
        """One GetItem."""
        try:
            item = SuppressionItem.get(f"SUPPRESSED#{normalize_address(address)}", "EMAIL")
        except DoesNotExist:
            return None
        return Suppression(address=normalize_address(address), reason=item.reason, detail=item.detail, since=item.since)

    def suppress(self, suppression: Suppression) -> None:
        SuppressionItem(
            pk=f"SUPPRESSED#{normalize_address(suppression.address)}",
            sk="EMAIL",
            reason=suppression.reason,
            detail=suppression.detail,
            since=suppression.since,
        ).save()

    def lift_suppression(self, address: str) -> None:
        SuppressionItem(pk=f"SUPPRESSED#{normalize_address(address)}", sk="EMAIL").delete()

    # --- received emails -------------------------------------------------------------------------

    def create_attachment_once(self, attachment: Attachment) -> None:
        """The attachment record of a file kept from an email; a retry finds it there and leaves it."""
        try:
            mapping.attachment_item(attachment).save(condition=AttachmentItem.pk.does_not_exist())
        except PutError as error:
            _created(error)

    def start_receipt(self, receipt_id: str, *, at: datetime, lease: timedelta, keep_for: timedelta) -> ReceiptStart:
        """Take the right to handle a received email: once, or again when an earlier attempt died.

        ``started_at`` is the first attempt's time, so a retry derives the same ids and writes nothing
        twice; an attempt still within ``lease`` of its start makes this one ``busy``. One conditional
        write (and a GetItem when an earlier attempt was there first).
        """
        pk = f"INBOUND#{receipt_id}"
        item = InboundReceiptItem(
            pk=pk, sk="RECEIPT", outcome=RECEIVING, received_at=at, attempt_at=at, expires_at=at + keep_for
        )
        try:
            item.save(condition=InboundReceiptItem.pk.does_not_exist())
        except PutError as error:
            _created(error)
        else:
            return ReceiptStart(ReceiptStatus.NEW, at)
        earlier = InboundReceiptItem.get(pk, "RECEIPT", consistent_read=True)
        if earlier.outcome != RECEIVING:
            return ReceiptStart(ReceiptStatus.DONE, earlier.received_at, str(earlier.outcome))
        try:
            earlier.update(
                actions=[InboundReceiptItem.attempt_at.set(at)],
                condition=InboundReceiptItem.attempt_at < at - lease,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return ReceiptStart(ReceiptStatus.BUSY, earlier.received_at)
        return ReceiptStart(ReceiptStatus.RETRY, earlier.received_at)

    def finish_receipt(self, receipt_id: str, outcome: str, *, thread: Thread | None) -> None:
        actions: list[Any] = [InboundReceiptItem.outcome.set(outcome)]
        if thread is not None:
            actions += [
                InboundReceiptItem.thread_kind.set(thread.kind.value),
                InboundReceiptItem.thread_id.set(thread.id),
            ]
        InboundReceiptItem(pk=f"INBOUND#{receipt_id}", sk="RECEIPT").update(actions=actions)
