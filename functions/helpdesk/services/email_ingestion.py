"""Email in: what SES received for the support address becomes a message on the right thread, or nothing.

The steps, for one received email (``ReceivedEmail``: where SES stored it, for whom, its verdicts):

1. **Once.** A receipt record makes a redelivered notification a no-op; ids are derived from the
   first attempt, so an attempt that died part-way is redone without writing anything twice.
2. **Machines and verdicts.** Auto-replies, bounces, bulk mail and our own mail coming back create
   nothing (``email_automation``). A virus or spam verdict drops it or flags it (workspace setting);
   a DMARC failure is always flagged for agents: the sender may not be who they say.
3. **Threading.** The signed reply address names the thread; failing that, ``In-Reply-To`` and
   ``References`` against the Message-IDs we sent or received. A thread is only joined when the
   sender *is* that thread's customer (the address on file) and DMARC didn't fail: a valid reply
   address forwarded to someone else, a forged one, or an expired one starts a new conversation
   instead, with a note saying so, and never touches the thread.
4. **Who.** A new email from an address the business verified (a messenger customer's signed email)
   joins that customer's history; any other sender is an unverified email customer
   (``email:<id>``). Nothing here verifies anyone: the conversation carries no verified attributes,
   so custom actions on the customer's records still need verification in the messenger.
5. **What.** The body without quoted history or signature (``email_bodies``; the original stays in
   S3), and the files under the messenger's type and size rules; what isn't kept is noted for agents.
   The original is then filed under its customer (``privacy.email_original_key``), where their
   export reads it and their erasure deletes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ulid import ULID

from helpdesk.auth.customer_tokens import EMAIL_CUSTOMER_PREFIX
from helpdesk.auth.email_keys import EmailKeys
from helpdesk.auth.reply_addresses import ReplyTokenProblem, Thread, ThreadKind, check_reply_token, token_of
from helpdesk.domain.email_automation import classify
from helpdesk.domain.email_bodies import reply_text
from helpdesk.domain.email_channel import EmailChannel, VerdictAction
from helpdesk.domain.email_messages import EmailFile, Mailbox, ParsedEmail, normalize_address, parse_email
from helpdesk.domain.email_receipts import ReceivedEmail
from helpdesk.domain.email_threads import ReceiptStatus
from helpdesk.domain.errors import ConditionFailed, Conflict
from helpdesk.domain.models import (
    MAX_MESSAGE_LENGTH,
    AttachmentRef,
    Author,
    AuthorType,
    Channel,
    ContextPackage,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    PartType,
    TicketPart,
    utc_now,
)
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.domain.privacy import email_original_key
from helpdesk.services.email_files import files_to_keep, skipped_note, store_files
from helpdesk.services.email_ports import (
    CustomerLookup,
    CustomerReplies,
    EmailRecords,
    MailFiles,
    TicketReplies,
)
from helpdesk.services.messages import internal_note
from helpdesk.services.ports import ConversationRecords

RECEIPT_LEASE = timedelta(minutes=3)
"""Longer than the ingest function's timeout: an attempt older than this died."""
RECEIPTS_KEPT = timedelta(days=14)
PREVIEW_LENGTH = 140
CHANNEL_AUTHOR = Author(type=AuthorType.BOT, id="email", name="Email")


class Outcome(StrEnum):
    CONVERSATION_STARTED = "conversation_started"
    CONVERSATION_REPLY = "conversation_reply"
    TICKET_REPLY = "ticket_reply"
    AUTOMATED = "automated"
    """An auto-reply, bounce, bulk mail or loop: nothing created."""
    DROPPED = "dropped"
    """A verdict (virus, spam) the workspace drops, or no usable sender: nothing created."""
    DUPLICATE = "duplicate"
    BUSY = "busy"
    """Another attempt is handling it right now; it will be checked again."""


@dataclass(frozen=True)
class Ingested:
    outcome: Outcome
    reason: str = ""
    """Why (names a rule or header, never an address or text)."""
    thread: Thread | None = None
    flags: tuple[str, ...] = ()
    customer_id: str | None = None
    """Whose thread it joined or started (its original is filed under them)."""


class EmailNotConfigured(RuntimeError):
    """The workspace takes no email in (no ``email/channel.yaml``), yet an email reached the worker."""


class ReceivedEmailBusy(Exception):
    """Another worker is handling this email right now: try again later."""


@dataclass(frozen=True)
class SupportAddresses:
    support: str
    """``support@<domain>``: where customers write."""
    own: frozenset[str] = field(default_factory=frozenset)
    """Every address we send from (mail from them is a loop)."""


def derived_id(at: datetime, seed: str, *, order: int = 0) -> str:
    """A ULID sorting at ``at`` (plus ``order`` milliseconds, so what is written together reads back in
    order) whose random part comes from ``seed``: the same on every retry."""
    milliseconds = int(at.timestamp() * 1000) + order
    digest = hashlib.sha256(seed.encode()).digest()
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + digest[:10]))


@dataclass
class _Candidate:
    thread: Thread
    customer_id: str
    via: str
    """``reply address`` or ``headers``."""


class EmailIngestion:
    def __init__(
        self,
        *,
        records: EmailRecords,
        files: MailFiles,
        conversations: ConversationRecords,
        tickets: TicketReplies,
        replies: CustomerReplies,
        customers: CustomerLookup,
        keys: EmailKeys,
        channel: EmailChannel,
        addresses: SupportAddresses,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._files = files
        self._conversations = conversations
        self._tickets = tickets
        self._replies = replies
        self._customers = customers
        self._keys = keys
        self._channel = channel
        self._addresses = addresses
        self._clock = clock

    def ingest(self, received: ReceivedEmail) -> Ingested:
        receipt_id = received.mail.message_id
        start = self._records.start_receipt(receipt_id, at=self._clock(), lease=RECEIPT_LEASE, keep_for=RECEIPTS_KEPT)
        if start.status is ReceiptStatus.DONE:
            return Ingested(Outcome.DUPLICATE, start.outcome or "")
        if start.status is ReceiptStatus.BUSY:
            raise ReceivedEmailBusy(f"received email {receipt_id} is being handled right now")
        action = received.receipt.action
        if not action.bucket_name or not action.object_key:
            result = Ingested(Outcome.DROPPED, "the notification names no stored message")
        else:
            message = parse_email(self._files.raw_message(action.bucket_name, action.object_key))
            result = self._handle(received, message, start.started_at)
            if result.customer_id is not None:
                # Filed under its customer before the receipt is done (a retry still finds the original):
                # an erasure deletes their emails by prefix. Unfiled ones (automated, dropped) expire.
                filed = email_original_key(result.customer_id, receipt_id)
                self._files.copy_original(action.bucket_name, action.object_key, filed)
        self._records.finish_receipt(receipt_id, result.outcome.value, thread=result.thread)
        if result.customer_id is not None and action.bucket_name and action.object_key:
            self._files.delete_original(action.bucket_name, action.object_key)
        return result

    # --- deciding --------------------------------------------------------------------------------

    def _handle(self, received: ReceivedEmail, message: ParsedEmail, at: datetime) -> Ingested:
        own = self._addresses.own | {normalize_address(self._addresses.support)}
        automated = classify(message, own_addresses=own)
        if automated is not None:
            return Ingested(Outcome.AUTOMATED, f"{automated.kind.value}: {automated.reason}")
        if received.virus and self._channel.virus is VerdictAction.DROP:
            return Ingested(Outcome.DROPPED, "virus verdict")
        if received.spam and self._channel.spam is VerdictAction.DROP:
            return Ingested(Outcome.DROPPED, "spam verdict")
        sender = message.sender
        if sender is None:
            return Ingested(Outcome.DROPPED, "no sender address")
        flags = self._flags(received)
        notes: list[str] = []
        candidate = self._thread_candidate(received, message, notes)
        seed = received.mail.message_id
        if candidate is not None and self._is_the_threads_customer(candidate, sender, received):
            return self._join(candidate, message, sender, at, seed, flags)
        if candidate is not None:
            notes.append(
                f"This email was sent to the {'reply address' if candidate.via == 'reply address' else 'thread'} "
                f"of {self._describe(candidate.thread)}, but not from its customer's address, so it starts a new "
                "conversation instead."
            )
        return self._start(message, sender, at, seed, flags, notes)

    def _flags(self, received: ReceivedEmail) -> tuple[str, ...]:
        flags = []
        if received.spam:
            flags.append("SES marked this email as spam.")
        if received.virus:
            flags.append("SES found a virus in this email: don't open its files.")
        if received.dmarc_failed:
            flags.append("DMARC failed: the sender may not be who the From address says.")
        elif received.spf_failed:
            flags.append("SPF failed: the sending server isn't one the sender's domain names.")
        return tuple(flags)

    def _thread_candidate(self, received: ReceivedEmail, message: ParsedEmail, notes: list[str]) -> _Candidate | None:
        recipients = [*received.receipt.recipients, *(m.address for m in (*message.to, *message.cc))]
        for recipient in recipients:
            token = token_of(recipient, self._addresses.support)
            if token is None:
                continue
            check = check_reply_token(self._keys, token, today=self._clock().date())
            if check.valid and check.thread is not None:
                customer = self._thread_customer(check.thread)
                if customer is not None:
                    return _Candidate(check.thread, customer, "reply address")
            elif check.problem is ReplyTokenProblem.EXPIRED:
                notes.append("This email was sent to a reply address that has expired.")
            else:
                notes.append("This email was sent to a reply address that isn't one of ours.")
            break
        for message_id in message.thread_ids[:10]:
            known = self._records.thread_of(message_id)
            if known is not None:
                return _Candidate(known.thread, known.customer_id, "headers")
        return None

    def _thread_customer(self, thread: Thread) -> str | None:
        if thread.kind is ThreadKind.TICKET:
            ticket = self._tickets.get_ticket(thread.id)
            return ticket.customer_id if ticket else None
        conversation = self._conversations.get_conversation(thread.id)
        return conversation.customer_id if conversation else None

    def _is_the_threads_customer(self, candidate: _Candidate, sender: Mailbox, received: ReceivedEmail) -> bool:
        """The sender's address is the one this thread's customer is reached at, and DMARC didn't fail."""
        if received.dmarc_failed:
            return False
        addresses: set[str] = set()
        state = self._records.thread(candidate.thread)
        if state is not None and state.customer_address:
            addresses.add(normalize_address(state.customer_address))
        customer = self._customers.get_customer(candidate.customer_id)
        if customer is not None and customer.email:
            addresses.add(normalize_address(customer.email))
        if candidate.thread.kind is ThreadKind.CONVERSATION:
            conversation = self._conversations.get_conversation(candidate.thread.id)
            if conversation is not None and conversation.customer_email:
                addresses.add(normalize_address(conversation.customer_email))
        return sender.normalized in addresses

    def _describe(self, thread: Thread) -> str:
        if thread.kind is ThreadKind.TICKET:
            ticket = self._tickets.get_ticket(thread.id)
            return f"ticket #{ticket.number}" if ticket else "a ticket"
        return f"conversation {thread.id}"

    # --- writing ---------------------------------------------------------------------------------

    def _join(
        self,
        candidate: _Candidate,
        message: ParsedEmail,
        sender: Mailbox,
        at: datetime,
        seed: str,
        flags: tuple[str, ...],
    ) -> Ingested:
        text = reply_text(message)
        files, skipped = files_to_keep(message, text.kept_images, self._channel.max_attachment_bytes)
        owner = candidate.customer_id
        refs = self._store_files(files, owner, at, seed)
        body = _fit(text.body) or ("(no text)" if not refs else "")
        principal = CustomerPrincipal(user_id=owner, email=sender.address, name=sender.name or None)
        thread = candidate.thread
        notes = [*flags, *skipped_note(skipped)]
        if thread.kind is ThreadKind.TICKET:
            reply_id = derived_id(at, f"{seed}:reply")
            try:
                self._replies.reply_as_customer(principal, thread.id, body, refs, reply_id=reply_id)
            except Conflict:
                if not self._tickets.has_part(thread.id, reply_id):
                    raise
            for index, note in enumerate(notes):
                self._tickets.add_ticket_part(
                    TicketPart(
                        id=derived_id(at, f"{seed}:note:{index}", order=index + 1),
                        ticket_id=thread.id,
                        type=PartType.NOTE,
                        author=CHANNEL_AUTHOR,
                        body=note,
                        visible_to_customer=False,
                        created_at=at,
                    )
                )
            outcome = Outcome.TICKET_REPLY
        else:
            self._append(thread.id, owner, principal.author, body, refs, at, seed, notes)
            outcome = Outcome.CONVERSATION_REPLY
        self._remember(thread, owner, message, sender, at)
        return Ingested(outcome, candidate.via, thread, flags, customer_id=owner)

    def _append(
        self,
        conversation_id: str,
        owner: str,
        author: Author,
        body: str,
        refs: list[AttachmentRef],
        at: datetime,
        seed: str,
        notes: list[str],
    ) -> None:
        conversation = self._conversations.get_conversation(conversation_id)
        if conversation is not None and conversation.status is not ConversationStatus.OPEN:
            # An answer by email reopens the conversation, as a message in the messenger wakes a snoozed one.
            self._conversations.set_conversation_status(
                conversation.model_copy(update={"snoozed_until": None}), ConversationStatus.OPEN, owner=owner
            )
        written = [
            Message(
                id=derived_id(at, f"{seed}:message"),
                conversation_id=conversation_id,
                author=author,
                body=body,
                attachments=refs,
                channel=Channel.EMAIL,
                created_at=at,
            ),
            *self._notes(conversation_id, notes, at, seed),
        ]
        for each in written:
            try:
                self._conversations.add_message(
                    owner,
                    each,
                    preview=None if each.internal else _preview(body, refs),
                    owner=owner,
                    must_be_open=False,
                )
            except ConditionFailed:
                continue  # an earlier attempt wrote it (the ids are derived from the email)

    def _start(
        self,
        message: ParsedEmail,
        sender: Mailbox,
        at: datetime,
        seed: str,
        flags: tuple[str, ...],
        notes: list[str],
    ) -> Ingested:
        customer = self._customer_for(sender, at, seed)
        text = reply_text(message)
        files, skipped = files_to_keep(message, text.kept_images, self._channel.max_attachment_bytes)
        refs = self._store_files(files, customer.user_id, at, seed)
        body = _fit(text.body) or ("(no text)" if not refs else "")
        conversation_id = derived_id(at, f"{seed}:conversation")
        conversation = Conversation(
            id=conversation_id,
            customer_id=customer.user_id,
            customer_name=sender.name or None,
            customer_email=sender.address,
            status=ConversationStatus.OPEN,
            team_id=self._channel.team,
            context=ContextPackage(locale=message.language[:35]) if message.language else None,
            preview=_preview(body, refs),
            channel=Channel.EMAIL,
            email_subject=message.subject[:300] or None,
            created_at=at,
            updated_at=at,
        )
        first = Message(
            id=derived_id(at, f"{seed}:message"),
            conversation_id=conversation_id,
            author=Author(type=AuthorType.CUSTOMER, id=customer.user_id, name=sender.name or None),
            body=body,
            attachments=refs,
            channel=Channel.EMAIL,
            created_at=at,
        )
        extra = self._notes(conversation_id, [*flags, *notes, *skipped_note(skipped)], at, seed)
        try:
            self._conversations.start_conversation(customer, conversation, first, extra)
        except ConditionFailed:
            if self._conversations.get_conversation(conversation_id) is None:
                raise  # not written before: one of the files was taken meanwhile
        thread = Thread(ThreadKind.CONVERSATION, conversation_id)
        self._remember(thread, customer.user_id, message, sender, at)
        return Ingested(Outcome.CONVERSATION_STARTED, "new", thread, flags, customer_id=customer.user_id)

    def _customer_for(self, sender: Mailbox, at: datetime, seed: str) -> Customer:
        """The customer this address is (a verified messenger customer, or an earlier email's sender),
        or a new unverified email customer. Only a new customer gets the sender's name and address:
        an email never changes what the business told us about a customer."""
        known = self._records.customer_for(sender.address)
        if known is None:
            candidate = f"{EMAIL_CUSTOMER_PREFIX}{derived_id(at, f'{seed}:customer')}"
            known = self._records.claim_address(sender.address, candidate, verified=False, at=at)
        if known.customer_id.startswith(EMAIL_CUSTOMER_PREFIX):
            return Customer(user_id=known.customer_id, email=sender.normalized, name=sender.name or None)
        return Customer(user_id=known.customer_id)

    def _store_files(self, files: list[EmailFile], owner: str, at: datetime, seed: str) -> list[AttachmentRef]:
        def ids(index: int) -> str:
            return derived_id(at, f"{seed}:file:{index}")

        return store_files(files, owner, at=at, ids=ids, storage=self._files, records=self._records)

    def _notes(self, conversation_id: str, notes: list[str], at: datetime, seed: str) -> list[Message]:
        return [
            internal_note(
                conversation_id,
                CHANNEL_AUTHOR,
                note,
                at,
                message_id=derived_id(at, f"{seed}:note:{index}", order=index + 1),
            )
            for index, note in enumerate(notes)
        ]

    def _remember(self, thread: Thread, customer_id: str, message: ParsedEmail, sender: Mailbox, at: datetime) -> None:
        keep = timedelta(days=self._channel.reply_address_days)
        if message.message_id:
            self._records.remember_email(
                thread,
                customer_id,
                message.message_id,
                at=at,
                keep_for=keep,
                subject=message.subject or None,
                customer_address=sender.address if thread.kind is ThreadKind.CONVERSATION else None,
            )


def _fit(body: str) -> str:
    if len(body) <= MAX_MESSAGE_LENGTH:
        return body
    notice = "\n\n[Shortened: the whole email is kept with the original.]"
    return body[: MAX_MESSAGE_LENGTH - len(notice)].rstrip() + notice


def _preview(body: str, refs: list[AttachmentRef]) -> str:
    text = body or ", ".join(f"\U0001f4ce {r.filename}" for r in refs)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "\u2026"
